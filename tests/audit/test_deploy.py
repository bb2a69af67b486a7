"""deploy/audit and deploy/overlays/audit, rendered with the real kubectl.

The RBAC is checked against the calls the real ``jobguard audit`` makes (against the stand-in API
server, as everywhere in these tests): every request it sends is granted, the read role can
change nothing, and the write role holds only the wg-policy reports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn
from tests.deploy.kube import ROOT, find, render

SCHEMA_VERSION = "1.36.0"
KUSTOMIZATIONS = ("deploy/audit", "deploy/overlays/audit")
VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}
_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?$"
)
READ_VERBS = {"get", "list", "watch"}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_renders_valid_objects_for_kubernetes_1_36(kustomization: str) -> None:
    rendered = render(kustomization)
    assert rendered
    for obj in rendered:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)


def test_the_audit_cronjob_passes_jobguard_lint(tmp_path: Path) -> None:
    cronjob = find(render("deploy/overlays/audit"), "CronJob", "jobguard-audit")
    manifest = tmp_path / "audit-cronjob.yaml"
    manifest.write_text(yaml.safe_dump(cronjob))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jobguard",
            "lint",
            "--policy",
            str(ROOT / "policies" / "default.yaml"),
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.splitlines()[-1]) == (
        0,
        "1 file, 1 Job/CronJob, 0 other objects skipped: 0 errors, 0 warnings, 0 infos",
    )


def test_the_cronjob_runs_the_real_audit_command_with_the_served_policy() -> None:
    from jobguard.cli.audit import audit

    rendered = render("deploy/overlays/audit")
    spec = find(rendered, "CronJob", "jobguard-audit")["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    assert spec["serviceAccountName"] == "jobguard-audit"
    container = spec["containers"][0]
    args = container["args"]
    assert args[0] == "audit"
    context = audit.make_context("audit", args[1:])  # the arguments parse
    assert context.params["in_cluster"] and context.params["report"] and context.params["exit_zero"]
    policy_mount = next(m for m in container["volumeMounts"] if m["name"] == "policy")
    assert context.params["policies"] == (f"{policy_mount['mountPath']}/default.yaml",)
    volume = next(v for v in spec["volumes"] if v["name"] == "policy")
    configmap = find(rendered, "ConfigMap", volume["configMap"]["name"])
    assert "default.yaml" in configmap["data"]


def _granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (verb, group, resource)
        for rule in rules
        for verb in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }


def _attributes(method: str, path: str, query: dict[str, str]) -> tuple[str, str, str] | None:
    """(verb, group, resource) as kube-apiserver's authorizer sees the request; None for
    discovery and /version, which every authenticated user may read (system:discovery,
    system:public-info-viewer)."""
    if path.rstrip("/").count("/") <= 3 and path.startswith("/apis/") and method == "GET":
        return None
    if path.rstrip("/") == "/version" and method == "GET":
        return None
    match = _PATH.match(path)
    assert match, path
    verb = VERBS[method]
    if method == "GET" and match["name"] is None:
        verb = "list"
    return verb, match["group"] or "", match["resource"]


def test_rbac_grants_every_call_of_a_full_audit_and_writes_only_reports(
    server: StandIn, audit: Audit
) -> None:
    job = objects.finished(
        objects.without_ttl(objects.stored("job-ssa-job")), "Complete", "2026-11-01T00:00:00Z"
    )
    server.state.add(job)
    server.state.add(objects.pod_of(job, 0))
    server.state.add(objects.stored("cronjob-nightly-report"))
    assert audit("--report", "--cleanup").exit_code == 0
    assert audit("--report").exit_code == 0  # the second run replaces the reports
    calls = {
        a
        for r in server.state.requests
        if (a := _attributes(r.method, r.path, r.query)) is not None
    }
    rendered = render("deploy/audit")
    read = _granted(find(rendered, "ClusterRole", "jobguard-audit")["rules"])
    write = _granted(find(rendered, "ClusterRole", "jobguard-audit-reports")["rules"])
    assert calls - (read | write) == set()
    assert {verb for verb, _, _ in read} <= READ_VERBS
    assert {resource for _, _, resource in write} == {"policyreports", "clusterpolicyreports"}
    # Every report permission is used: get, create (first run) and update (second run).
    assert write <= calls
    assert {("list", "batch", "jobs"), ("list", "batch", "cronjobs"), ("list", "", "pods")} <= calls
    for name in ("jobguard-audit", "jobguard-audit-reports"):
        binding = find(rendered, "ClusterRoleBinding", name)
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": name,
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "jobguard-audit", "namespace": "jobguard"}
        ]
