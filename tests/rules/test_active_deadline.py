"""active-deadline (JG105): require, max, the pod-level deadline, CronJob-created Jobs."""

from __future__ import annotations

from pathlib import Path

from jobguard.core.model import RemoveValue, SetValue
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

RULE = "active-deadline"
DEADLINE = "activeDeadlineSeconds"
POD_LEVEL_MESSAGE = (
    "the pod-level activeDeadlineSeconds {} limits each pod attempt (a timeout becomes a retried "
    "failure) and the Job has no deadline of its own; the Job-level activeDeadlineSeconds "
    "was probably meant"
)


def test_a_pod_level_deadline_alone_is_reported_with_an_unsafe_move() -> None:
    rep = report(job(pod={DEADLINE: 3600}), RULE)
    assert [(f.field, f.message) for f in rep.findings] == [
        ("spec.template.spec.activeDeadlineSeconds", POD_LEVEL_MESSAGE.format(3600))
    ]
    finding = rep.findings[0]
    assert finding.fix is not None and not finding.fix.safe
    assert finding.fix.edits == (
        SetValue(("spec", DEADLINE), 3600),
        RemoveValue(("spec", "template", "spec", DEADLINE)),
    )
    assert list(finding.patch) == [
        {"op": "add", "path": "/spec/activeDeadlineSeconds", "value": 3600},
        {"op": "remove", "path": "/spec/template/spec/activeDeadlineSeconds"},
    ]
    assert rep.fixed()[1] == []  # a suggestion: never applied


def test_the_cronjob_form_reports_and_patches_the_job_template_paths() -> None:
    rep = report(cronjob(pod={DEADLINE: 1800}), RULE)
    assert [f.field for f in rep.findings] == [
        "spec.jobTemplate.spec.template.spec.activeDeadlineSeconds"
    ]
    assert list(rep.findings[0].patch) == [
        {"op": "add", "path": "/spec/jobTemplate/spec/activeDeadlineSeconds", "value": 1800},
        {"op": "remove", "path": "/spec/jobTemplate/spec/template/spec/activeDeadlineSeconds"},
    ]


def test_the_moved_deadline_is_capped_at_the_maximum(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max: 1800\n")
    rep = report(job(pod={DEADLINE: 3600}), RULE, policy=pol)
    fix = rep.findings[0].fix
    assert (
        fix is not None and fix.title == "move the deadline to the Job: activeDeadlineSeconds: 1800"
    )


def test_a_deadline_at_both_levels_is_deliberate() -> None:
    assert findings(job(pod={DEADLINE: 600}, **{DEADLINE: 3600}), RULE) == []


def test_require_reports_a_missing_deadline_and_suggests_the_default(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    require: true\n")
    rep = report(job(), RULE, policy=pol)
    message = (
        "activeDeadlineSeconds is not set: nothing stops the Job if it hangs; the policy "
        "requires a Job-level deadline"
    )
    assert [(f.field, f.message, f.fix) for f in rep.findings] == [
        ("spec.activeDeadlineSeconds", message, None)
    ]
    pol = policy(tmp_path, RULE, "    require: true\n    default: 3600\n")
    rep = report(cronjob(), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        ("spec.jobTemplate.spec.activeDeadlineSeconds", message)
    ]
    fix = rep.findings[0].fix
    assert fix is not None and not fix.safe and fix.title == "set activeDeadlineSeconds: 3600"
    assert rep.fixed()[1] == []


def test_require_with_a_pod_level_deadline_reports_the_pod_level_one_only(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    require: true\n    default: 7200\n")
    assert findings(job(pod={DEADLINE: 900}), RULE, policy=pol) == [
        ("spec.template.spec.activeDeadlineSeconds", POD_LEVEL_MESSAGE.format(900))
    ]


def test_a_deadline_above_the_maximum_gets_only_an_unsafe_fix(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max: 86400\n")
    rep = report(cronjob(activeDeadlineSeconds=172800), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        (
            "spec.jobTemplate.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds 172800 is above the policy's maximum 86400",
        )
    ]
    fix = rep.findings[0].fix
    assert fix is not None and not fix.safe
    assert rep.fixed()[1] == []


def test_a_scheduled_run_is_judged_through_its_cronjob(tmp_path: Path) -> None:
    owned = scheduled_run()
    owned["spec"]["template"]["spec"][DEADLINE] = 600
    pol = policy(tmp_path, RULE, "    require: true\n    max: 60\n")
    run = report(owned, RULE, policy=pol, defaulted=True, requester=CRONJOB_CONTROLLER)
    assert run.findings == ()
    # The same ownerReference from anyone else (a forged owner) is judged as any Job.
    for judged in (
        report(owned, RULE, policy=pol, defaulted=True, requester="admin"),
        report(owned, RULE, policy=pol),  # a manifest: never a scheduled run
    ):
        assert [f.field for f in judged.findings] == ["spec.template.spec.activeDeadlineSeconds"]


def test_a_deadline_from_the_manifest_survives_admission(tmp_path: Path) -> None:
    obj = admission_object("006-mutate-Job-CREATE-indexed-render")  # activeDeadlineSeconds: 600
    pol = policy(tmp_path, RULE, "    require: true\n    max: 3600\n")
    assert report(obj, RULE, policy=pol, defaulted=True).findings == ()


def test_options_are_validated_when_the_policy_loads(tmp_path: Path) -> None:
    assert policy_problems(tmp_path, RULE, "    default: 7200\n    max: 3600\n") == [
        (5, 5, "rules.active-deadline.default: default (7200) must not exceed max (3600)")
    ]
    assert policy_problems(tmp_path, RULE, "    max: 0\n") == [
        (5, 5, "rules.active-deadline.max: must be 1 or more seconds")
    ]
    assert policy_problems(tmp_path, RULE, "    require: yes please\n") == [
        (5, 5, "rules.active-deadline.require: must be true or false, not 'yes please'")
    ]
