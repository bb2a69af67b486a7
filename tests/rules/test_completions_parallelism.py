"""completions-parallelism (JG102): Job types, fixes and their safety, admission objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jobguard.core.view import JobView
from jobguard.rules.completions_parallelism import JobType, job_type
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

RULE = "completions-parallelism"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, JobType.NON_PARALLEL),
        ({"completions": 5}, JobType.FIXED_COUNT),
        ({"completions": 5, "parallelism": 2}, JobType.FIXED_COUNT),
        ({"parallelism": 3}, JobType.WORK_QUEUE),
        ({"parallelism": 1}, JobType.WORK_QUEUE),
        ({"completionMode": "Indexed", "completions": 4}, JobType.INDEXED),
        ({"completionMode": "Indexed"}, JobType.INDEXED),
        ({"completionMode": "NonIndexed", "completions": 1}, JobType.FIXED_COUNT),
    ],
)
def test_the_job_type_is_read_from_what_the_spec_holds(
    spec: dict[str, Any], expected: JobType
) -> None:
    view = JobView.of(job(**spec))
    assert view is not None
    assert job_type(view) is expected


def test_a_non_parallel_job_gets_completions_and_parallelism_one_as_safe_fixes() -> None:
    rep = report(job(), RULE)
    assert [(f.field, f.fix.safe if f.fix else None) for f in rep.findings] == [
        ("spec.completions", True),
        ("spec.parallelism", True),
    ]
    fixed, patch = rep.fixed()
    assert patch == [
        {"op": "add", "path": "/spec/completions", "value": 1},
        {"op": "add", "path": "/spec/parallelism", "value": 1},
    ]
    assert fixed["spec"] == {
        "completions": 1,
        "parallelism": 1,
        "template": job()["spec"]["template"],
    }


def test_cronjob_findings_and_patches_use_the_job_template_paths() -> None:
    rep = report(cronjob(completions=6), RULE, policy=None)
    assert [f.field for f in rep.findings] == ["spec.jobTemplate.spec.parallelism"]
    assert rep.fixed()[1] == [
        {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1}
    ]
    rep = report(cronjob(), RULE)
    assert [f.field for f in rep.findings] == [
        "spec.jobTemplate.spec.completions",
        "spec.jobTemplate.spec.parallelism",
    ]
    assert [op["path"] for op in rep.fixed()[1]] == [
        "/spec/jobTemplate/spec/completions",
        "/spec/jobTemplate/spec/parallelism",
    ]


@pytest.mark.parametrize(("completions", "written"), [(10, 4), (3, 3), (1, 1)])
def test_a_fixed_count_job_gets_the_policy_parallelism_capped_at_completions(
    tmp_path: Path, completions: int, written: int
) -> None:
    pol = policy(tmp_path, RULE, "    default_parallelism: 4\n")
    rep = report(job(completions=completions), RULE, policy=pol)
    assert findings(job(completions=completions), RULE, policy=pol) == [
        (
            "spec.parallelism",
            f"parallelism is not set; the policy runs {written} of the {completions} "
            "completions at a time",
        )
    ]
    assert rep.fixed()[1] == [{"op": "add", "path": "/spec/parallelism", "value": written}]


def test_a_job_of_zero_completions_is_given_no_parallelism() -> None:
    assert findings(job(completions=0), RULE) == []


@pytest.mark.parametrize("parallelism", [1, 3, 40])
def test_a_work_queue_job_is_never_given_completions(tmp_path: Path, parallelism: int) -> None:
    pol = policy(tmp_path, RULE, "    default_parallelism: 4\n")
    obj = job(parallelism=parallelism)
    rep = report(obj, RULE, policy=pol)
    assert rep.findings == ()
    assert "completions" not in rep.fixed()[0]["spec"]


def test_a_work_queue_job_above_the_cap_gets_only_an_unsafe_parallelism_fix(
    tmp_path: Path,
) -> None:
    pol = policy(tmp_path, RULE, "    max_parallelism: 20\n")
    rep = report(job(parallelism=30), RULE, policy=pol)
    assert [(f.field, f.message) for f in rep.findings] == [
        ("spec.parallelism", "parallelism 30 is above the policy's maximum 20")
    ]
    fix = rep.findings[0].fix
    assert fix is not None and not fix.safe and fix.title == "set parallelism: 20"
    assert rep.fixed()[1] == []  # unsafe fixes are suggestions only


def test_excess_parallelism_lowered_to_completions_is_only_suggested() -> None:
    rep = report(job(completions=3, parallelism=10), RULE)
    assert [(f.field, f.message) for f in rep.findings] == [
        (
            "spec.parallelism",
            "parallelism 10 is above completions 3; the controller never runs more than 3 pods "
            "at once, the excess is ignored",
        )
    ]
    # The user chose 10: a safe fix never overrides a chosen value, so it is a suggestion.
    assert rep.findings[0].fix is not None and not rep.findings[0].fix.safe
    assert rep.findings[0].patch == ({"op": "replace", "path": "/spec/parallelism", "value": 3},)
    assert rep.fixed()[1] == []


def test_excess_above_the_cap_is_one_finding_whose_fix_resolves_both(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max_parallelism: 20\n")
    # completions within the cap: lowering to completions (a suggestion) also satisfies the cap
    rep = report(job(completions=10, parallelism=40), RULE, policy=pol)
    assert [(f.field, f.fix.safe if f.fix else None) for f in rep.findings] == [
        ("spec.parallelism", False)
    ]
    assert rep.findings[0].patch == ({"op": "replace", "path": "/spec/parallelism", "value": 10},)
    # completions above the cap: only the cap (unsafe) resolves it
    rep = report(job(completions=50, parallelism=60), RULE, policy=pol)
    assert [(f.field, f.message, f.fix.safe if f.fix else None) for f in rep.findings] == [
        ("spec.parallelism", "parallelism 60 is above the policy's maximum 20", False)
    ]


def test_parallelism_zero_says_the_job_is_paused_and_offers_no_fix() -> None:
    rep = report(cronjob(completions=4, parallelism=0), RULE)
    assert [(f.field, f.message, f.fix) for f in rep.findings] == [
        (
            "spec.jobTemplate.spec.parallelism",
            "parallelism is 0: the Job is paused and starts no pod until it is raised "
            "(suspend: true says so explicitly)",
            None,
        )
    ]


def test_indexed_without_completions_is_reported_with_or_without_parallelism() -> None:
    assert findings(job(completionMode="Indexed", parallelism=4), RULE) == [
        (
            "spec.completions",
            "an Indexed Job with parallelism needs completions (the number of indexes); the "
            "API server rejects it without",
        )
    ]
    assert findings(cronjob(completionMode="Indexed"), RULE) == [
        (
            "spec.jobTemplate.spec.completions",
            "an Indexed Job without completions runs a single index (the API server defaults "
            "completions to 1); set the number of indexes",
        )
    ]


def test_completions_above_the_cap_get_no_fix(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    max_completions: 100\n")
    rep = report(job(completions=500, parallelism=5), RULE, policy=pol)
    assert [(f.field, f.message, f.fix) for f in rep.findings] == [
        (
            "spec.completions",
            "completions 500 is above the policy's maximum 100; split the work over several Jobs",
            None,
        )
    ]


def test_require_explicit_false_leaves_unset_counts_alone(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    require_explicit: false\n")
    assert findings(job(), RULE, policy=pol) == []
    assert findings(job(completions=5), RULE, policy=pol) == []


@pytest.mark.parametrize(
    "spec",
    [{"completions": "5"}, {"parallelism": "3"}, {"completions": None, "parallelism": True}],
)
def test_mistyped_counts_are_left_to_the_api_rules(spec: dict[str, Any]) -> None:
    assert findings(job(**spec), RULE) == []


# -- admission: objects after the API server's defaulting -----------------------------------


def test_defaulted_one_and_one_is_a_non_parallel_job_and_needs_no_patch() -> None:
    obj = admission_object("023-mutate-Job-CREATE-kubectl-made")
    assert (obj["spec"]["completions"], obj["spec"]["parallelism"]) == (1, 1)
    rep = report(obj, RULE, defaulted=True)
    assert rep.findings == ()
    assert rep.fixed()[1] == []


def test_a_defaulted_work_queue_job_is_never_given_completions(tmp_path: Path) -> None:
    obj = admission_object("003-mutate-Job-CREATE-noname")
    assert obj["spec"]["parallelism"] == 3 and "completions" not in obj["spec"]
    pol = policy(tmp_path, RULE, "    default_parallelism: 4\n")
    assert report(obj, RULE, policy=pol, defaulted=True).findings == ()
    obj["spec"]["parallelism"] = 1  # the API default value, but completions is absent
    rep = report(obj, RULE, policy=pol, defaulted=True)
    assert rep.findings == ()
    assert "completions" not in rep.fixed()[0]["spec"]


def test_a_defaulted_parallelism_beside_completions_takes_the_policy_default(
    tmp_path: Path,
) -> None:
    pol = policy(tmp_path, RULE, "    default_parallelism: 4\n")
    obj = admission_object("023-mutate-Job-CREATE-kubectl-made")
    obj["spec"]["completions"] = 10  # the user's; parallelism 1 is the API's
    rep = report(obj, RULE, policy=pol, defaulted=True)
    assert [f.message for f in rep.findings] == [
        "parallelism is not set (the API server's default 1 applies); the policy runs 4 of the "
        "10 completions at a time"
    ]
    assert rep.fixed()[1] == [{"op": "replace", "path": "/spec/parallelism", "value": 4}]
    # kubectl's record shows the user wrote parallelism: 1 themselves: leave it
    applied = {"kind": "Job", "spec": {"completions": 10, "parallelism": 1}}
    assert report(obj, RULE, policy=pol, defaulted=True, applied=applied).findings == ()


def test_options_are_validated_when_the_policy_loads(tmp_path: Path) -> None:
    assert policy_problems(tmp_path, RULE, "    default_parallelism: 0\n") == [
        (
            5,
            5,
            "rules.completions-parallelism.default_parallelism: must be 1 or more "
            "(0 pauses the Job)",
        )
    ]
    assert policy_problems(
        tmp_path, RULE, "    default_parallelism: 8\n    max_parallelism: 4\n"
    ) == [
        (
            5,
            5,
            "rules.completions-parallelism.default_parallelism: default_parallelism (8) must not exceed "
            "max_parallelism (4)",
        )
    ]
    assert policy_problems(tmp_path, RULE, "    max_completions: 0\n") == [
        (
            5,
            5,
            "rules.completions-parallelism.max_completions: must be 1 or more, or null for no cap",
        )
    ]


def test_a_scheduled_run_is_judged_through_its_cronjob(tmp_path: Path) -> None:
    pol = policy(tmp_path, RULE, "    default_parallelism: 4\n    max_parallelism: 8\n")
    owned = scheduled_run()
    owned["spec"]["completions"] = 10  # from the template; parallelism 1 maybe the template's own
    controller = {"requester": CRONJOB_CONTROLLER}
    assert report(owned, RULE, policy=pol, defaulted=True, **controller).findings == ()
    owned["spec"]["parallelism"] = 0  # the validating webhook must not stop the CronJob's run
    assert report(owned, RULE, policy=pol, **controller).findings == ()
    # The same ownerReference from a user (a forged owner) or in a file is judged as any Job.
    assert [f.field for f in report(owned, RULE, policy=pol, requester="admin").findings] == [
        "spec.parallelism"
    ]
    assert [f.field for f in report(owned, RULE, policy=pol).findings] == ["spec.parallelism"]
