"""Each finding's JSON Patch in the report applies on its own to the object as written, and
adds exactly that finding's field, even when a parent (here the whole spec) is missing."""

from __future__ import annotations

import jsonpatch

from jobguard.core.paths import lookup
from tests.helpers import lint_text, load_yaml

NO_SPEC = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: nospec}\n"
NO_TEMPLATE_SPEC = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: x}}
"""


def check_each_patch_alone(text: str) -> int:
    original = load_yaml(text)
    result = lint_text(text)
    applied = 0
    for obj in result.objects:
        for located in obj.findings:
            finding = located.finding
            if finding.fix is None or not finding.patch:
                continue
            patched = jsonpatch.apply_patch(original, list(finding.patch))
            assert lookup(patched, finding.path) is not None, finding.field
            assert patched["metadata"] == original["metadata"]
            applied += 1
    return applied


def test_with_spec_missing_every_patch_applies_alone() -> None:
    assert check_each_patch_alone(NO_SPEC) >= 4


def test_with_the_pod_spec_missing_every_patch_applies_alone() -> None:
    assert check_each_patch_alone(NO_TEMPLATE_SPEC) >= 3
