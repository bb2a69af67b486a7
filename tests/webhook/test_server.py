"""The real server (gunicorn, 2 workers, TLS with a test CA) answering the captured API-server
requests of tests/fixtures/admission and variations of them, under tests/fixtures/policies/
webhook.yaml (restart-policy deny with allowed [Never]; active-deadline warn above 3600 s; suppression
audit; every other rule off)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jobguard.lint.linter import lint_bytes
from jobguard.policy import load_policy
from tests.webhook.support import (
    WEBHOOK_POLICY,
    Server,
    all_rules_off,
    apply_patch,
    fixture_object,
    load_review,
    patch_ops,
    review_for,
)

RESTART = "/spec/template/spec/restartPolicy"
CRON_RESTART = "/spec/jobTemplate/spec/template/spec/restartPolicy"

#: Exact patch of the mutating webhook for each captured mutating request.
MUTATE_PATCHES: dict[str, list[dict[str, Any]]] = {
    "001-mutate-Job-CREATE-pi.json": [],  # restartPolicy Never already
    "003-mutate-Job-CREATE-noname.json": [{"op": "replace", "path": RESTART, "value": "Never"}],
    "004-mutate-Job-CREATE-noname.json": [],  # OnFailure: changing it is not a safe fix
    "006-mutate-Job-CREATE-indexed-render.json": [],
    "008-mutate-Job-CREATE-adopt-old.json": [],
    "010-mutate-CronJob-CREATE-nightly-report.json": [],
    "012-mutate-Job-CREATE-pi-dry.json": [],
    "014-mutate-Job-UPDATE-pi.json": [],  # the UPDATEs introduce no finding
    "016-mutate-Job-UPDATE-pi.json": [],
    "018-mutate-CronJob-UPDATE-nightly-report.json": [],
    "021-mutate-Job-CREATE-from-cron.json": [],
    "023-mutate-Job-CREATE-kubectl-made.json": [],
    "025-mutate-CronJob-CREATE-cleanup-tmp.json": [
        {"op": "replace", "path": CRON_RESTART, "value": "Never"}
    ],
}

DENIED_ONFAILURE = (
    "jobguard policy: [restart-policy] {path}: restartPolicy 'OnFailure' is not allowed by "
    "policy; use Never"
)
JOB_PATH = "spec.template.spec.restartPolicy"
CRON_PATH = "spec.jobTemplate.spec.template.spec.restartPolicy"

#: (allowed, denial message or None, warnings) for each captured validating request.
VALIDATE_ANSWERS: dict[str, tuple[bool, str | None, list[str]]] = {
    "002-validate-Job-CREATE-pi.json": (True, None, []),
    "005-validate-Job-CREATE-primes-xrmf7.json": (
        False,
        DENIED_ONFAILURE.format(path=JOB_PATH),
        [],
    ),
    "007-validate-Job-CREATE-indexed-render.json": (True, None, []),
    "009-validate-Job-CREATE-adopt-old.json": (True, None, []),
    "011-validate-CronJob-CREATE-nightly-report.json": (
        False,
        DENIED_ONFAILURE.format(path=CRON_PATH),
        [],
    ),
    "013-validate-Job-CREATE-pi-dry.json": (True, None, []),
    "015-validate-Job-UPDATE-pi.json": (True, None, []),
    "017-validate-Job-UPDATE-pi.json": (True, None, []),
    # The CronJob had OnFailure before this update: not blocking, shown as a warning.
    "019-validate-CronJob-UPDATE-nightly-report.json": (
        True,
        None,
        [
            "jobguard restart-policy (existing, not blocking): "
            "spec.jobTemplate.spec.template.spec.restartPolicy: restartPolicy 'OnFailure' is "
            "not allowed by policy; use Never"
        ],
    ),
    "020-validate-Job-DELETE-pi.json": (True, None, []),
    "022-validate-Job-CREATE-from-cron.json": (False, DENIED_ONFAILURE.format(path=JOB_PATH), []),
    "024-validate-Job-CREATE-kubectl-made.json": (True, None, []),
}


@pytest.mark.parametrize("name", sorted(MUTATE_PATCHES))
def test_mutating_webhook_answers_each_captured_request_with_the_exact_patch(
    server: Server, name: str
) -> None:
    review = load_review(name)
    answer = server.review("mutate", review)
    response = answer["response"]
    assert response["allowed"] is True
    assert patch_ops(answer) == MUTATE_PATCHES[name]
    expected_warnings = [
        f"jobguard restart-policy: {op['path'][1:].replace('/', '.')}: set restartPolicy: Never"
        for op in MUTATE_PATCHES[name]
    ]
    assert response.get("warnings", []) == expected_warnings
    assert ("patchType" in response) == bool(MUTATE_PATCHES[name])


@pytest.mark.parametrize(
    "name", ["003-mutate-Job-CREATE-noname.json", "025-mutate-CronJob-CREATE-cleanup-tmp.json"]
)
def test_patched_object_lints_clean_of_the_fixed_findings(
    server: Server, tmp_path: Any, name: str
) -> None:
    review = load_review(name)
    obj = review["request"]["object"]
    policy = load_policy([str(all_rules_off(tmp_path)), str(WEBHOOK_POLICY)])
    before = lint_bytes("before.json", _json(obj), policy)
    assert [lf.finding.rule for o in before.objects for lf in o.findings] == ["restart-policy"]
    patched = apply_patch(obj, server.review("mutate", review))
    after = lint_bytes("after.json", _json(patched), policy)
    assert [lf.finding.rule for o in after.objects for lf in o.findings] == []


def test_a_job_rescued_by_the_mutating_webhook_passes_the_validating_one(server: Server) -> None:
    review = load_review("003-mutate-Job-CREATE-noname.json")  # restartPolicy Always: invalid
    obj = review["request"]["object"]
    assert server.review("validate", review_for(obj))["response"]["allowed"] is False
    patched = apply_patch(obj, server.review("mutate", review))
    second = review_for(patched)
    assert server.review("validate", second)["response"] == {
        "uid": second["request"]["uid"],
        "allowed": True,
    }


@pytest.mark.parametrize("name", sorted(n for n, ops in MUTATE_PATCHES.items() if ops))
def test_mutating_webhook_is_idempotent_for_reinvocation(server: Server, name: str) -> None:
    review = load_review(name)
    patched = apply_patch(review["request"]["object"], server.review("mutate", review))
    again = review_for(patched)
    assert server.review("mutate", again)["response"] == {
        "uid": again["request"]["uid"],
        "allowed": True,
    }


@pytest.mark.parametrize("name", sorted(VALIDATE_ANSWERS))
def test_validating_webhook_answers_each_captured_request(server: Server, name: str) -> None:
    allowed, message, warnings = VALIDATE_ANSWERS[name]
    response = server.review("validate", load_review(name))["response"]
    assert response["allowed"] is allowed
    assert response.get("warnings", []) == warnings
    assert "patch" not in response and "patchType" not in response
    if message is None:
        assert "status" not in response
    else:
        assert response["status"] == {"code": 403, "reason": "Forbidden", "message": message}


def test_validating_webhook_turns_warn_level_findings_into_short_warnings(server: Server) -> None:
    obj = fixture_object("002-validate-Job-CREATE-pi.json")
    obj["spec"]["activeDeadlineSeconds"] = 7200
    response = server.review("validate", review_for(obj))["response"]
    assert response["allowed"] is True
    assert response["warnings"] == [
        "jobguard active-deadline: spec.activeDeadlineSeconds: activeDeadlineSeconds 7200 is "
        "above the policy's maximum 3600"
    ]
    assert all(len(w) < 120 for w in response["warnings"])


def test_audit_level_findings_are_only_logged_and_counted(server: Server) -> None:
    obj = fixture_object("002-validate-Job-CREATE-pi.json")
    obj["metadata"]["annotations"]["suppress.jobguard.dev/no-such-rule"] = "legacy"
    review = review_for(obj)
    before = server.metric(
        "jobguard_findings_total", webhook="validate", rule="suppression", action="audit"
    )
    response = server.review("validate", review)["response"]
    assert response == {"uid": review["request"]["uid"], "allowed": True}
    after = server.metric(
        "jobguard_findings_total", webhook="validate", rule="suppression", action="audit"
    )
    assert after == before + 1
    line = _log_line(server, review["request"]["uid"])
    assert line["rules"] == ["suppression@metadata.annotations[suppress.jobguard.dev/no-such-rule]"]


def test_deny_names_every_rule_and_field_path(server: Server) -> None:
    obj = fixture_object("011-validate-CronJob-CREATE-nightly-report.json")
    obj["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] = 86400
    response = server.review("validate", review_for(obj))["response"]
    assert response["allowed"] is False
    assert response["status"]["message"] == DENIED_ONFAILURE.format(path=CRON_PATH)
    assert response["warnings"] == [
        # the rule and field path whole, and the message after them (room for 80 characters)
        "jobguard active-deadline: spec.jobTemplate.spec.activeDeadlineSeconds: "
        "activeDeadlineSeconds 86400 is above the policy's maximum 3600"
    ]


def test_update_that_introduces_a_violation_is_denied(server: Server) -> None:
    old = fixture_object("019-validate-CronJob-UPDATE-nightly-report.json")
    old["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    new = copy.deepcopy(old)
    new["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    response = server.review("validate", review_for(new, operation="UPDATE", old=old))["response"]
    assert response["allowed"] is False
    assert response["status"]["message"] == DENIED_ONFAILURE.format(path=CRON_PATH)


def test_legacy_job_still_takes_label_and_finalizer_changes(server: Server) -> None:
    old = fixture_object("022-validate-Job-CREATE-from-cron.json")  # OnFailure: now a violation
    new = copy.deepcopy(old)
    new["metadata"].setdefault("labels", {})["team"] = "data"
    new["metadata"]["finalizers"] = ["example.com/cleanup"]
    for webhook in ("mutate", "validate"):
        answer = server.review(webhook, review_for(new, operation="UPDATE", old=old))
        assert answer["response"]["allowed"] is True
        assert patch_ops(answer) == []


def test_delete_is_allowed_without_looking_at_the_object(server: Server) -> None:
    review = load_review("020-validate-Job-DELETE-pi.json")
    assert review["request"]["object"] is None
    for webhook in ("mutate", "validate"):
        response = server.review(webhook, review)["response"]
        assert response == {"uid": review["request"]["uid"], "allowed": True}


def test_dry_run_gets_the_same_answer(server: Server) -> None:
    review = load_review("003-mutate-Job-CREATE-noname.json")
    dry = copy.deepcopy(review)
    dry["request"]["dryRun"] = True
    assert server.review("mutate", dry) == server.review("mutate", review)
    validate = load_review("005-validate-Job-CREATE-primes-xrmf7.json")
    dry_validate = copy.deepcopy(validate)
    dry_validate["request"]["dryRun"] = True
    assert server.review("validate", dry_validate) == server.review("validate", validate)


def test_namespace_excluded_by_policy_scope_is_not_judged(server: Server) -> None:
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    obj["metadata"]["namespace"] = "jobguard-exempt"
    review = review_for(obj)
    assert server.review("validate", review)["response"] == {
        "uid": review["request"]["uid"],
        "allowed": True,
    }


def test_object_that_is_not_a_job_is_allowed_with_a_warning(server: Server) -> None:
    review = review_for(fixture_object("002-validate-Job-CREATE-pi.json"))
    review["request"]["kind"] = {"group": "apps", "version": "v1", "kind": "Deployment"}
    review["request"]["object"] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}}
    for webhook in ("mutate", "validate"):
        response = server.review(webhook, review)["response"]
        assert response == {
            "uid": review["request"]["uid"],
            "allowed": True,
            "warnings": [
                "jobguard checks batch/v1 Job and CronJob only; apps/v1 Deployment was not checked"
            ],
        }


def test_each_request_logs_one_json_line_without_object_contents(server: Server) -> None:
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "DB_PASSWORD", "value": "hunter2-s3cret"}]
    review = review_for(obj)
    server.review("validate", review)
    line = _log_line(server, review["request"]["uid"])
    assert {k: v for k, v in line.items() if k not in ("time", "duration_ms", "pid")} == {
        "level": "info",
        "event": "admission",
        "webhook": "validate",
        "uid": review["request"]["uid"],
        "kind": "Job",
        "namespace": "batch-demo",
        "name": "primes-xrmf7",
        "operation": "CREATE",
        "user": "alice",
        "dry_run": False,
        "decision": "denied",
        "status": 200,
        "rules": ["restart-policy@spec.template.spec.restartPolicy"],
        "denied_by": ["restart-policy@spec.template.spec.restartPolicy"],
    }
    assert 0 < line["duration_ms"] < 5000
    log = server.log_path.read_text()
    assert "hunter2" not in log and "DB_PASSWORD" not in log


def test_metrics_count_every_request_across_both_workers(server: Server) -> None:
    import time

    import requests

    labels = {"webhook": "validate", "kind": "Job", "operation": "CREATE", "decision": "allowed"}
    before = server.metric("jobguard_admission_requests_total", **labels)
    review = load_review("024-validate-Job-CREATE-kubectl-made.json")
    pids: set[Any] = set()
    for _ in range(40):  # fresh connections, so both workers get some
        with requests.Session() as s:
            r = s.post(
                f"{server.url}/validate", json=review, verify=str(server.ca_path), timeout=10
            )
            assert r.status_code == 200 and r.json()["response"]["allowed"] is True
    deadline = time.monotonic() + 5  # request lines are written within a fraction of a second
    while len(pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = {
            line.get("pid")
            for line in server.log_lines()
            if line.get("uid") == review["request"]["uid"]
        }
    assert len(pids) == 2, "both workers should have answered some of the 40 connections"
    assert server.metric("jobguard_admission_requests_total", **labels) == before + 40
    assert server.metric("jobguard_admission_duration_seconds_count", webhook="validate") >= 40
    assert server.metric("jobguard_certificate_expiry_timestamp_seconds") > 0


def test_health_and_readiness(server: Server) -> None:
    assert server.get("/healthz").json() == {"status": "ok"}
    ready = server.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert body["policy"]["stale"] is False and body["policy"]["rejected_error"] is None
    assert body["policy"]["sources"][-1].endswith("webhook.yaml")


def _json(obj: Any) -> bytes:
    import json

    return json.dumps(obj).encode()


def _log_line(server: Server, uid: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [line for line in server.log_lines() if line.get("uid") == uid]
        if found:
            assert len(found) == 1
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no log line for {uid}")
