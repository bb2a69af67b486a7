"""--report: PolicyReport and ClusterPolicyReport objects written to the stand-in API server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn

NS_KEY = ("policyreports", "batch-demo", "jobguard-audit")
CLUSTER_KEY = ("clusterpolicyreports", "", "jobguard-audit")
TTL_MESSAGE = (
    "spec.ttlSecondsAfterFinished: ttlSecondsAfterFinished is not set: the finished Job and its "
    "pods are kept forever; the policy's default is 259200s (3d)"
)


def _job(name: str, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": name,
        "namespace": "batch-demo",
        "uid": uid,
    }


def _timeless(report: dict[str, Any]) -> dict[str, Any]:
    results = [{k: v for k, v in r.items() if k != "timestamp"} for r in report["results"]]
    meta = {k: v for k, v in report["metadata"].items() if k != "resourceVersion"}
    return {**report, "metadata": meta, "results": results}


def _pass(rule: str, judged: int) -> dict[str, Any]:
    return {
        "source": "jobguard",
        "policy": "jobguard",
        "rule": rule,
        "result": "pass",
        "scored": True,
        "message": f"{judged} {'object' if judged == 1 else 'objects'} judged, no finding",
        "properties": {"objects": str(judged)},
    }


PASSES = [
    _pass("active-deadline", 6),
    _pass("api-warnings", 6),
    _pass("backoff-limit", 6),
    _pass("cronjob-concurrency", 1),
    _pass("cronjob-history-limits", 1),
    _pass("cronjob-schedule", 1),
    _pass("cronjob-starting-deadline", 1),
    _pass("manual-selector", 5),
    _pass("resources", 6),
    _pass("restart-policy", 6),
    _pass("suppression", 6),
]


def test_reports_hold_one_result_per_rule_and_outcome(captured: StandIn, audit: Audit) -> None:
    before = int(time.time())
    result = audit("--report")
    assert result.exit_code == 0, result.stdout
    assert "PolicyReport batch-demo/jobguard-audit created" in result.stdout
    assert "ClusterPolicyReport jobguard-audit created" in result.stdout
    report = captured.state.reports[NS_KEY]
    assert {r["timestamp"]["seconds"] for r in report["results"]} <= set(
        range(before, int(time.time()) + 1)
    )
    assert _timeless(report) == {
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": "PolicyReport",
        "metadata": {
            "name": "jobguard-audit",
            "namespace": "batch-demo",
            "labels": {"app.kubernetes.io/managed-by": "jobguard"},
        },
        "summary": {"pass": 11, "fail": 0, "warn": 2, "error": 0, "skip": 0},
        "results": [
            {
                "source": "jobguard",
                "policy": "jobguard",
                "rule": "completions-parallelism",
                "category": "policy",
                "result": "warn",
                "severity": "medium",
                "scored": True,
                "message": "spec.jobTemplate.spec.completions: completions is not set: a "
                "non-parallel Job (one pod, done on its first success); write completions: 1",
                "resources": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "nightly-report",
                        "namespace": "batch-demo",
                        "uid": "7af977d4-f837-4ea0-ba00-f053661767a1",
                    }
                ],
                "properties": {"objects": "1"},
            },
            {
                "source": "jobguard",
                "policy": "jobguard",
                "rule": "ttl-after-finished",
                "category": "policy",
                "result": "warn",
                "severity": "medium",
                "scored": True,
                "message": f"4 objects, for example: {TTL_MESSAGE}",
                "resources": [
                    _job("indexed-render", "c43f98b3-0ad0-4074-886e-a676758791a8"),
                    # made by hand from a CronJob (kubectl create job --from): any Job
                    _job("manual-report", "a0d5e8df-9cae-442a-8f7e-99f20b0aadb4"),
                    _job("primes-b9bl7", "059ef3b6-dc4a-42ce-8f47-f66b7234c343"),
                    _job("ssa-job", "a47342a9-16a0-4c28-9b15-028dd57f359a"),
                ],
                "properties": {"objects": "4"},
            },
            *PASSES,
        ],
    }
    cluster = _timeless(captured.state.reports[CLUSTER_KEY])
    assert cluster["kind"] == "ClusterPolicyReport" and "namespace" not in cluster["metadata"]
    ttl = next(r for r in cluster["results"] if r["rule"] == "ttl-after-finished")
    assert ttl["resources"] == [{"apiVersion": "v1", "kind": "Namespace", "name": "batch-demo"}]
    assert ttl["properties"] == {"objects": "4"}
    assert cluster["summary"] == {"pass": 11, "fail": 0, "warn": 2, "error": 0, "skip": 0}


def test_writing_again_replaces_the_same_reports(captured: StandIn, audit: Audit) -> None:
    assert audit("--report").exit_code == 0
    first = _timeless(captured.state.reports[NS_KEY])
    captured.state.requests.clear()
    result = audit("--report")
    assert result.exit_code == 0
    assert "PolicyReport batch-demo/jobguard-audit updated" in result.stdout
    assert _timeless(captured.state.reports[NS_KEY]) == first
    writes = [
        (r.method, r.path)
        for r in captured.state.requests
        if "wgpolicyk8s.io" in r.path and r.method != "GET"
    ]
    assert writes == [
        ("PUT", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/batch-demo/policyreports/jobguard-audit"),
        ("PUT", "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/jobguard-audit"),
    ]
    assert len(captured.state.reports) == 2


def test_without_the_crds_the_audit_says_so(captured: StandIn, audit: Audit) -> None:
    captured.state.reports_installed = False
    result = audit("--report")
    assert result.exit_code == 2
    assert (
        "error: --report: the PolicyReport CRDs (wgpolicyk8s.io/v1alpha2) are not installed in "
        "this cluster" in result.stdout
    )
    assert "6 Jobs/CronJobs audited" in result.stdout  # the audit itself still ran
    assert captured.state.reports == {}


def test_exemptions_are_skips_and_unreadable_lists_are_errors(
    server: StandIn, audit: Audit, tmp_path: Path
) -> None:
    server.state.add(objects.stored("job-ssa-job"))
    server.state.add(objects.renamed(objects.stored("job-ssa-job"), "hidden", "locked"))
    server.state.forbidden = {"locked"}
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nexemptions:\n"
        "  - rules: [ttl-after-finished]\n    names: [ssa-*]\n    reason: cleaned by its owner\n"
    )
    result = audit("--report", "--policy", str(policy), "-n", "batch-demo", "-n", "locked")
    assert result.exit_code == 2  # one namespace could not be read
    report = _timeless(server.state.reports[NS_KEY])
    ttl = [r for r in report["results"] if r["rule"] == "ttl-after-finished"]
    assert [(r["result"], r["scored"], r["severity"]) for r in ttl] == [("skip", False, "medium")]
    errors = [r for r in server.state.reports[CLUSTER_KEY]["results"] if r["result"] == "error"]
    assert [e["message"].split(":")[0] for e in errors] == [
        "list cronjobs in namespace 'locked'",
        "list jobs in namespace 'locked'",
    ]
    assert ("policyreports", "locked", "jobguard-audit") not in server.state.reports
