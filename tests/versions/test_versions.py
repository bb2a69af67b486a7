"""The supported Kubernetes versions: the one parser of --kubernetes-version, each version's own
schema (from the generated data, deltas included) and each gate's default per version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobguard.core.kubernetes import versions
from jobguard.core.kubernetes.schema import SCHEMA_FILE, fields_present, structure_errors
from jobguard.core.kubernetes.versions import (
    DEFAULT_KUBERNETES_VERSION,
    NEWEST,
    OLDEST,
    POD_FIELD_GATES,
    VersionError,
    parse_setting,
    parse_version,
    pod_fields_off,
)
from jobguard.core.paths import field_path


def test_the_supported_range_is_the_range_the_schema_data_covers() -> None:
    data = json.loads(SCHEMA_FILE.read_text())
    assert tuple(data["versions"][0]) == OLDEST == (1, 25)
    assert tuple(data["versions"][-1]) == NEWEST
    assert len(data["versions"]) == NEWEST[1] - OLDEST[1] + 1  # every minor release in between


def test_the_default_is_a_current_release() -> None:
    assert DEFAULT_KUBERNETES_VERSION >= (1, 36)
    assert OLDEST <= DEFAULT_KUBERNETES_VERSION <= NEWEST


@pytest.mark.parametrize(
    ("text", "version"), [("1.25", (1, 25)), ("1.36", (1, 36)), (" 1.30 ", (1, 30))]
)
def test_major_minor_is_parsed(text: str, version: tuple[int, int]) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "v1.34",
            "'v1.34': give the minor release as MAJOR.MINOR, '1.34' (patch releases and the v prefix are not part of it)",
        ),
        (
            "1.34.1",
            "'1.34.1': give the minor release as MAJOR.MINOR, '1.34' (patch releases and the v prefix are not part of it)",
        ),
        (
            "v1.36.2",
            "'v1.36.2': give the minor release as MAJOR.MINOR, '1.36' (patch releases and the v prefix are not part of it)",
        ),
        ("2.0", "Kubernetes 2.0 is not supported: jobguard knows the API of 1.25 to 1.37"),
        ("1.24", "Kubernetes 1.24 is not supported: jobguard knows the API of 1.25 to 1.37"),
        ("1.38", "Kubernetes 1.38 is not supported: jobguard knows the API of 1.25 to 1.37"),
        ("latest", "'latest' is not MAJOR.MINOR (e.g. 1.37)"),
        ("1", "'1' is not MAJOR.MINOR (e.g. 1.37)"),
        ("1.036", "'1.036' is not MAJOR.MINOR (e.g. 1.37)"),
        ("", "'' is not MAJOR.MINOR (e.g. 1.37)"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(VersionError) as exc:
        parse_version(text)
    assert str(exc.value) == message


def test_auto_is_a_setting_not_a_version() -> None:
    assert parse_setting("auto") is None
    assert parse_setting("1.33") == (1, 33)
    with pytest.raises(VersionError):
        parse_version("auto")


def _job(pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "v"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", **pod}}},
    }


def _paths(obj: dict[str, Any], version: tuple[int, int]) -> list[str]:
    return [field_path(e.path) for e in structure_errors(obj, version)]


EPHEMERAL_PVC = {
    "containers": [{"name": "main", "image": "busybox"}],
    "volumes": [
        {
            "name": "scratch",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    }
                }
            },
        }
    ],
}


@pytest.mark.parametrize("version", [(1, 25), (1, 28), (1, 29), (1, 36)])
def test_a_pvc_template_requests_storage_in_every_version(version: tuple[int, int]) -> None:
    # Its type changed in 1.29 (ResourceRequirements -> VolumeResourceRequirements): each
    # version's schema has its own.
    assert _paths(_job(EPHEMERAL_PVC), version) == []


def test_a_field_that_existed_in_one_release_only_is_unknown_after_it() -> None:
    obj = _job({"containers": [{"name": "main", "image": "busybox"}], "workloadRef": {"name": "w"}})
    assert _paths(obj, (1, 34)) == ["spec.template.spec.workloadRef"]
    assert _paths(obj, (1, 35)) == []
    assert _paths(obj, (1, 36)) == ["spec.template.spec.workloadRef"]


def test_a_claim_source_is_known_while_the_schema_had_it() -> None:
    claim = {"name": "gpu", "source": {"resourceClaimTemplateName": "gpu"}}
    obj = _job({"containers": [{"name": "main", "image": "busybox"}], "resourceClaims": [claim]})
    assert _paths(obj, (1, 27)) == []
    assert _paths(obj, (1, 31)) == ["spec.template.spec.resourceClaims[0].source"]
    assert _paths(obj, (1, 25)) == ["spec.template.spec.resourceClaims"]


def test_a_newer_field_names_the_release_that_added_it() -> None:
    obj = _job({"containers": [{"name": "main", "image": "busybox"}], "hostnameOverride": "h"})
    (error,) = structure_errors(obj, (1, 33))
    assert error.message == (
        'strict decoding error: unknown field "spec.template.spec.hostnameOverride" (the field '
        "was added in Kubernetes 1.34; the target version is 1.33, see --kubernetes-version)"
    )


def test_every_gated_pod_field_is_in_the_schema_from_its_alpha_release() -> None:
    # A gate whose field the schema lacks would make api-feature-gates and api-structure
    # disagree on what the API server does.
    from jobguard.core.kubernetes.schema import load_schema

    schema = load_schema()
    for gate in POD_FIELD_GATES:
        first = max(gate.added, OLDEST)
        for key in gate.fields:
            type_name, field = key.rsplit(".", 1)
            assert field in schema.types_at(first).get(type_name, {}), (gate.gate, key, first)


def test_gate_defaults_follow_the_versioned_specs() -> None:
    off = pod_fields_off
    key = "io.k8s.api.core.v1.PodSpec.resources"
    assert key not in off((1, 31))  # not in the schema yet: api-structure's business
    assert key in off((1, 32)) and key in off((1, 33))
    assert key not in off((1, 34))
    sidecar = "io.k8s.api.core.v1.Container.restartPolicy"
    assert sidecar in off((1, 28)) and sidecar not in off((1, 29))
    stop = "io.k8s.api.core.v1.Lifecycle.stopSignal"
    assert all(stop in off((1, minor)) for minor in range(33, NEWEST[1] + 1))
    assert versions.feature_enabled("JobManagedBy", (1, 32))
    assert not versions.feature_enabled("JobManagedBy", (1, 31))


def test_fields_present_finds_gated_fields_under_lists_and_maps() -> None:
    obj = _job(
        {
            "initContainers": [{"name": "a", "image": "b", "restartPolicy": "Always"}],
            "containers": [
                {"name": "main", "image": "busybox", "lifecycle": {"stopSignal": "SIGTERM"}}
            ],
        }
    )
    wanted = frozenset(pod_fields_off((1, 28)) | pod_fields_off((1, 33)))
    found = [(field_path(p), k.rsplit(".", 2)[-2]) for p, k in fields_present(obj, (1, 33), wanted)]
    assert found == [
        ("spec.template.spec.initContainers[0].restartPolicy", "Container"),
        ("spec.template.spec.containers[0].lifecycle.stopSignal", "Lifecycle"),
    ]
