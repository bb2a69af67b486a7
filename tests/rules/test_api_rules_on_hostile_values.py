"""The pod-spec api rules never fail on values of the wrong shape: they report or skip.

A rule that raises is reported as ``internal-error`` and judges nothing (a 64 KiB number in
``succeededIndexes`` once did that). Hypothesis puts arbitrary JSON values (nulls, numbers,
strings, lists, maps, nested) at the places these rules read, in a Job and a CronJob, at the
oldest and newest versions, and every evaluation must finish without an internal error.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.core.kubernetes.versions import NEWEST, OLDEST
from jobguard.core.paths import field_path
from tests.helpers import evaluate_obj

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["1Gi", "500m", "-1", "hugepages-2Mi", "metadata.labels['a']", "localhost/x"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

# (where, key): where the hostile value goes, relative to the pod spec, the first container,
# the first volume, the object's metadata or the template's metadata
PLACES = [
    ("pod", "volumes"),
    ("pod", "resources"),
    ("pod", "hostnameOverride"),
    ("pod", "resourceClaims"),
    ("pod", "tolerations"),
    ("pod", "securityContext"),
    ("pod", "initContainers"),
    ("pod", "containers"),
    ("container", "resources"),
    ("container", "env"),
    ("container", "volumeMounts"),
    ("container", "volumeDevices"),
    ("container", "securityContext"),
    ("volume", "iscsi"),
    ("volume", "projected"),
    ("volume", "ephemeral"),
    ("volume", "downwardAPI"),
    ("volume", "csi"),
    ("volume", "image"),
    ("volume", "azureDisk"),
    ("volume", "quobyte"),
    ("volume", "flexVolume"),
    ("meta", "ownerReferences"),
    ("meta", "finalizers"),
    ("meta", "creationTimestamp"),
    ("meta", "generateName"),
    ("template_meta", "annotations"),
    ("status", "conditions"),
    ("job", "successPolicy"),
    ("job", "podFailurePolicy"),
]


def job(kind: str) -> dict[str, Any]:
    pod = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox:1.36"}],
        "volumes": [{"name": "v", "emptyDir": {}}],
    }
    spec: dict[str, Any] = {"completionMode": "Indexed", "completions": 3, "parallelism": 1}
    spec["template"] = {"metadata": {"annotations": {}}, "spec": pod}
    obj: dict[str, Any] = {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": "hostile"}}
    if kind == "Job":
        obj["spec"] = spec
    else:
        obj["spec"] = {"schedule": "0 2 * * *", "jobTemplate": {"spec": spec}}
    obj["status"] = {}
    return obj


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def place(obj: dict[str, Any], where: str, key: str, value: Any) -> None:
    """Put ``value`` at ``key`` of the ``where`` mapping, if an earlier change left one."""
    spec = obj["spec"] if obj["kind"] == "Job" else obj["spec"]["jobTemplate"]["spec"]
    pod = spec["template"]["spec"]
    target = {
        "pod": pod,
        "container": _first(pod.get("containers")),
        "volume": _first(pod.get("volumes")),
        "meta": obj["metadata"],
        "template_meta": spec["template"]["metadata"],
        "status": obj["status"],
        "job": spec,
    }[where]
    if isinstance(target, dict):
        target[key] = value


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["Job", "CronJob"]),
    st.lists(st.tuples(st.sampled_from(PLACES), JSON), min_size=1, max_size=3),
    st.sampled_from([OLDEST, (1, 34), (1, 35), NEWEST]),
)
def test_no_api_rule_fails_on_hostile_values(
    kind: str, changes: list[tuple[tuple[str, str], Any]], version: tuple[int, int]
) -> None:
    obj = job(kind)
    for (where, key), value in changes:
        place(obj, where, key, copy.deepcopy(value))
    report = evaluate_obj(obj, version=version)
    failures = [f.message for f in report.findings if f.rule == "internal-error"]
    assert not failures, failures


def test_pod_level_limits_beside_containers_of_the_wrong_type() -> None:
    """``containers: true`` beside pod-level limits once crashed api-pod-resources (it walked the
    value as a list); the type error is api-structure's to report, and no rule fails."""
    obj = job("Job")
    pod = obj["spec"]["template"]["spec"]
    pod["resources"] = {"limits": {"cpu": "1"}}
    pod["containers"] = True
    report = evaluate_obj(obj, version=NEWEST)
    assert [f.rule for f in report.findings if f.rule == "internal-error"] == []
    assert ("api-structure", "spec.template.spec.containers") in {
        (f.rule, field_path(f.path)) for f in report.findings
    }
