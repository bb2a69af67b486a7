"""Output streams page by page: what was judged is written before the next page is asked for,
so memory does not grow with the number of objects listed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from jobguard.audit.run import AuditOptions, run_audit
from jobguard.lint.linter import LintResult
from jobguard.policy import load_policy
from jobguard.render import json_report
from tests.audit import objects
from tests.audit.conftest import CAPTURED, Audit
from tests.audit.standin import StandIn

JOBGUARD_AUDIT = (sys.executable, "-m", "jobguard", "audit")


def _add_jobs(server: StandIn, count: int) -> None:
    base = objects.stored("job-ssa-job")
    for index in range(count):
        server.state.add(objects.renamed(base, f"job-{index:03d}"))


def test_text_of_page_one_is_written_before_page_two_is_answered(
    server: StandIn, tmp_path: Path
) -> None:
    _add_jobs(server, 6)
    server.state.hold_continue = threading.Event()
    kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
    process = subprocess.Popen(
        [*JOBGUARD_AUDIT, "--kubeconfig", str(kubeconfig), "--page-size", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        first_page: list[str] = []
        while len(first_page) < 3:
            line = process.stdout.readline()
            assert line, "the audit ended before printing page 1"
            if line.startswith("Job/"):
                first_page.append(line.split(":")[0])
        # Page 2 is still held by the stand-in: these lines cannot have waited for it.
        assert not server.state.hold_timed_out
        assert first_page == [
            "Job/batch-demo/job-000",
            "Job/batch-demo/job-001",
            "Job/batch-demo/job-002",
        ]
        continues = [r for r in server.state.requests_to("GET", "/jobs") if "continue" in r.query]
        assert len(continues) <= 1  # asked for, not answered
    finally:
        server.state.hold_continue.set()
        rest, _ = process.communicate(timeout=60)
    assert not server.state.hold_timed_out
    assert process.returncode == 0
    assert [line.split(":")[0] for line in rest.splitlines() if line.startswith("Job/")] == [
        "Job/batch-demo/job-003",
        "Job/batch-demo/job-004",
        "Job/batch-demo/job-005",
    ]
    assert rest.splitlines()[-1].startswith("6 Jobs/CronJobs audited")


def test_streamed_json_is_the_whole_report_document(captured: StandIn, audit: Audit) -> None:
    """The streamed document equals json.dumps of the report built from every kept result."""
    _add_jobs(captured, 4)
    captured.state.expire_continue = 1  # a restart note among the problems
    streamed = audit("--format", "json", "--page-size", "2").stdout
    captured.state.expire_continue = 1
    from jobguard.audit.cluster import Cluster

    cluster = Cluster.connect(kubeconfig=str(audit.kubeconfig))
    kept = run_audit(cluster, load_policy([]), AuditOptions(page_size=2, keep_results=True))
    doc = json_report.report_dict(LintResult(files=kept.result.files))
    doc["verdicts"] = dict(sorted(kept.verdicts.items()))
    assert streamed == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(streamed)["summary"]["objects"] == len(CAPTURED) + 4


def test_only_counts_stay_without_sarif_or_junit(captured: StandIn, audit: Audit) -> None:
    from jobguard.audit.cluster import Cluster

    cluster = Cluster.connect(kubeconfig=str(audit.kubeconfig))
    streamed = run_audit(cluster, load_policy([]), AuditOptions())
    assert streamed.result.objects == []  # nothing per object is kept
    assert streamed.reports is None  # no report builder without --report
    assert streamed.tally.objects == len(CAPTURED)
