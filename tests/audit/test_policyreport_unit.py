"""ReportBuilder on its own: how a report stays bounded."""

from __future__ import annotations

from jobguard.audit.judge import judge
from jobguard.audit.policyreport import MAX_RESOURCES, ReportBuilder
from jobguard.core.subject import Subject
from jobguard.policy import load_policy
from tests.audit import objects


def test_a_result_lists_at_most_max_resources_and_counts_them_all() -> None:
    builder = ReportBuilder()
    policy = load_policy([])
    for index in range(MAX_RESOURCES + 50):
        obj = objects.renamed(objects.stored("job-ssa-job"), f"job-{index}")
        subject = Subject.stored(obj)
        assert subject is not None
        judgement = judge(subject, policy)
        findings = tuple(lf.finding for lf in judgement.result.findings)
        builder.add(obj, findings, judgement.exempted, judgement.rules_run)
    report = builder.namespace_report("batch-demo", seconds=0)
    [ttl] = [r for r in report["results"] if r["rule"] == "ttl-after-finished"]
    assert len(ttl["resources"]) == MAX_RESOURCES
    assert ttl["properties"] == {"objects": "250", "resourcesNotListed": "50"}
    assert ttl["message"].startswith("250 objects, for example: spec.ttlSecondsAfterFinished:")
