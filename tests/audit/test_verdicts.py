"""Verdicts on the captured stored objects, as the webhook would give them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn


def _findings(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return sorted((f["file"], f["rule"], f["severity"], f["path"]) for f in doc["findings"])


def test_captured_objects_get_the_webhooks_findings(captured: StandIn, audit: Audit) -> None:
    code, doc = audit.json()
    assert code == 0
    assert _findings(doc) == [
        # The counts its Jobs get anyway from the API server: info, as in lint.
        ("CronJob/batch-demo/nightly-report", "completions-parallelism", "info",
         "spec.jobTemplate.spec.completions"),
        ("CronJob/batch-demo/nightly-report", "completions-parallelism", "info",
         "spec.jobTemplate.spec.parallelism"),
        ("Job/batch-demo/indexed-render", "ttl-after-finished", "warning",
         "spec.ttlSecondsAfterFinished"),
        # Made by hand from the CronJob (kubectl create job --from): judged as any Job.
        ("Job/batch-demo/manual-report", "ttl-after-finished", "warning",
         "spec.ttlSecondsAfterFinished"),
        ("Job/batch-demo/primes-b9bl7", "ttl-after-finished", "warning",
         "spec.ttlSecondsAfterFinished"),
        ("Job/batch-demo/ssa-job", "ttl-after-finished", "warning",
         "spec.ttlSecondsAfterFinished"),
    ]  # fmt: skip
    # Info findings alone are only recorded, as the webhook would: an audit verdict.
    assert doc["verdicts"] == {"allow": 1, "audit": 1, "warn": 4}
    assert doc["summary"]["objects"] == 6


def test_a_scheduled_job_is_attributed_to_its_cronjob_and_not_denied(
    server: StandIn, audit: Audit, tmp_path: Path
) -> None:
    cronjob = objects.stored("cronjob-nightly-report")
    server.state.add(cronjob)
    run = objects.scheduled(objects.stored("job-ssa-job"), cronjob, "nightly-report-29400000")
    run["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    server.state.add(run)
    by_hand = objects.renamed(run, "by-hand")
    by_hand["metadata"]["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
    by_hand["metadata"]["managedFields"][0]["manager"] = "kubectl-create"
    server.state.add(by_hand)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  restart-policy:\n    action: deny\n    allowed: [Never]\n    default: Never\n"
    )
    code, doc = audit.json("--policy", str(policy))
    assert code == 1  # the hand-made Job is denied
    denied = sorted(
        (f["file"], f["severity"]) for f in doc["findings"] if f["rule"] == "restart-policy"
    )
    assert denied == [
        ("CronJob/batch-demo/nightly-report", "error"),  # its template uses OnFailure too
        ("Job/batch-demo/by-hand", "error"),
        ("Job/batch-demo/nightly-report-29400000 (of CronJob nightly-report)", "warning"),
    ]


def test_suppression_annotations_and_scope_apply(server: StandIn, audit: Audit) -> None:
    quiet = objects.renamed(objects.stored("job-ssa-job"), "quiet")
    quiet["metadata"]["annotations"] = {
        "suppress.jobguard.dev/ttl-after-finished": "deleted by our own janitor"
    }
    server.state.add(quiet)
    server.state.add(objects.renamed(objects.stored("job-ssa-job"), "system-job", "kube-system"))
    code, doc = audit.json()
    assert code == 0
    assert doc["findings"] == []
    assert doc["summary"]["suppressed"] == 1


def test_every_format_names_kind_namespace_and_name(captured: StandIn, audit: Audit) -> None:
    import json
    import xml.etree.ElementTree as ET

    text = audit().stdout.splitlines()
    assert (
        "Job/batch-demo/ssa-job: warning ttl-after-finished spec.ttlSecondsAfterFinished: "
        "ttlSecondsAfterFinished is not set: the finished Job and its pods are kept forever; "
        "the policy's default is 259200s (3d)"
    ) in text
    assert text[-1] == (
        "6 Jobs/CronJobs audited (webhook verdicts: 1 allow, 1 audit, 4 warn): 0 errors, 4 warnings, "
        "2 infos"
    )
    sarif = json.loads(audit("--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    ssa = next(r for r in results if r["properties"]["name"] == "ssa-job")
    assert ssa["ruleId"] == "JG104"
    assert ssa["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "Job/batch-demo/ssa-job"
    )
    junit = ET.fromstring(audit("--format", "junit", "--fail-on", "warning").stdout)
    suites = {s.get("name"): s for s in junit.iter("testsuite")}
    assert len(suites) == 6
    failures = suites["Job/batch-demo/ssa-job"].findall("testcase/failure")
    assert len(failures) == 1
    assert audit("--fail-on", "warning").exit_code == 1
    assert audit("--fail-on", "warning", "--exit-zero").exit_code == 0
