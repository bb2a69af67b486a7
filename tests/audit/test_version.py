"""--kubernetes-version auto (the default): the stand-in's /version decides what the
version-dependent rules assume, as for jobguard serve."""

from __future__ import annotations

from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn


def _version(major: str, minor: str, git: str) -> dict[str, str]:
    return {"major": major, "minor": minor, "gitVersion": git, "platform": "linux/amd64"}


def test_auto_uses_the_version_the_api_server_reports(server: StandIn, audit: Audit) -> None:
    server.state.add(objects.stored("job-ssa-job"))
    server.state.version = _version("1", "34+", "v1.34.3-eks-1234")
    result = audit()
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "the API server runs Kubernetes 1.34 (v1.34.3-eks-1234); version-dependent rules "
        "target 1.34"
    ]
    assert server.state.requests_to("GET", "/version")


def test_a_version_outside_the_supported_range_is_clamped(server: StandIn, audit: Audit) -> None:
    server.state.version = _version("1", "99", "v1.99.0")
    result = audit()
    assert result.exit_code == 0
    [line] = result.stderr.splitlines()
    assert line.startswith("warning: the API server runs Kubernetes 1.99 (v1.99.0), outside")


def test_no_version_falls_back_to_the_default_and_says_why(server: StandIn, audit: Audit) -> None:
    result = audit("--kubernetes-version", "auto")  # the stand-in answers 404
    assert result.exit_code == 0
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "warning: cannot learn the cluster's Kubernetes version: GET /version: HTTP 404"
    )
    assert line.endswith("version-dependent rules target the default, Kubernetes 1.37")


def test_a_given_version_is_used_without_asking(server: StandIn, audit: Audit) -> None:
    result = audit("--kubernetes-version", "1.33")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "version-dependent rules target Kubernetes 1.33 (--kubernetes-version)"
    ]
    assert not server.state.requests_to("GET", "/version")


def test_the_reported_version_changes_version_dependent_findings(
    server: StandIn, audit: Audit
) -> None:
    job = objects.stored("job-ssa-job")
    pod = job["spec"]["template"]["spec"]
    for container in pod["containers"]:
        container["resources"] = {}
    # Pod-level resources cover every container from Kubernetes 1.34 on.
    pod["resources"] = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}
    server.state.add(job)

    def resources_findings() -> list[str]:
        _, doc = audit.json()
        return sorted(f["path"] for f in doc["findings"] if f["rule"] == "resources")

    server.state.version = _version("1", "33", "v1.33.5")
    before = resources_findings()
    server.state.version = _version("1", "36", "v1.36.2")
    assert resources_findings() == []
    assert before == ["spec.template.spec.containers[0].resources"]
