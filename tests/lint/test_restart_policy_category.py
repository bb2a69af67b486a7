"""A missing, Always or unknown restartPolicy is one finding, the policy's (it carries the fix),
with ``category: api``: the API server rejects that Job as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobguard.policy import load_policy
from jobguard.policy.loader import BUILTIN_PREFIX
from tests.helpers import lint_text

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:%s
      containers: [{name: pi, image: perl}]
"""


def restart_findings(text: str, policy: str = "default") -> list[tuple[str, str, str]]:
    result = lint_text(text, load_policy([f"{BUILTIN_PREFIX}{policy}"]))
    return [
        (lf.finding.rule, lf.finding.category.value, lf.finding.field)
        for obj in result.objects
        for lf in obj.findings
        if "restart" in lf.finding.rule
    ]


@pytest.mark.parametrize(
    "line", ["", "\n      restartPolicy: Always", "\n      restartPolicy: Sometimes"]
)
def test_one_finding_with_the_fix_and_category_api(line: str) -> None:
    assert restart_findings(JOB % line) == [
        ("restart-policy", "api", "spec.template.spec.restartPolicy")
    ]


def test_a_value_the_api_accepts_but_the_policy_does_not_stays_a_policy_finding(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "never.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  restart-policy: {action: deny, allowed: [Never], default: Never}\n"
    )
    result = lint_text(JOB % "\n      restartPolicy: OnFailure", load_policy([str(policy)]))
    assert [
        (lf.finding.rule, lf.finding.category.value)
        for obj in result.objects
        for lf in obj.findings
        if "restart" in lf.finding.rule
    ] == [("restart-policy", "policy")]
