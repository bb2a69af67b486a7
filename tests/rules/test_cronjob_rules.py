"""The CronJob policy rules (JG112-JG115): messages, fixes and their safety, admission objects."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from jobguard.core.view import JobView
from jobguard.policy import PolicyError, load_policy
from jobguard.rules.cronjob_concurrency import user_set_value
from jobguard.rules.cronjob_schedule import describe_interval
from tests.helpers import evaluate_obj
from tests.rules._single_rule import found, report_of

CRON_RULES = (
    "cronjob-schedule",
    "cronjob-concurrency",
    "cronjob-starting-deadline",
    "cronjob-history-limits",
)


def cronjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            **spec,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox:1.36"}],
                        }
                    }
                }
            },
        },
    }


def policy_file(tmp_path: Path, rules: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(f"apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n{rules}")
    return str(path)


def test_a_clean_cronjob_passes_every_cronjob_rule() -> None:
    report = evaluate_obj(cronjob())
    assert [f.rule for f in report.findings if f.rule in CRON_RULES] == []


def test_cronjob_rules_do_not_look_at_jobs() -> None:
    obj = cronjob(schedule="* * * * *", startingDeadlineSeconds=0)
    obj["kind"] = "Job"
    report = evaluate_obj(obj)
    assert [f.rule for f in report.findings if f.rule in CRON_RULES] == []


# -- cronjob-schedule ---------------------------------------------------------------------------


def test_schedule_messages_say_how_often_and_why() -> None:
    assert found(cronjob(schedule="* * * * *"), "cronjob-schedule") == [
        (
            "spec.schedule",
            "schedule '* * * * *' starts a Job every 1 minute; the policy's minimum interval is 2 minutes",
        )
    ]
    assert found(cronjob(schedule="0 0 30 2 *"), "cronjob-schedule") == [
        (
            "spec.schedule",
            "schedule '0 0 30 2 *' never fires: none of its days exists in its months",
        )
    ]


def test_the_time_zone_fix_is_suggested_never_applied() -> None:
    obj = cronjob(schedule="0 3 * * *")
    del obj["spec"]["timeZone"]
    report = report_of(obj, "cronjob-schedule")
    (finding,) = report.findings
    assert finding.field == "spec.timeZone"
    assert finding.fix is not None and not finding.fix.safe
    assert finding.patch == ({"op": "add", "path": "/spec/timeZone", "value": "Etc/UTC"},)
    assert report.fixed()[1] == []


def test_a_min_interval_of_zero_turns_the_rate_check_off(tmp_path: Path) -> None:
    policy = load_policy([policy_file(tmp_path, "  cronjob-schedule: {min_interval_minutes: 0}\n")])
    assert found(cronjob(schedule="* * * * *"), "cronjob-schedule", policy=policy) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (90, "90 seconds"),
        (60, "1 minute"),
        (600, "10 minutes"),
        (7200, "2 hours"),
        (86400, "1 day"),
    ],
)
def test_intervals_read_naturally(seconds: int, text: str) -> None:
    assert describe_interval(seconds) == text


# -- cronjob-concurrency ------------------------------------------------------------------------


def test_unset_concurrency_gets_an_unsafe_forbid_suggestion() -> None:
    obj = cronjob()
    del obj["spec"]["concurrencyPolicy"]
    report = report_of(obj, "cronjob-concurrency")
    (finding,) = report.findings
    assert finding.message == (
        "concurrencyPolicy is not set; the API defaults to Allow, so slow runs overlap and pile up; "
        "choose Allow, Forbid or Replace"
    )
    assert finding.fix is not None and not finding.fix.safe
    assert finding.patch == ({"op": "add", "path": "/spec/concurrencyPolicy", "value": "Forbid"},)


def test_on_admission_allow_is_the_default_unless_the_applied_manifest_wrote_it() -> None:
    obj = cronjob(concurrencyPolicy="Allow")
    assert user_set_value(JobView(obj)) == "Allow"
    assert user_set_value(JobView(obj, defaulted=True)) is None
    applied = copy.deepcopy(obj)
    assert user_set_value(JobView(obj, defaulted=True, applied=applied)) == "Allow"
    del applied["spec"]["concurrencyPolicy"]
    assert user_set_value(JobView(obj, defaulted=True, applied=applied)) is None
    assert [f for f, _ in found(obj, "cronjob-concurrency", defaulted=True)] == [
        "spec.concurrencyPolicy"
    ]
    assert found(obj, "cronjob-concurrency") == []


def test_a_strict_policy_rejects_explicit_allow(tmp_path: Path) -> None:
    policy = load_policy(
        [
            policy_file(
                tmp_path,
                "  cronjob-concurrency: {allowed: [Forbid, Replace], require_explicit: false}\n",
            )
        ]
    )
    assert found(cronjob(concurrencyPolicy="Allow"), "cronjob-concurrency", policy=policy) == [
        (
            "spec.concurrencyPolicy",
            "concurrencyPolicy 'Allow' is not allowed by policy; use Forbid or Replace",
        )
    ]
    # Values the API server rejects are the API rules' business.
    assert found(cronjob(concurrencyPolicy="Sometimes"), "cronjob-concurrency", policy=policy) == []


def test_a_default_outside_allowed_is_a_policy_error(tmp_path: Path) -> None:
    path = policy_file(
        tmp_path, "  cronjob-concurrency:\n    allowed: [Replace]\n    default: Forbid\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy([path])
    assert [str(p) for p in info.value.problems] == [
        f"{path}:6:5: rules.cronjob-concurrency.default: 'Forbid' is not in allowed ['Replace']"
    ]


# -- cronjob-starting-deadline ------------------------------------------------------------------


def test_a_too_small_deadline_is_only_suggested_as_the_user_chose_it() -> None:
    report = report_of(cronjob(startingDeadlineSeconds=5), "cronjob-starting-deadline")
    (finding,) = report.findings
    assert finding.fix is not None and not finding.fix.safe
    assert finding.patch == (
        {"op": "replace", "path": "/spec/startingDeadlineSeconds", "value": 10},
    )
    assert report.fixed()[1] == []


def test_a_missing_deadline_is_only_suggested() -> None:
    obj = cronjob()
    del obj["spec"]["startingDeadlineSeconds"]
    report = report_of(obj, "cronjob-starting-deadline")
    (finding,) = report.findings
    assert finding.patch == ({"op": "add", "path": "/spec/startingDeadlineSeconds", "value": 300},)
    assert finding.fix is not None and not finding.fix.safe
    assert report.fixed()[1] == []


def test_type_errors_are_left_to_the_api_rules() -> None:
    for value in ("300", True, 1.5):
        assert found(cronjob(startingDeadlineSeconds=value), "cronjob-starting-deadline") == []


# -- cronjob-history-limits ---------------------------------------------------------------------


def test_fixes_of_limits_the_user_wrote_are_only_suggested() -> None:
    report = report_of(
        cronjob(successfulJobsHistoryLimit=50, failedJobsHistoryLimit=0), "cronjob-history-limits"
    )
    assert [
        (f.field, f.fix.title if f.fix else None, f.fix.safe if f.fix else None)
        for f in report.findings
        if f.rule == "cronjob-history-limits"
    ] == [
        ("spec.successfulJobsHistoryLimit", "set successfulJobsHistoryLimit: 10", False),
        ("spec.failedJobsHistoryLimit", "set failedJobsHistoryLimit: 1", False),
    ]
    fixed, patch = report.fixed()
    assert patch == []
    assert fixed == cronjob(successfulJobsHistoryLimit=50, failedJobsHistoryLimit=0)


def test_an_unset_failed_limit_below_the_minimum_gets_the_minimum(tmp_path: Path) -> None:
    policy = load_policy([policy_file(tmp_path, "  cronjob-history-limits: {min_failed: 2}\n")])
    report = report_of(cronjob(), "cronjob-history-limits", policy=policy)
    fixed, patch = report.fixed()
    assert patch == [{"op": "add", "path": "/spec/failedJobsHistoryLimit", "value": 2}]
    assert found(fixed, "cronjob-history-limits", policy=policy) == []


def test_on_admission_a_limit_holding_the_api_default_counts_as_unset(tmp_path: Path) -> None:
    policy = load_policy(
        [policy_file(tmp_path, "  cronjob-history-limits: {max_successful: 2, min_failed: 2}\n")]
    )
    defaulted = cronjob(successfulJobsHistoryLimit=3, failedJobsHistoryLimit=1)

    def judged(**view_kw: Any) -> list[tuple[str, str, bool]]:
        report = report_of(defaulted, "cronjob-history-limits", policy=policy, **view_kw)
        return [
            (f.field, f.message.split(",")[0], bool(f.fix and f.fix.safe)) for f in report.findings
        ]

    assert judged(defaulted=True) == [
        (
            "spec.successfulJobsHistoryLimit",
            "successfulJobsHistoryLimit is not set (the API default is 3)",
            False,
        ),
        (
            "spec.failedJobsHistoryLimit",
            "failedJobsHistoryLimit is not set (the API default is 1)",
            True,
        ),
    ]
    applied = copy.deepcopy(defaulted)  # kubectl's record: the user wrote both limits
    assert judged(defaulted=True, applied=applied) == [
        ("spec.successfulJobsHistoryLimit", "successfulJobsHistoryLimit is 3", False),
        ("spec.failedJobsHistoryLimit", "failedJobsHistoryLimit is 1", False),
    ]


def test_unset_limits_are_judged_by_the_api_defaults(tmp_path: Path) -> None:
    policy = load_policy(
        [policy_file(tmp_path, "  cronjob-history-limits: {max_successful: 2, min_failed: 2}\n")]
    )
    assert found(cronjob(), "cronjob-history-limits", policy=policy) == [
        (
            "spec.successfulJobsHistoryLimit",
            "successfulJobsHistoryLimit is not set (the API default is 3), above the policy's "
            "maximum 2; finished Jobs and their pods pile up",
        ),
        (
            "spec.failedJobsHistoryLimit",
            "failedJobsHistoryLimit is not set (the API default is 1), below the policy's minimum 2; "
            "failed Jobs are deleted before anyone looks at them",
        ),
    ]


def test_contradictory_history_bounds_are_a_policy_error(tmp_path: Path) -> None:
    path = policy_file(
        tmp_path, "  cronjob-history-limits:\n    max_failed: 1\n    min_failed: 3\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy([path])
    assert [str(p) for p in info.value.problems] == [
        f"{path}:6:5: rules.cronjob-history-limits.min_failed: must not exceed max_failed (1)"
    ]
