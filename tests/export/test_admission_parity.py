"""Parity on real admission requests (captured from kube-apiserver v1.36, tests/fixtures/admission):
the exported policies decide and default as the webhook does for the very requests it received,
UPDATEs with their oldObject and the CronJob controller's own requests included."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from jobguard.export import export_policy, render_yaml
from jobguard.policy import Policy, load_policy
from jobguard.policy.loader import bundled_policy_dir
from jobguard.webhook import admission
from jobguard.webhook.review import parse_review
from tests.export import k8s_cel
from tests.export.test_parity import ACTIONS, VERSION, pattern
from tests.helpers import FIXTURES, POLICY_FIXTURES

ADMISSION = FIXTURES / "admission"
POLICY_FILES = {
    "default": [str(bundled_policy_dir() / "default.yaml")],
    "strict": [str(bundled_policy_dir() / "strict.yaml")],
    "webhook": [str(POLICY_FIXTURES / "webhook.yaml")],
}


def exported(policy: Policy) -> tuple[list[dict[str, Any]], frozenset[str]]:
    export = export_policy(policy, VERSION)
    native = frozenset(r.rule.name for r in export.rules if r.translation.checks)
    return list(yaml.safe_load_all(render_yaml(export))), native


def requests(kind: str) -> list[Path]:
    return sorted(ADMISSION.glob(f"*-{kind}-*.json"))


def as_request(document: dict[str, Any]) -> k8s_cel.Request:
    request = document["request"]
    return k8s_cel.Request(
        request["object"],
        operation=request["operation"],
        namespace=request["namespace"],
        username=request["userInfo"]["username"],
        old=request.get("oldObject"),
    )


@pytest.mark.parametrize("policy_name", sorted(POLICY_FILES))
@pytest.mark.parametrize("path", requests("validate"), ids=lambda p: p.stem)
def test_validating_policies_match_validate_on_real_requests(path: Path, policy_name: str) -> None:
    document = json.loads(path.read_text())
    if document["request"]["operation"] not in ("CREATE", "UPDATE"):
        pytest.skip("only CREATE and UPDATE are judged")
    policy = load_policy(POLICY_FILES[policy_name])
    objects, native = exported(policy)
    outcome = admission.validate(parse_review(document), policy, VERSION)
    failures = k8s_cel.validate(objects, as_request(document))
    denied = any(f.action == "Deny" for f in failures)
    assert denied == (outcome.decision == admission.DENIED)
    blocking = {(f.rule, pattern(f.field)) for f in outcome.blocking if f.rule in native}
    assert {(f.rule, f.path) for f in failures if f.action == "Deny"} == blocking
    review = parse_review(document)
    subject = admission.request_subject(review, policy, VERSION, defaulted=False)
    if review.operation == "CREATE" and subject is not None and not subject.scheduled_run:
        # An UPDATE keeping an old violation and a scheduled run get warnings from the webhook
        # in place of a denial; the native deny policies let them through silently
        # (docs/native.md). Everything else is the same finding for finding.
        webhook = {
            (f.rule, pattern(f.field), ACTIONS[f.action.value])
            for f in outcome.findings
            if f.rule in native
        }
        assert {(f.rule, f.path, f.action) for f in failures} == webhook


@pytest.mark.parametrize("policy_name", sorted(POLICY_FILES))
@pytest.mark.parametrize("path", requests("mutate"), ids=lambda p: p.stem)
def test_mutating_policies_match_mutate_on_real_requests(path: Path, policy_name: str) -> None:
    document = json.loads(path.read_text())
    if document["request"]["operation"] != "CREATE":
        # /mutate fixes on UPDATE only what the update introduced (compared with oldObject); the
        # native mutations default a CronJob's template on every UPDATE (docs/native.md).
        pytest.skip("UPDATE: the webhook fixes only what the update introduced")
    policy = load_policy(POLICY_FILES[policy_name])
    objects, _native = exported(policy)
    outcome = admission.mutate(parse_review(document), policy, VERSION)
    patch = outcome.answer.review["response"].get("patch")
    ops = json.loads(base64.b64decode(patch)) if patch else []
    obj = document["request"]["object"]
    assert k8s_cel.mutate(objects, as_request(document)) == jsonpatch.apply_patch(obj, ops)
