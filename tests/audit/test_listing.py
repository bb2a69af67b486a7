"""Listing against the stand-in API server: pages, an expired continue token, 403, an
unreachable server, objects from a newer cluster."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jobguard.cli import main
from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn


def _add_jobs(server: StandIn, count: int, namespace: str = "batch-demo") -> None:
    base = objects.stored("job-ssa-job")
    for index in range(count):
        server.state.add(objects.renamed(base, f"job-{index:03d}", namespace))


def _judged(doc: dict[str, Any]) -> list[str]:
    return sorted(f["file"] for f in doc["findings"] if f["rule"] == "ttl-after-finished")


def test_lists_in_pages_with_continue_tokens(server: StandIn, audit: Audit) -> None:
    _add_jobs(server, 7)
    code, doc = audit.json("--page-size", "3")
    assert code == 0
    job_lists = server.state.requests_to("GET", "/apis/batch/v1/jobs")
    assert [r.query.get("limit") for r in job_lists] == ["3", "3", "3"]
    assert [("continue" in r.query) for r in job_lists] == [False, True, True]
    assert _judged(doc) == [f"Job/batch-demo/job-{i:03d}" for i in range(7)]
    assert doc["summary"]["objects"] == 7


def test_an_expired_continue_token_restarts_the_list(server: StandIn, audit: Audit) -> None:
    _add_jobs(server, 5)
    server.state.expire_continue = 1
    code, doc = audit.json("--page-size", "2")
    assert code == 0  # a restart is a note, not a failure
    job_lists = server.state.requests_to("GET", "/apis/batch/v1/jobs")
    # first page, continue -> 410, the list again from the start, then its continues
    assert [("continue" in r.query) for r in job_lists] == [False, True, False, True, True]
    assert _judged(doc) == [f"Job/batch-demo/job-{i:03d}" for i in range(5)]  # each once
    [note] = doc["problems"]
    assert note["severity"] == "warning"
    assert "410 Gone" in note["message"] and "started again" in note["message"]


def test_a_403_on_one_namespace_is_reported_and_the_rest_is_audited(
    server: StandIn, audit: Audit
) -> None:
    _add_jobs(server, 2, "batch-demo")
    _add_jobs(server, 2, "locked")
    server.state.forbidden = {"locked"}
    code, doc = audit.json("-n", "locked", "-n", "batch-demo")
    assert code == 2
    assert _judged(doc) == ["Job/batch-demo/job-000", "Job/batch-demo/job-001"]
    messages = [p["message"] for p in doc["problems"]]
    assert messages == [
        "list cronjobs in namespace 'locked': HTTP 403: cronjobs.batch is forbidden: User "
        '"system:serviceaccount:jobguard:audit" cannot list resource "cronjobs" in API group '
        '"batch" in the namespace "locked"',
        "list jobs in namespace 'locked': HTTP 403: jobs.batch is forbidden: User "
        '"system:serviceaccount:jobguard:audit" cannot list resource "jobs" in API group '
        '"batch" in the namespace "locked"',
    ]


def test_an_unreachable_api_server_is_a_clear_error(tmp_path: Path, server: StandIn) -> None:
    config = server.kubeconfig(tmp_path / "kubeconfig")
    server.shutdown()
    server.server_close()
    started = time.monotonic()
    result = CliRunner().invoke(main, ["audit", "--kubeconfig", str(config)])
    assert result.exit_code == 2
    assert f"the API server at {server.url} is unreachable" in result.stdout
    assert "0 Jobs/CronJobs audited" in result.stdout
    assert time.monotonic() - started < 60


def test_a_missing_kubeconfig_context_is_a_usage_error(audit: Audit) -> None:
    result = audit("--context", "no-such-context")
    assert result.exit_code == 2
    assert "cannot use the kubeconfig" in result.stderr
    assert "no-such-context" in result.stderr


def test_fields_from_a_newer_cluster_do_not_change_the_verdict(
    server: StandIn, audit: Audit
) -> None:
    known = objects.renamed(objects.stored("job-ssa-job"), "known")
    newer = copy.deepcopy(objects.renamed(known, "newer"))
    newer["spec"]["futureKnob"] = {"mode": "Fast"}
    newer["spec"]["template"]["spec"]["containers"][0]["sidecarHints"] = ["x"]
    newer["status"]["futureCounter"] = 3
    server.state.add(known)
    server.state.add(newer)
    code, doc = audit.json()
    assert code == 0
    by_object: dict[str, list[tuple[str, str]]] = {}
    for f in doc["findings"]:
        by_object.setdefault(f["name"], []).append((f["rule"], f["path"]))
    assert (
        by_object["newer"]
        == by_object["known"]
        == [("ttl-after-finished", "spec.ttlSecondsAfterFinished")]
    )


def test_in_cluster_outside_a_pod_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    result = CliRunner().invoke(main, ["audit", "--in-cluster"])
    assert result.exit_code == 2
    assert "error: cannot use the in-cluster service account" in result.stderr
    assert "nothing was audited" in result.stderr


def test_bad_options_are_usage_errors(audit: Audit) -> None:
    result = audit("--kubernetes-version", "1.36.2")
    assert result.exit_code == 2
    assert "give the minor release as MAJOR.MINOR, '1.36'" in result.stderr
    result = CliRunner().invoke(main, ["audit", "--in-cluster", "--context", "x"])
    assert result.exit_code == 2
    assert "--in-cluster does not take --kubeconfig or --context" in result.stderr


def test_a_403_on_the_cluster_wide_list_suggests_namespaces(server: StandIn, audit: Audit) -> None:
    _add_jobs(server, 1)
    server.state.forbidden = {"*"}
    code, doc = audit.json()
    assert code == 2
    assert [p["message"].split(": HTTP")[0] for p in doc["problems"]] == [
        "list cronjobs in all namespaces",
        "list jobs in all namespaces",
    ]
    assert all(
        p["message"].endswith("at the cluster scope; audit the namespaces you may read with -n NS")
        for p in doc["problems"]
    )
    server.state.forbidden = {"*"}
    code, doc = audit.json("-n", "batch-demo")  # a namespaced list is allowed
    assert code == 0
    assert _judged(doc) == ["Job/batch-demo/job-000"]
