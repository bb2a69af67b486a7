"""The adversarial table for the exported native policies (ValidatingAdmissionPolicy), evaluated
by the CEL evaluator of tests/export on the captured requests (tests/security/conftest.py)
under the bundled strict policy: the same verdicts as the webhook's for the same requests."""

from __future__ import annotations

from typing import Any

import pytest

from jobguard.export import export_policy
from jobguard.policy import load_policy
from jobguard.webhook import admission
from jobguard.webhook.review import parse_review
from tests.export import k8s_cel
from tests.export.test_admission_parity import as_request, exported
from tests.export.test_parity import VERSION, pattern
from tests.security.conftest import STRICT, captured

POLICY = load_policy([STRICT])


def violating(number: str) -> dict[str, Any]:
    review = captured(number)
    review["request"]["object"]["spec"].update(backoffLimit=500, parallelism=500)
    return review


def by(review: dict[str, Any], username: str) -> dict[str, Any]:
    review["request"]["userInfo"] = {"username": username, "groups": []}
    return review


def suppressing(review: dict[str, Any]) -> dict[str, Any]:
    review["request"]["object"]["metadata"]["annotations"] = {
        "suppress.jobguard.dev/backoff-limit": "reviewed by us"
    }
    return review


ROWS = {
    "forged-owner": (captured("031"), True),
    "scheduled-run": (violating("029"), False),
    "scheduled-run-by-a-user": (by(violating("029"), "admin"), True),
    "self-suppressed-deny-rule": (suppressing(captured("031")), True),
    "ratchet-unchanged-value": (captured("039"), False),
    "ratchet-changed-value": (captured("041"), True),
}


@pytest.mark.parametrize(("review", "denied"), ROWS.values(), ids=ROWS.keys())
def test_the_exported_policies_decide_as_the_webhook(review: dict[str, Any], denied: bool) -> None:
    objects, native = exported(POLICY)
    failures = k8s_cel.validate(objects, as_request(review))
    denials = {(f.rule, f.path) for f in failures if f.action == "Deny"}
    outcome = admission.validate(parse_review(review), POLICY, VERSION)
    assert (outcome.decision == admission.DENIED) is denied
    assert bool(denials) is denied
    assert denials == {(f.rule, pattern(f.field)) for f in outcome.blocking if f.rule in native}


def test_the_scheduled_run_test_asks_who_made_the_request() -> None:
    objects, _ = exported(POLICY)
    conditions = [
        c["expression"]
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicy"
        for c in o["spec"].get("matchConditions", [])
        if c["name"] == "not-a-scheduled-run"
    ]
    assert conditions  # every deny policy has it
    assert all("request.userInfo.username in [" in c for c in conditions)
    assert all("r.controller && r.kind == 'CronJob'" in c for c in conditions)


def test_a_deny_rule_has_no_suppression_match_condition() -> None:
    objects, _ = exported(POLICY)
    names = {
        o["metadata"]["annotations"]["jobguard.dev/rule"]: [
            c["name"] for c in o["spec"].get("matchConditions", [])
        ]
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicy"
    }
    assert "not-suppressed" not in names["backoff-limit"]


def test_the_server_side_apply_evidence_the_native_mutations_lack_is_a_declared_gap() -> None:
    # 032: /mutate keeps flux's backoffLimit 6; the exported MutatingAdmissionPolicy cannot
    # read managedFields and replaces it: the export says so instead of pretending parity.
    review = captured("032")
    objects, _ = exported(POLICY)
    assert k8s_cel.mutate(objects, as_request(review))["spec"]["backoffLimit"] == 3
    export = export_policy(POLICY, VERSION)
    assert any("server-side apply" in gap for gap in export.admission_gaps)
