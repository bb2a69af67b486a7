"""jobguard.core.kubernetes.defaults: the one table of the API server's defaults, every entry and
every version gate, the simulation's defaulting as the table applied, and the user-set questions
(JobView.user_set, JobView.cronjob_user_set, effective_default) answered from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jobguard.core.kubernetes.apiserver import simulate
from jobguard.core.kubernetes.defaults import (
    DEFAULTS,
    MAX_INT32,
    ApiDefault,
    Scope,
    api_default,
    apply_defaults,
    cronjob_api_default,
    effective_default,
    restates_defaults,
)
from jobguard.core.kubernetes.versions import Version
from jobguard.core.model import SetValue
from jobguard.core.view import JobView

V128, V129, V133, V134, V136 = (1, 28), (1, 29), (1, 33), (1, 34), (1, 36)
PFP = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}

# (scope, path, the object being defaulted, version, the default): every entry, every gate side.
CASES: list[tuple[Scope, tuple[str, ...], dict[str, Any], Version, Any]] = [
    (Scope.JOB, ("completions",), {}, V136, 1),
    (Scope.JOB, ("completions",), {"parallelism": 4}, V136, None),  # a work queue
    (Scope.JOB, ("completions",), {"parallelism": 0}, V136, None),
    (Scope.JOB, ("parallelism",), {}, V136, 1),
    (Scope.JOB, ("parallelism",), {"completions": 8}, V136, 1),
    (Scope.JOB, ("backoffLimit",), {}, V136, 6),
    (Scope.JOB, ("backoffLimit",), {"backoffLimitPerIndex": 1}, V136, MAX_INT32),
    # Not gated: the defaulter reads the field before the strategy drops it on 1.28.
    (Scope.JOB, ("backoffLimit",), {"backoffLimitPerIndex": 1}, V128, MAX_INT32),
    (Scope.JOB, ("completionMode",), {}, V136, "NonIndexed"),
    (Scope.JOB, ("suspend",), {}, V136, False),
    (Scope.JOB, ("manualSelector",), {}, V128, None),
    (Scope.JOB, ("manualSelector",), {}, V129, False),
    # JobPodReplacementPolicy: alpha (off) in 1.28, on by default from 1.29.
    (Scope.JOB, ("podReplacementPolicy",), {}, V128, None),
    (Scope.JOB, ("podReplacementPolicy",), {"podFailurePolicy": PFP}, V128, None),
    (Scope.JOB, ("podReplacementPolicy",), {}, V129, "TerminatingOrFailed"),
    (Scope.JOB, ("podReplacementPolicy",), {"podFailurePolicy": PFP}, V129, "Failed"),
    (Scope.JOB, ("podReplacementPolicy",), {"podFailurePolicy": PFP}, V136, "Failed"),
    (Scope.POD, ("spec", "restartPolicy"), {}, V128, "Always"),
    (Scope.CRONJOB, ("concurrencyPolicy",), {}, V136, "Allow"),
    (Scope.CRONJOB, ("suspend",), {}, V136, False),
    (Scope.CRONJOB, ("successfulJobsHistoryLimit",), {}, V136, 3),
    (Scope.CRONJOB, ("failedJobsHistoryLimit",), {}, V136, 1),
]


def _entry(scope: Scope, path: tuple[str, ...]) -> ApiDefault:
    (found,) = [d for d in DEFAULTS if d.scope is scope and d.path == path]
    return found


@pytest.mark.parametrize(("scope", "path", "root", "version", "default"), CASES)
def test_each_entry_gives_its_default(
    scope: Scope, path: tuple[str, ...], root: dict[str, Any], version: Version, default: Any
) -> None:
    value = _entry(scope, path).value(root, version)
    assert value == default and type(value) is type(default)


def test_every_entry_has_a_case() -> None:
    assert {(d.scope, d.path) for d in DEFAULTS} == {(c[0], c[1]) for c in CASES}


def test_the_table_is_in_the_defaulters_order() -> None:
    # completions is decided on the spec as written, before parallelism is filled in.
    job = [d.path for d in DEFAULTS if d.scope is Scope.JOB]
    assert job.index(("completions",)) < job.index(("parallelism",))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, {"completions": 1, "parallelism": 1}),
        ({"completions": 8}, {"completions": 8, "parallelism": 1}),
        ({"parallelism": 5}, {"parallelism": 5}),
        ({"completions": None, "parallelism": None}, {"completions": 1, "parallelism": 1}),
    ],
)
def test_apply_defaults_fills_the_counts_in_order(
    spec: dict[str, Any], expected: dict[str, Any]
) -> None:
    apply_defaults(spec, Scope.JOB, V136)
    assert {k: v for k, v in spec.items() if k in ("completions", "parallelism")} == expected


def test_empty_strings_are_defaulted_only_where_the_api_server_does() -> None:
    template: dict[str, Any] = {"spec": {"restartPolicy": ""}}
    apply_defaults(template, Scope.POD, V136)
    assert template == {"spec": {"restartPolicy": "Always"}}
    cron: dict[str, Any] = {"concurrencyPolicy": ""}
    apply_defaults(cron, Scope.CRONJOB, V136)
    assert cron["concurrencyPolicy"] == "Allow"
    job: dict[str, Any] = {"completionMode": ""}  # a pointer to "": not nil, kept
    apply_defaults(job, Scope.JOB, V136)
    assert job["completionMode"] == ""


def test_malformed_parents_are_left_alone() -> None:
    for template in ({"spec": "x"}, {"spec": None}, {}):
        before = copy.deepcopy(template)
        apply_defaults(template, Scope.POD, V136)
        assert template == before


# -- the simulation is the table applied ----------------------------------------------------


def table_applied(root: dict[str, Any], scope: Scope, version: Version) -> dict[str, Any]:
    """The table's entries of ``scope`` written into a copy of ``root``, read straight from the
    entries (no call of the code under test but each entry's value)."""
    out = copy.deepcopy(root)
    for d in DEFAULTS:
        if d.scope is not scope:
            continue
        parent: Any = out  # the table's paths hold only string keys
        for segment in d.path[:-1]:
            parent = parent[segment]
        current = parent.get(d.path[-1])
        if current is None or (current == "" and "" in d.unset):
            value = d.value(out, version)
            if value is not None:
                parent[d.path[-1]] = value
    return out


CONTAINERS = {"containers": [{"name": "main", "image": "busybox"}]}
JOB_SPECS: list[dict[str, Any]] = [
    {},
    {"completions": 8},
    {"parallelism": 5, "backoffLimit": 2, "suspend": True},
    {"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": 1},
    {"podFailurePolicy": PFP, "manualSelector": True},
    {"podReplacementPolicy": "Failed", "podFailurePolicy": PFP},
]


@pytest.mark.parametrize("version", [V129, V133, V134, V136])
@pytest.mark.parametrize("spec", JOB_SPECS)
def test_a_simulated_jobs_spec_is_the_table_applied(spec: dict[str, Any], version: Version) -> None:
    written = {**spec, "template": {"spec": {**CONTAINERS, "restartPolicy": ""}}}
    obj = {"kind": "Job", "metadata": {"name": "pi", "uid": "u1"}, "spec": written}
    # UPDATE: no selector generation, so the spec holds only what defaulting wrote.
    simulated = simulate(obj, operation="UPDATE", version=version).obj["spec"]
    expected = table_applied(written, Scope.JOB, version)
    expected["template"] = table_applied(expected["template"], Scope.POD, version)
    if "podFailurePolicy" in spec:  # the one list-wide default, outside the table
        expected["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] = "True"
    assert simulated == expected


def test_on_1_28_the_gated_defaults_are_not_written() -> None:
    obj: dict[str, Any] = {
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": CONTAINERS}},
    }
    spec = simulate(obj, operation="UPDATE", version=V128).obj["spec"]
    assert spec == table_applied(obj["spec"], Scope.JOB, V128) | {
        "template": {"spec": {**CONTAINERS, "restartPolicy": "Always"}}
    }
    assert "manualSelector" not in spec and "podReplacementPolicy" not in spec


@pytest.mark.parametrize(("version", "status"), [(V133, None), (V134, "True")])
def test_a_simulated_cronjobs_spec_is_the_table_applied(
    version: Version, status: str | None
) -> None:
    job_spec = {"backoffLimit": 2, "podFailurePolicy": copy.deepcopy(PFP), "template": {"spec": {}}}
    spec = {"schedule": "0 3 * * *", "concurrencyPolicy": "", "jobTemplate": {"spec": job_spec}}
    simulated = simulate({"kind": "CronJob", "spec": spec}, version=version).obj["spec"]
    expected = table_applied(spec, Scope.CRONJOB, version)
    template = expected["jobTemplate"]["spec"]["template"]
    expected["jobTemplate"]["spec"]["template"] = table_applied(template, Scope.POD, version)
    if status is not None:  # from 1.34 the status default reaches CronJob templates too
        pattern = expected["jobTemplate"]["spec"]["podFailurePolicy"]["rules"][0]
        pattern["onPodConditions"][0]["status"] = status
    assert simulated == expected
    assert set(simulated["jobTemplate"]["spec"]) == {"backoffLimit", "podFailurePolicy", "template"}


def test_the_simulation_is_computed_afresh_on_every_call() -> None:
    obj: dict[str, Any] = {
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": CONTAINERS}},
    }
    first = simulate(obj)
    obj["spec"]["backoffLimit"] = 3  # nothing keyed by the object's identity answers for it
    assert first.obj["spec"]["backoffLimit"] == 6
    assert simulate(obj).obj["spec"]["backoffLimit"] == 3


# -- who set it: the table answers on defaulted objects -----------------------------------------


def admitted(spec: dict[str, Any], version: Version, **view_kw: Any) -> JobView:
    obj = {"kind": "Job", "metadata": {"name": "pi"}, "spec": {**spec, "template": {"spec": {}}}}
    view = JobView.of(obj, defaulted=True, kubernetes_version=version, **view_kw)
    assert view is not None
    return view


@pytest.mark.parametrize(("version", "user_set"), [(V128, True), (V129, False), (V136, False)])
def test_manual_selector_false_is_the_default_from_1_29(version: Version, user_set: bool) -> None:
    # A 1.28 API server leaves manualSelector unset: a false there was written by the user.
    assert admitted({"manualSelector": False}, version).user_set("manualSelector") is user_set
    assert admitted({"manualSelector": True}, version).user_set("manualSelector")


@pytest.mark.parametrize(("version", "user_set"), [(V128, True), (V129, False)])
def test_pod_replacement_policy_is_a_default_only_where_its_gate_is_on(
    version: Version, user_set: bool
) -> None:
    view = admitted({"podReplacementPolicy": "TerminatingOrFailed"}, version)
    assert view.user_set("podReplacementPolicy") is user_set
    view = admitted({"podReplacementPolicy": "Failed", "podFailurePolicy": PFP}, version)
    assert view.user_set("podReplacementPolicy") is user_set


def test_the_views_version_defaults_to_the_default_kubernetes_version() -> None:
    obj = {"kind": "Job", "spec": {"podReplacementPolicy": "TerminatingOrFailed"}}
    view = JobView.of(obj, defaulted=True)
    assert view is not None and not view.user_set("podReplacementPolicy")


@pytest.mark.parametrize(("parallelism", "user_set"), [(1, False), (3, True)])
def test_completions_one_is_the_default_only_beside_a_parallelism_that_may_be_too(
    parallelism: int, user_set: bool
) -> None:
    # The API server writes completions 1 only when neither count is set, and then parallelism
    # 1 as well: beside parallelism 3 a completions of 1 is the user's.
    view = admitted({"completions": 1, "parallelism": parallelism}, V136)
    assert view.user_set("completions") is user_set
    assert not view.user_set("suspend")
    assert api_default(("completions",), cronjob=False, job_spec={"parallelism": 3}) is None


def test_a_cronjobs_job_template_gets_only_the_pod_defaults() -> None:
    assert api_default(("backoffLimit",), cronjob=True) is None
    assert api_default(("template", "spec", "restartPolicy"), cronjob=True) == "Always"
    assert api_default(("template", "spec", "restartPolicy"), cronjob=False) == "Always"
    assert api_default(("template", "restartPolicy"), cronjob=False) is None


def cron_view(spec: dict[str, Any], **view_kw: Any) -> JobView:
    obj = {"kind": "CronJob", "metadata": {"name": "n"}, "spec": spec}
    view = JobView.of(obj, **view_kw)
    assert view is not None
    return view


def test_cronjob_user_set_reads_the_table_and_kubectls_record() -> None:
    spec = {"concurrencyPolicy": "Allow", "successfulJobsHistoryLimit": 3, "suspend": True}
    assert cron_view(spec).cronjob_user_set("concurrencyPolicy")  # a manifest: present is set
    defaulted = cron_view(spec, defaulted=True)
    assert not defaulted.cronjob_user_set("concurrencyPolicy")
    assert not defaulted.cronjob_user_set("successfulJobsHistoryLimit")
    assert defaulted.cronjob_user_set("suspend")  # true is no default
    assert not defaulted.cronjob_user_set("failedJobsHistoryLimit")  # absent
    assert defaulted.cronjob_user_set("schedule") is False  # absent, no default either
    written = cron_view(spec, defaulted=True, applied={"spec": {"concurrencyPolicy": "Allow"}})
    assert written.cronjob_user_set("concurrencyPolicy")
    assert not written.cronjob_user_set("successfulJobsHistoryLimit")
    # The API server defaults over an empty policy: writing "" chose nothing.
    empty = cron_view(spec, defaulted=True, applied={"spec": {"concurrencyPolicy": ""}})
    assert not empty.cronjob_user_set("concurrencyPolicy")
    assert cronjob_api_default(("startingDeadlineSeconds",)) is None


def test_cronjob_user_set_is_false_on_a_job() -> None:
    view = JobView.of({"kind": "Job", "spec": {"suspend": True}})
    assert view is not None and not view.cronjob_user_set("suspend")


@pytest.mark.parametrize(("version", "default"), [(V128, None), (V129, False)])
def test_effective_defaults_follow_the_version(version: Version, default: Any) -> None:
    assert effective_default(("manualSelector",), {}, version) == default
    edits = (SetValue(("spec", "manualSelector"), False),)
    assert restates_defaults(edits, ("spec",), {}, version) is (default is not None)
