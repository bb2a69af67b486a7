"""Properties of JG102-JG105 over generated Job specs, under the bundled strict policy (caps,
defaults other than the API's, required deadline) and the default policy.

* the CronJob form of a spec gets the same findings, messages and fix safety, at
  ``spec.jobTemplate.spec`` paths;
* a work-queue Job is never given completions;
* safe fixes converge: fixing the fixed object changes nothing, and no safe-fixed finding remains;
* the cluster agrees with the linter: fixing the API-defaulted object in admission (with kubectl's
  record of the manifest) gives the same object as fixing the manifest and then defaulting it.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobguard.core.engine import Report, evaluate
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.policy import Policy, load_policy
from jobguard.rules import REGISTRY
from tests.rules._job_policy_support import cronjob, job

RULES = ("completions-parallelism", "backoff-limit", "ttl-after-finished", "active-deadline")
POLICIES = {name: load_policy([f"jobguard:{name}"]) for name in ("default", "strict")}
MAX_INT32 = 2147483647


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(None), values)


job_specs = st.fixed_dictionaries(
    {},
    optional={
        "completions": st.integers(0, 40),
        "parallelism": st.integers(0, 150),
        "completionMode": st.sampled_from(["NonIndexed", "Indexed"]),
        "backoffLimit": st.integers(0, 30),
        "backoffLimitPerIndex": st.integers(0, 3),
        "ttlSecondsAfterFinished": st.sampled_from([0, 60, 300, 3600, 86400, 2592000]),
        "activeDeadlineSeconds": st.sampled_from([60, 3600, 86400, 172800]),
    },
)
pod_deadlines = _maybe(st.sampled_from([30, 1800, 200000]))
policies = st.sampled_from(sorted(POLICIES))


def _report(obj: dict[str, Any], policy: Policy, **view_kw: Any) -> Report:
    view = JobView.of(obj, **view_kw)
    assert view is not None
    return evaluate(Subject.of(view), policy, rules=REGISTRY.named(*RULES))


def _pod(deadline: int | None) -> dict[str, Any]:
    return {} if deadline is None else {"activeDeadlineSeconds": deadline}


def api_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """What kube-apiserver's SetDefaults_Job does to the fields these rules look at."""
    out = copy.deepcopy(obj)
    spec = out["spec"]
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=job_specs, pod_deadline=pod_deadlines, name=policies)
def test_the_cronjob_form_gets_the_same_findings_at_job_template_paths(
    spec: dict[str, Any], pod_deadline: int | None, name: str
) -> None:
    policy = POLICIES[name]
    as_job = _report(job(pod=_pod(pod_deadline), **spec), policy)
    as_cron = _report(cronjob(pod=_pod(pod_deadline), **spec), policy)

    # cronjobs: skip (both bundled policies): an unset TTL is reported on the Job only.
    skipped = set() if "ttlSecondsAfterFinished" in spec else {"ttl-after-finished"}

    def key(report: Report) -> list[tuple[str, str, str, bool | None]]:
        return [
            (f.rule, f.field.split(".", 1)[1], f.message, f.fix.safe if f.fix else None)
            for f in report.findings
            if f.rule not in skipped
        ]

    assert all(f.field.startswith("spec.jobTemplate.spec.") for f in as_cron.findings)
    assert [f.rule for f in as_cron.findings if f.rule in skipped] == []
    assert [(r, "jobTemplate.spec." + p, m, s) for r, p, m, s in key(as_job)] == key(as_cron)


@settings(max_examples=300, deadline=None)
@given(spec=job_specs, pod_deadline=pod_deadlines, name=policies)
def test_safe_fixes_converge_and_never_give_a_work_queue_job_completions(
    spec: dict[str, Any], pod_deadline: int | None, name: str
) -> None:
    policy = POLICIES[name]
    report = _report(job(pod=_pod(pod_deadline), **spec), policy)
    fixed, _patch = report.fixed()
    work_queue = (
        "completions" not in spec
        and "parallelism" in spec
        and spec.get("completionMode") != "Indexed"
    )
    if work_queue:
        assert "completions" not in fixed["spec"]
    again = _report(fixed, policy)
    assert again.fixed() == (fixed, [])
    safe_fixed = {(f.rule, f.field) for f in report.findings if f.fix and f.fix.safe}
    assert not safe_fixed & {(f.rule, f.field) for f in again.findings}


@settings(max_examples=300, deadline=None)
@given(spec=job_specs, pod_deadline=pod_deadlines, name=policies)
def test_fixing_in_admission_gives_what_fixing_the_manifest_gives(
    spec: dict[str, Any], pod_deadline: int | None, name: str
) -> None:
    policy = POLICIES[name]
    manifest = job(pod=_pod(pod_deadline), **spec)
    linted, _ = _report(manifest, policy).fixed()
    admitted, _ = _report(api_defaults(manifest), policy, defaulted=True, applied=manifest).fixed()
    assert admitted == api_defaults(linted)
