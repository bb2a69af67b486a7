"""--cleanup: finished Jobs nothing deletes, oldest first with their pods; CronJob history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobguard.audit.cleanup import age_text
from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn

DAY = 86400


def _ago(seconds: int) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _job(name: str, namespace: str = "batch-demo") -> dict[str, Any]:
    return objects.without_ttl(objects.renamed(objects.stored("job-ssa-job"), name, namespace))


def test_finished_jobs_are_counted_and_aged_per_namespace(server: StandIn, audit: Audit) -> None:
    state = server.state
    old = objects.finished(_job("nightly-export"), "Complete", _ago(10 * DAY))
    failed = objects.finished(_job("broken-import"), "Failed", _ago(2 * DAY))
    recent = objects.finished(_job("recent"), "Complete", _ago(3 * 3600))
    other_ns = objects.finished(_job("etl", "data"), "Complete", _ago(5 * DAY))
    running = _job("still-running")
    with_ttl = objects.finished(
        objects.renamed(objects.stored("job-pi"), "with-ttl"), "Complete", _ago(DAY)
    )
    cronjob = objects.stored("cronjob-nightly-report")
    cronjob["spec"]["successfulJobsHistoryLimit"] = 50
    scheduled = objects.finished(
        objects.scheduled(_job("x"), cronjob, "nightly-report-1"), "Complete", _ago(DAY)
    )
    for obj in (old, failed, recent, other_ns, running, with_ttl, cronjob, scheduled):
        state.add(obj)
    for pod in (
        objects.pod_of(old, 0),
        objects.pod_of(old, 1),
        objects.pod_of(failed, 0, new_label=False),  # created before 1.27: job-name only
        objects.pod_of(running, 0),  # a running Job's pod: not counted
    ):
        state.add(pod)

    code, doc = audit.json("--cleanup", "--page-size", "2")
    assert code == 0
    cleanup = doc["cleanup"]
    summary = [
        (
            ns["namespace"],
            ns["jobs"],
            ns["pods"],
            [(j["name"], j["condition"], j["pods"]) for j in ns["finishedJobs"]],
        )
        for ns in cleanup["namespaces"]
    ]
    assert summary == [
        (
            "batch-demo",
            3,
            3,
            [
                ("nightly-export", "Complete", 2),
                ("broken-import", "Failed", 1),
                ("recent", "Complete", 0),
            ],
        ),
        ("data", 1, 0, [("etl", "Complete", 0)]),
    ]
    ages = [j["ageSeconds"] for j in cleanup["namespaces"][0]["finishedJobs"]]
    for age, expected in zip(ages, (10 * DAY, 2 * DAY, 3 * 3600), strict=True):
        assert expected <= age < expected + 120
    assert cleanup["namespaces"][0]["oldestAgeSeconds"] == ages[0]
    assert cleanup["cronJobHistory"] == [
        {
            "namespace": "batch-demo",
            "name": "nightly-report",
            "limits": {"successfulJobsHistoryLimit": 50, "failedJobsHistoryLimit": 1},
            "allowed": {"successfulJobsHistoryLimit": 10, "failedJobsHistoryLimit": 10},
            "kept": {"successful": 1},
        }
    ]
    pod_lists = [
        (r.path, r.query["labelSelector"]) for r in server.state.requests_to("GET", "/pods")
    ]
    assert list(dict.fromkeys(pod_lists)) == [
        (f"/api/v1/namespaces/{ns}/pods", selector)
        for ns in ("batch-demo", "data")
        for selector in ("batch.kubernetes.io/job-name", "job-name,!batch.kubernetes.io/job-name")
    ]


def test_cleanup_text_lists_oldest_first(server: StandIn, audit: Audit) -> None:
    server.state.add(objects.finished(_job("b-newer"), "Complete", _ago(DAY + 60)))
    server.state.add(objects.finished(_job("a-older"), "Failed", _ago(4 * DAY + 7200 + 60)))
    result = audit("--cleanup")
    lines = result.stdout.splitlines()
    start = lines.index(
        "Finished Jobs that nothing deletes (no ttlSecondsAfterFinished, no CronJob owner):"
    )
    assert lines[start + 1 : start + 4] == [
        "  namespace batch-demo: 2 Jobs holding 0 pods, oldest finished 4d 2h ago",
        "    Job a-older  Failed  finished 4d 2h ago  0 pods",
        "    Job b-newer  Complete  finished 1d 0h ago  0 pods",
    ]
    assert lines[start + 4 : start + 6] == [
        "CronJobs whose history limits keep more than the policy allows:",
        "  none",
    ]


def test_age_text() -> None:
    assert [age_text(s) for s in (0, 59, 61, 3600 * 5 + 720, DAY * 3 + 3600 * 4 + 5)] == [
        "0m",
        "0m",
        "1m",
        "5h 12m",
        "3d 4h",
    ]
