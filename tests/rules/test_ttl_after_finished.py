"""ttl-after-finished (JG104): default and bounds, the CronJob policy choice, admission objects."""

from __future__ import annotations

from pathlib import Path

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

RULE = "ttl-after-finished"
FIELD = "ttlSecondsAfterFinished"


def test_an_unset_ttl_gets_the_policy_default_as_a_safe_fix() -> None:
    rep = report(job(), RULE)
    assert [(f.field, f.message) for f in rep.findings] == [
        (
            "spec.ttlSecondsAfterFinished",
            "ttlSecondsAfterFinished is not set: the finished Job and its pods are kept "
            "forever; the policy's default is 86400s (1d)",
        )
    ]
    fix = rep.findings[0].fix
    assert fix is not None and fix.safe and fix.title == "set ttlSecondsAfterFinished: 86400 (1d)"
    assert rep.fixed()[1] == [
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400}
    ]


def test_cronjobs_are_skipped_by_default() -> None:
    assert findings(cronjob(), RULE) == []
    owned = scheduled_run()
    assert report(owned, RULE, defaulted=True, requester=CRONJOB_CONTROLLER).findings == ()
    # A Job claiming a CronJob owner that its controller did not create gets the default.
    forged = report(owned, RULE, defaulted=True, requester="admin")
    assert [f.field for f in forged.findings] == ["spec.ttlSecondsAfterFinished"]


def test_cronjobs_default_gives_templates_and_cronjob_jobs_the_default(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    cronjobs: default\n    default: 3600\n")
    rep = report(cronjob(), RULE, policy=pol)
    assert [f.field for f in rep.findings] == ["spec.jobTemplate.spec.ttlSecondsAfterFinished"]
    assert rep.fixed()[1] == [
        {"op": "add", "path": "/spec/jobTemplate/spec/ttlSecondsAfterFinished", "value": 3600}
    ]
    owned = scheduled_run()
    rep = report(owned, RULE, policy=pol, defaulted=True, requester=CRONJOB_CONTROLLER)
    assert rep.fixed()[1] == [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 3600}]


def test_a_ttl_below_the_minimum_is_only_suggested_even_on_a_cronjob(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    min: 300\n")
    rep = report(cronjob(ttlSecondsAfterFinished=0), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        (
            "spec.jobTemplate.spec.ttlSecondsAfterFinished",
            "ttlSecondsAfterFinished 0 is below the policy's minimum 300s (5m); a failure's "
            "logs go before anyone reads them",
        )
    ]
    # the user chose 0: raising it is a suggestion, never a safe fix
    assert rep.findings[0].patch == (
        {"op": "replace", "path": "/spec/jobTemplate/spec/ttlSecondsAfterFinished", "value": 300},
    )
    assert rep.fixed()[1] == []


def test_a_ttl_above_the_maximum_gets_only_an_unsafe_fix(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max: 604800\n")
    rep = report(job(ttlSecondsAfterFinished=2592000), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        (
            "spec.ttlSecondsAfterFinished",
            "ttlSecondsAfterFinished 2592000 is above the policy's maximum 604800s (7d)",
        )
    ]
    fix = rep.findings[0].fix
    assert fix is not None and not fix.safe
    assert rep.fixed()[1] == []


def test_no_default_means_an_unset_ttl_is_accepted(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    default: null\n")
    assert findings(job(), RULE, policy=pol) == []


def test_a_ttl_from_the_manifest_survives_admission(tmp_path: Path) -> None:
    obj = admission_object("006-mutate-Job-CREATE-indexed-render")  # ttlSecondsAfterFinished: 100
    pol = policy(tmp_path, RULE, "    min: 60\n    max: 604800\n")
    assert report(obj, RULE, policy=pol, defaulted=True).findings == ()


def test_options_are_validated_when_the_policy_loads(tmp_path: Path) -> None:
    assert policy_problems(tmp_path, RULE, "    default: 60\n    min: 300\n") == [
        (5, 5, "rules.ttl-after-finished.default: default (60) is below min (300)")
    ]
    assert policy_problems(tmp_path, RULE, "    min: 600\n    max: 60\n") == [
        (5, 5, "rules.ttl-after-finished.min: min (600) must not exceed max (60)")
    ]
    assert policy_problems(tmp_path, RULE, "    cronjobs: sometimes\n") == [
        (
            5,
            5,
            "rules.ttl-after-finished.cronjobs: must be one of 'skip', 'default', not 'sometimes'",
        )
    ]


def test_a_bound_that_contradicts_the_built_in_default_names_both_options(tmp_path: Path) -> None:
    # The default (86400) is not in the file: the problem is reported at the rule.
    assert policy_problems(tmp_path, RULE, "    max: 3600\n") == [
        (4, 3, "rules.ttl-after-finished: default (86400) must not exceed max (3600)")
    ]
