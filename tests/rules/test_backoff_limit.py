"""backoff-limit (JG103): default and maximum, backoffLimitPerIndex, admission objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.rules._job_policy_support import (
    CRONJOB_CONTROLLER,
    admission_object,
    cronjob,
    findings,
    job,
    policy,
    policy_problems,
    report,
    scheduled_run,
)

RULE = "backoff-limit"
MAX_INT32 = 2147483647
PER_INDEX: dict[str, Any] = {"completionMode": "Indexed", "completions": 10, "parallelism": 5}


def test_an_unset_limit_gets_the_policy_default_as_a_safe_fix(tmp_path: Path) -> None:
    rep = report(job(), RULE)
    assert [(f.field, f.message) for f in rep.findings] == [
        ("spec.backoffLimit", "backoffLimit is not set; the policy's default is 6 retries")
    ]
    assert rep.fixed()[1] == [{"op": "add", "path": "/spec/backoffLimit", "value": 6}]
    pol = policy(tmp_path, RULE, "    default: 3\n")
    rep = report(cronjob(), RULE, policy=pol)
    assert [f.field for f in rep.findings] == ["spec.jobTemplate.spec.backoffLimit"]
    assert rep.fixed()[1] == [
        {"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 3}
    ]


def test_a_limit_above_the_maximum_gets_only_an_unsafe_fix(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    default: 3\n    max: 6\n")
    rep = report(cronjob(backoffLimit=10), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        ("spec.jobTemplate.spec.backoffLimit", "backoffLimit 10 is above the policy's maximum 6")
    ]
    fix = rep.findings[0].fix
    assert fix is not None and not fix.safe and fix.title == "set backoffLimit: 6"
    assert rep.fixed()[1] == []


def test_without_a_default_only_an_api_default_above_the_maximum_is_filled(
    tmp_path: Path,
) -> None:
    pol = policy(tmp_path, RULE, "    default: null\n    max: 4\n")
    rep = report(job(), RULE, policy=pol)
    assert [f.message for f in rep.findings] == [
        "backoffLimit is not set; the policy's maximum is 4 retries"
    ]
    assert rep.fixed()[1] == [{"op": "add", "path": "/spec/backoffLimit", "value": 4}]
    pol = policy(tmp_path, RULE, "    default: null\n    max: 10\n")
    assert findings(job(), RULE, policy=pol) == []


def test_a_job_with_backoff_limit_per_index_is_never_given_a_backoff_limit() -> None:
    rep = report(job(backoffLimitPerIndex=2, **PER_INDEX), RULE)
    assert rep.findings == ()
    assert "backoffLimit" not in rep.fixed()[0]["spec"]


def test_an_explicit_limit_beside_the_per_index_one_is_still_capped(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max: 6\n")
    assert findings(
        job(backoffLimitPerIndex=2, backoffLimit=50, **PER_INDEX), RULE, policy=pol
    ) == [("spec.backoffLimit", "backoffLimit 50 is above the policy's maximum 6")]


def test_zero_and_mistyped_limits(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max: 6\n")
    assert findings(job(backoffLimit=0), RULE, policy=pol) == []
    assert findings(job(backoffLimit="many"), RULE, policy=pol) == []


# -- admission: objects after the API server's defaulting -----------------------------------


def test_a_defaulted_six_counts_as_unset_and_takes_the_policy_default(tmp_path: Path) -> None:
    obj = admission_object("023-mutate-Job-CREATE-kubectl-made")
    assert obj["spec"]["backoffLimit"] == 6
    assert report(obj, RULE, defaulted=True).findings == ()  # policy default 6: no patch
    pol = policy(tmp_path, RULE, "    default: 3\n")
    rep = report(obj, RULE, policy=pol, defaulted=True)
    assert [f.message for f in rep.findings] == [
        "backoffLimit is not set (the API server's default 6 applies); the policy's default "
        "is 3 retries"
    ]
    assert rep.fixed()[1] == [{"op": "replace", "path": "/spec/backoffLimit", "value": 3}]
    # The same object linted as a file: 6 is the user's own value.
    assert report(obj, RULE, policy=pol).findings == ()


def test_a_six_the_user_wrote_is_kept_when_kubectl_recorded_it(tmp_path: Path) -> None:
    obj = admission_object("023-mutate-Job-CREATE-kubectl-made")
    applied = {"kind": "Job", "spec": {"backoffLimit": 6}}
    pol = policy(tmp_path, RULE, "    default: 3\n")
    assert report(obj, RULE, policy=pol, defaulted=True, applied=applied).findings == ()


def test_a_value_the_user_set_survives_admission(tmp_path: Path) -> None:
    obj = admission_object("001-mutate-Job-CREATE-pi")  # backoffLimit: 4 in the manifest
    pol = policy(tmp_path, RULE, "    default: 3\n    max: 6\n")
    assert report(obj, RULE, policy=pol, defaulted=True).findings == ()


def test_the_defaulted_max_int32_beside_a_per_index_limit_is_left_alone(tmp_path: Path) -> None:
    obj = admission_object("023-mutate-Job-CREATE-kubectl-made")
    obj["spec"].update(PER_INDEX, backoffLimitPerIndex=2, backoffLimit=MAX_INT32)
    pol = policy(tmp_path, RULE, "    default: 3\n    max: 6\n")
    rep = report(obj, RULE, policy=pol, defaulted=True)
    assert rep.findings == ()
    assert rep.fixed()[1] == []


def test_options_are_validated_when_the_policy_loads(tmp_path: Path) -> None:
    assert policy_problems(tmp_path, RULE, "    default: 8\n    max: 4\n") == [
        (5, 5, "rules.backoff-limit.default: default (8) must not exceed max (4)")
    ]
    assert policy_problems(tmp_path, RULE, "    max: -1\n") == [
        (5, 5, "rules.backoff-limit.max: must be 0 or more")
    ]
    assert policy_problems(tmp_path, RULE, "    default: three\n") == [
        (5, 5, "rules.backoff-limit.default: must be an integer or null, not 'three'")
    ]


def test_a_scheduled_run_is_judged_through_its_cronjob(tmp_path: Path) -> None:
    owned = scheduled_run()
    owned["spec"]["backoffLimit"] = 6  # maybe the template's own 6: not ours to replace
    pol = policy(tmp_path, RULE, "    default: 3\n    max: 10\n")
    controller = {"requester": CRONJOB_CONTROLLER}
    assert report(owned, RULE, policy=pol, defaulted=True, **controller).findings == ()
    owned["spec"]["backoffLimit"] = 50  # the validating webhook must not stop the CronJob's run
    assert report(owned, RULE, policy=pol, **controller).findings == ()
    # The same ownerReference from a user (a forged owner) or in a file is judged as any Job.
    assert [f.field for f in report(owned, RULE, policy=pol, requester="admin").findings] == [
        "spec.backoffLimit"
    ]
    assert [f.field for f in report(owned, RULE, policy=pol).findings] == ["spec.backoffLimit"]


def test_the_validating_webhook_view_of_a_per_index_job_is_not_denied(tmp_path: Path) -> None:
    # The validating webhook reads the stored (defaulted) object as a plain manifest.
    stored = job(backoffLimitPerIndex=2, backoffLimit=MAX_INT32, **PER_INDEX)
    pol = policy(tmp_path, RULE, "    action: deny\n    default: 3\n    max: 10\n")
    assert report(stored, RULE, policy=pol).findings == ()
    # Without the per-index limit, a huge explicit value is what it looks like.
    del stored["spec"]["backoffLimitPerIndex"]
    assert findings(stored, RULE, policy=pol) == [
        ("spec.backoffLimit", f"backoffLimit {MAX_INT32} is above the policy's maximum 10")
    ]
