"""The linter and the cluster fix alike: over every rule fixture (tests/fixtures/rules) and each
bundled policy (policies/), the object ``lint --fix`` writes, once the API server has defaulted
it, equals the object the API server would store from the original manifest: defaulted, handed
to the mutating webhook (``kubectl apply``'s record of the manifest in its annotation, as on a
real cluster), and patched with the webhook's JSON Patch (applied with jsonpatch, not with
jobguard's own code).

``lint --fix`` leaves out what only restates an API default (``restated_api_defaults: info``);
the webhook may write it. A CronJob's job template is not defaulted as a Job when the CronJob is
stored, only each Job the controller creates from it: both sides are compared as those Jobs are
defaulted too, which is where the values take effect.

A document the API server cannot decode as written (an unknown field, a value of the wrong
type) is refused by ``kubectl apply`` (strict field validation) before any webhook sees it, and
decoding drops unknown fields under the other modes: no webhook ever receives such an object,
so it is compared only where the API server would let it through.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from jobguard.core.jsoncopy import copy_json
from jobguard.core.kubernetes.apiserver import default_cronjob, default_job, default_job_spec
from jobguard.core.kubernetes.schema import structure_errors
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.subject import LAST_APPLIED
from jobguard.lint.fix import plan_fix
from jobguard.lint.linter import lint_bytes
from jobguard.policy import Policy, load_policy
from jobguard.webhook import admission
from jobguard.webhook.review import parse_review
from jobguard.yamlsource import parse_stream
from tests.helpers import RULE_FIXTURES
from tests.webhook.support import patch_ops, review_for

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml") if p.stem != "Kustomization")
FIXTURES = sorted(RULE_FIXTURES.glob("*/*.yaml"))
_LOADED: dict[str, Policy] = {}


def _policy(name: str) -> Policy:
    if name not in _LOADED:
        _LOADED[name] = load_policy([str(ROOT / "policies" / f"{name}.yaml")])
    return _LOADED[name]


def _version(path: Path) -> Version:
    for line in path.read_text().splitlines():
        if line.startswith("# version:"):
            major, minor = line.split(":", 1)[1].strip().split(".")
            return (int(major), int(minor))
    return DEFAULT_KUBERNETES_VERSION


def kubectl_applied(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` as ``kubectl apply`` sends it: with its record of the manifest."""
    out = copy_json(manifest)
    metadata = out.setdefault("metadata", {})
    annotations = metadata.setdefault("annotations", {})
    annotations[LAST_APPLIED] = json.dumps(manifest, sort_keys=True)
    return out


def api_defaulted(obj: dict[str, Any], version: Version) -> dict[str, Any]:
    """What the mutating webhook is sent: the object after the API server's defaulting."""
    out = copy_json(obj)
    if out.get("kind") == "Job":
        default_job(out, version)
    else:
        default_cronjob(out, version)
    return out


def as_run(obj: dict[str, Any], version: Version) -> dict[str, Any]:
    """A stored object as its Jobs run: a CronJob's job template defaulted as each Job the
    controller creates from it is (a Job is already)."""
    out = copy_json(obj)
    if out.get("kind") == "CronJob":
        job_spec = out["spec"].get("jobTemplate", {}).get("spec")
        if isinstance(job_spec, dict):
            default_job_spec(job_spec, version)
    return out


def _judged(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("apiVersion") == "batch/v1"
        and data.get("kind") in ("Job", "CronJob")
        and isinstance(data.get("spec"), dict)
    )


@pytest.mark.parametrize("policy_name", POLICIES)
@pytest.mark.parametrize(
    "fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}" if isinstance(p, Path) else p
)
def test_lint_fix_writes_what_the_mutating_webhook_admits(fixture: Path, policy_name: str) -> None:
    policy = _policy(policy_name)
    version = _version(fixture)
    raw = fixture.read_bytes()
    planned = plan_fix(lint_bytes(str(fixture), raw, policy), raw)
    if planned.refused:
        pytest.skip(f"lint --fix leaves this file alone: {planned.refused}")
    before = parse_stream(raw).documents
    after = parse_stream(planned.fixed).documents
    assert len(before) == len(after)
    compared = 0
    undecodable = 0
    for original, fixed in zip(before, after, strict=True):
        if not _judged(original.data):
            continue
        if structure_errors(original.data, version):
            undecodable += 1
            continue
        sent = api_defaulted(kubectl_applied(original.data), version)
        outcome = admission.mutate(parse_review(review_for(sent)), policy, version)
        ops = patch_ops(json.loads(outcome.answer.body))
        admitted = jsonpatch.JsonPatch(ops).apply(sent)
        # The annotation records the manifest as written, not as fixed: compare without it.
        linted = api_defaulted(kubectl_applied(original.data), version)
        linted_fixed = api_defaulted(fixed.data, version)
        linted_fixed["metadata"]["annotations"] = linted["metadata"]["annotations"]
        assert as_run(admitted, version) == as_run(linted_fixed, version), (fixture.name, ops)
        compared += 1
    if undecodable and not compared:
        pytest.skip("the API server cannot decode this file's objects: no webhook sees them")
    if not compared:
        pytest.skip("no batch/v1 Job or CronJob with a spec map in this file")


def test_the_property_covers_fixed_files_under_each_policy() -> None:
    """Not vacuous: under each bundled policy, many fixture files get fixes."""
    for name in POLICIES:
        fixed = 0
        for fixture in FIXTURES:
            raw = fixture.read_bytes()
            planned = plan_fix(lint_bytes(str(fixture), raw, _policy(name)), raw)
            fixed += planned.changed
        assert fixed >= 20, (name, fixed)
