"""resources (JG111): messages, what counts as set, malformed input, options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jobguard.policy import PolicyError, load_policy
from tests.rules._single_rule import found, report_of


def job(*containers: dict[str, Any], **pod: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "etl"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": list(containers), **pod}}
        },
    }


def findings(obj: dict[str, Any], **kw: Any) -> list[tuple[str, str]]:
    return found(obj, "resources", **kw)


def test_one_finding_per_container_names_everything_it_lacks_and_why() -> None:
    prefix = "spec.template.spec.containers"
    obj = job(
        {"name": "main", "image": "busybox"},
        {"name": "upload", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "sized", "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}},
        {"name": "cpu-only", "resources": {"limits": {"cpu": "1"}}},
    )
    assert findings(obj) == [
        (
            f"{prefix}[0].resources",
            "container 'main' has no cpu request, no memory request and no memory limit: the "
            "scheduler places it as if it needed no CPU and no memory; a runaway run can take "
            "its node's memory from other pods",
        ),
        (
            f"{prefix}[1].resources",
            "container 'upload' has no memory limit: a runaway run can take its node's memory "
            "from other pods",
        ),
        # A memory limit is also the memory request the pod gets; a cpu limit the cpu request.
        (
            f"{prefix}[3].resources",
            "container 'cpu-only' has no memory request and no memory limit: the scheduler places "
            "it as if it needed no memory; a runaway run can take its node's memory from other pods",
        ),
    ]


def test_findings_have_no_fix_because_sizes_are_workload_specific() -> None:
    report = report_of(job({"name": "main", "image": "busybox"}), "resources")
    assert [f.fix for f in report.findings] == [None]


def test_resources_null_counts_as_missing_and_a_wrong_type_is_left_to_the_structure_rules() -> None:
    assert [p for p, _ in findings(job({"name": "main", "resources": None}))] == [
        "spec.template.spec.containers[0].resources"
    ]
    assert findings(job({"name": "main", "resources": "1Gi"})) == []
    assert findings(job({"name": "main", "resources": {"requests": ["cpu"]}})) == []


def test_pod_level_resources_count_from_kubernetes_1_34() -> None:
    obj = job(
        {"name": "main"},
        {"name": "sidecar"},
        resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    )
    assert findings(obj, version=(1, 34)) == []
    # Before 1.34 the pod level does not count: neither container sets anything, one finding.
    assert [p for p, _ in findings(obj, version=(1, 33))] == ["spec.template.spec"]


def test_a_pod_none_of_whose_containers_sets_resources_is_one_finding() -> None:
    obj = job(
        {"name": "main", "image": "busybox"}, {"name": "upload"}, initContainers=[{"name": "fetch"}]
    )
    assert findings(obj) == [
        (
            "spec.template.spec",
            "no container of the pod sets resources: init container 'fetch', 'main' and 'upload' "
            "have no cpu request, no memory request and no memory limit: the scheduler places "
            "them as if they needed no CPU and no memory; a runaway run can take its node's "
            "memory from other pods; pod-level spec.template.spec.resources covers them all",
        )
    ]
    # Before pod-level resources, the same finding without the hint.
    (old,) = findings(obj, version=(1, 33))
    assert old[1].endswith("from other pods")
    # One container that sets something: each container is its own decision again.
    sized = {"name": "main", "resources": {"requests": {"cpu": "1"}}}
    obj = job(sized, {"name": "upload"}, initContainers=[{"name": "fetch"}])
    assert [p for p, _ in findings(obj)] == [
        "spec.template.spec.initContainers[0].resources",
        "spec.template.spec.containers[0].resources",
        "spec.template.spec.containers[1].resources",
    ]


def test_maxima_compare_quantities_exactly_and_name_the_offending_value(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  resources: {requests: [], limits: [], max_cpu: 1500m, max_memory: 1Gi}\n"
    )
    policy = load_policy([str(path)])
    obj = job(
        {"name": "a", "resources": {"requests": {"cpu": 1.5, "memory": "1024Mi"}}},
        {"name": "b", "resources": {"limits": {"cpu": "2", "memory": "1025Mi"}}},
    )
    assert findings(obj, policy=policy) == [
        (
            "spec.template.spec.containers[1].resources.limits.cpu",
            "container 'b': cpu limit 2 is above the policy's maximum 1500m",
        ),
        (
            "spec.template.spec.containers[1].resources.limits.memory",
            "container 'b': memory limit 1025Mi is above the policy's maximum 1Gi",
        ),
    ]


def test_other_resource_names_can_be_required(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  resources: {requests: [ephemeral-storage], limits: []}\n"
    )
    obj = job({"name": "main", "resources": {"requests": {"cpu": "1"}}})
    assert findings(obj, policy=load_policy([str(path)])) == [
        (
            "spec.template.spec.containers[0].resources",
            "container 'main' has no ephemeral-storage request: the scheduler places it as if it "
            "needed no ephemeral-storage",
        )
    ]


@pytest.mark.parametrize("value", ["lots", "0", "-1Gi"])
def test_a_maximum_that_is_not_a_positive_quantity_is_a_policy_error(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  resources:\n    max_memory: '{value}'\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy([str(path)])
    (problem,) = info.value.problems
    assert problem.line == 5
    assert problem.message.endswith(f"'{value}' is not a positive quantity such as 2 or 4Gi")
