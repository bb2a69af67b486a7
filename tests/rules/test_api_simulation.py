"""jobguard.core.kubernetes.apiserver: defaulting, dropped gates and selector generation as the API server does them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jobguard.core.kubernetes.apiserver import MAX_INT32, PLACEHOLDER_UID, simulate


def job(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", **metadata},
        "spec": {**base, **(spec or {})},
    }


def cronjob(job_spec: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            **spec,
            "jobTemplate": {"spec": {"template": template, **(job_spec or {})}},
        },
    }


def spec_of(obj: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result: dict[str, Any] = simulate(obj, **kw).obj["spec"]
    return result


def test_a_job_without_counts_gets_one_completion_and_one_pod() -> None:
    spec = spec_of(job())
    assert (spec["completions"], spec["parallelism"]) == (1, 1)
    assert spec["backoffLimit"] == 6
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert spec["manualSelector"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_a_work_queue_job_keeps_completions_unset() -> None:
    for parallelism in (5, 0):
        spec = spec_of(job({"parallelism": parallelism}))
        assert "completions" not in spec
        assert spec["parallelism"] == parallelism


def test_completions_alone_gets_parallelism_one() -> None:
    spec = spec_of(job({"completions": 8}))
    assert (spec["completions"], spec["parallelism"]) == (8, 1)


def test_backoff_limit_is_max_int32_beside_backoff_limit_per_index() -> None:
    spec = spec_of(job({"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": 1}))
    assert spec["backoffLimit"] == MAX_INT32


def test_a_pod_failure_policy_makes_failed_the_replacement_policy_and_true_the_status() -> None:
    pfp = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    spec = spec_of(job({"podFailurePolicy": pfp}))
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_version_dependent_defaults() -> None:
    spec = spec_of(job(), version=(1, 28))
    assert "manualSelector" not in spec
    assert "podReplacementPolicy" not in spec


def test_a_job_without_labels_gets_the_templates_labels_as_one_shared_map() -> None:
    obj = job({"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {}}})
    api = simulate(obj)
    assert api.labels_copied
    labels = api.obj["metadata"]["labels"]
    assert labels is api.obj["spec"]["template"]["metadata"]["labels"]
    assert labels["job-name"] == "pi"  # the generated labels show up on the Job too


def test_a_job_with_labels_of_its_own_keeps_them() -> None:
    obj = job({"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {}}}, labels={"a": "b"})
    api = simulate(obj)
    assert not api.labels_copied
    assert api.obj["metadata"]["labels"] == {"a": "b"}


def test_selector_and_labels_are_generated_with_a_placeholder_uid() -> None:
    api = simulate(job())
    spec = api.obj["spec"]
    assert not api.own_uid
    assert api.uid == PLACEHOLDER_UID
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": api.uid}}
    assert spec["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/job-name": "pi",
        "job-name": "pi",
        "batch.kubernetes.io/controller-uid": api.uid,
        "controller-uid": api.uid,
    }
    assert api.generated_labels == frozenset(spec["template"]["metadata"]["labels"])


def test_before_1_27_only_the_unprefixed_labels_are_generated() -> None:
    api = simulate(job(), version=(1, 26))
    assert set(api.obj["spec"]["template"]["metadata"]["labels"]) == {"job-name", "controller-uid"}
    assert api.obj["spec"]["selector"] == {"matchLabels": {"controller-uid": api.uid}}


def test_a_users_selector_is_merged_not_replaced() -> None:
    api = simulate(job({"selector": {"matchLabels": {"app": "etl"}}}))
    assert api.obj["spec"]["selector"]["matchLabels"] == {
        "app": "etl",
        "batch.kubernetes.io/controller-uid": api.uid,
    }


def test_manual_selector_generates_nothing() -> None:
    api = simulate(job({"manualSelector": True, "selector": {"matchLabels": {"a": "b"}}}))
    assert api.obj["spec"]["selector"] == {"matchLabels": {"a": "b"}}
    assert api.generated_labels == frozenset()


def test_the_placeholder_differs_from_every_uid_in_the_manifest() -> None:
    obj = job(uid=PLACEHOLDER_UID, resourceVersion="1")
    assert simulate(obj).uid not in (PLACEHOLDER_UID, "")


def _created(uid: str = "717a2e1c") -> dict[str, Any]:
    labels = {"controller-uid": uid, "job-name": "pi"}
    return job(
        {
            "selector": {"matchLabels": {"controller-uid": uid}},
            "template": {"metadata": {"labels": labels}, "spec": {}},
        },
        uid=uid,
    )


def test_an_object_carrying_its_own_generated_labels_keeps_its_uid() -> None:
    api = simulate(_created())
    assert api.own_uid and api.uid == "717a2e1c"


def test_a_stored_object_or_a_mismatching_label_means_a_new_uid() -> None:
    stored = _created()
    stored["metadata"]["resourceVersion"] = "4711"
    assert not simulate(stored).own_uid
    mismatched = _created()
    mismatched["spec"]["template"]["metadata"]["labels"]["controller-uid"] = "other"
    assert not simulate(mismatched).own_uid
    assert not simulate(job(uid="717a2e1c")).own_uid  # no generated labels at all


def test_an_update_keeps_the_uid_and_generates_nothing() -> None:
    obj = job(uid="u1", resourceVersion="9")
    api = simulate(obj, operation="UPDATE")
    assert api.own_uid and api.uid == "u1"
    assert "selector" not in api.obj["spec"]


def test_cronjob_defaults_leave_the_job_template_alone_except_the_pod() -> None:
    api = simulate(cronjob())
    spec = api.obj["spec"]
    assert spec["concurrencyPolicy"] == "Allow"
    assert spec["suspend"] is False
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert set(job_spec) == {"template"}
    assert job_spec["template"]["spec"]["restartPolicy"] == "Always"
    assert "selector" not in job_spec


@pytest.mark.parametrize(("version", "status"), [((1, 33), None), ((1, 34), "True")])
def test_cronjob_pod_failure_policy_status_is_defaulted_from_1_34(
    version: tuple[int, int], status: str | None
) -> None:
    pfp = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    api = simulate(cronjob({"podFailurePolicy": pfp}), version=version)
    pattern = api.obj["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"][0]
    assert pattern["onPodConditions"][0].get("status") == status


def test_fields_of_gates_off_by_default_are_dropped() -> None:
    obj = job({"successPolicy": {"rules": []}, "managedBy": "a.io/b", "completionMode": "Indexed"})
    api = simulate(obj, version=(1, 30))
    assert api.dropped == ("successPolicy", "managedBy")
    assert "successPolicy" not in api.obj["spec"]
    assert simulate(obj, version=(1, 32)).dropped == ()


def test_fail_index_rules_go_with_their_gate() -> None:
    rules = [
        {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}},
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [2]}},
    ]
    api = simulate(job({"podFailurePolicy": {"rules": rules}}), version=(1, 28))
    assert [r["action"] for r in api.obj["spec"]["podFailurePolicy"]["rules"]] == ["FailJob"]


def test_the_input_is_never_modified() -> None:
    obj = job({"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {}}})
    before = copy.deepcopy(obj)
    simulate(obj)
    simulate(cronjob())
    assert obj == before


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "Job"},
        {"kind": "Job", "spec": []},
        {"kind": "Job", "metadata": "x", "spec": {"template": "x"}},
        {"kind": "Job", "spec": {"template": {"metadata": [], "spec": 3}}},
        {"kind": "Job", "spec": {"template": {"metadata": {"labels": "x"}}, "selector": []}},
        {"kind": "Job", "spec": {"podFailurePolicy": {"rules": [None, {"onPodConditions": [1]}]}}},
        {"kind": "CronJob", "spec": {"jobTemplate": []}},
        {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": []}}}}},
    ],
)
def test_malformed_objects_are_simulated_without_raising(obj: dict[str, Any]) -> None:
    simulate(obj)


# -- one simulation per evaluation ------------------------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    from jobguard.rules import _api

    calls: list[tuple[str, tuple[int, int]]] = []

    def counted(obj: dict[str, Any], *, operation: str, version: tuple[int, int]) -> Any:
        calls.append((operation, version))
        return simulate(obj, operation=operation, version=version)

    monkeypatch.setattr(_api, "simulate", counted)
    return calls


def test_the_api_rules_of_one_evaluation_share_one_simulation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jobguard.core.engine import evaluate
    from jobguard.core.subject import Operation, Subject
    from jobguard.core.view import JobView
    from jobguard.policy.model import builtin_defaults
    from jobguard.rules import REGISTRY

    calls = _counting(monkeypatch)
    rules = REGISTRY.named("api-selector", "api-restart-policy")
    bad = job({"selector": {"matchLabels": {"app": "etl"}}})  # both rules report on it
    view = JobView.of(bad)
    assert view is not None
    report = evaluate(Subject.of(view), builtin_defaults(), rules=rules)
    assert {f.rule for f in report.findings} == {"api-selector", "api-restart-policy"}
    assert calls == [("CREATE", (1, 37))]  # the default version
    # Another operation or version is another simulation; another view starts afresh.
    evaluate(Subject.of(view), builtin_defaults(), rules=rules)  # the same: no new one
    older = JobView.of(bad, kubernetes_version=(1, 29))
    assert older is not None
    evaluate(Subject.of(older), builtin_defaults(), rules=rules)
    evaluate(Subject.of(view, Operation.UPDATE, old_object=bad), builtin_defaults(), rules=rules)
    other = JobView.of(bad)
    assert other is not None
    evaluate(Subject.of(other), builtin_defaults(), rules=rules)
    assert calls == [
        ("CREATE", (1, 37)),
        ("CREATE", (1, 29)),
        ("UPDATE", (1, 37)),
        ("CREATE", (1, 37)),
    ]
