"""manual-selector (JG110): fix contents, UPDATE handling, exemptions, suppressions, options."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from jobguard.core.kubernetes.selectors import parse_selector
from jobguard.core.patching import apply_edits
from jobguard.policy import PolicyError, load_policy
from tests.helpers import evaluate_obj
from tests.rules._single_rule import found, report_of

UID = "0d5ae2e7-54a4-4ba1-9a36-6a4f2a9e3c11"


def manual_job(
    selector: Any, template_labels: dict[str, str] | None = None, **meta: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "handover", "namespace": "reports", **meta},
        "spec": {
            "manualSelector": True,
            "selector": selector,
            "template": {
                "metadata": {"labels": template_labels or {}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                },
            },
        },
    }


def findings(obj: dict[str, Any], **kw: Any) -> list[tuple[str, str]]:
    return found(obj, "manual-selector", **kw)


def test_the_fix_drops_the_selector_and_the_identity_labels_the_api_server_regenerates() -> None:
    job = manual_job(
        {"matchLabels": {"controller-uid": UID}},
        {"controller-uid": UID, "job-name": "old-report", "app": "report"},
    )
    report = report_of(job, "manual-selector")
    (finding,) = report.findings
    assert finding.field == "spec.manualSelector"
    assert finding.fix is not None and finding.fix.safe is False
    assert sorted(op["path"] for op in finding.patch) == [
        "/spec/manualSelector",
        "/spec/selector",
        "/spec/template/metadata/labels/controller-uid",
        "/spec/template/metadata/labels/job-name",
    ]
    assert {op["op"] for op in finding.patch} == {"remove"}
    # Unsafe: never part of the automatically applied patch.
    assert report.fixed() == (job, [])
    fixed, _ = apply_edits(job, finding.fix.edits)
    assert fixed["spec"] == {
        "template": {
            "metadata": {"labels": {"app": "report"}},
            "spec": job["spec"]["template"]["spec"],
        }
    }
    assert findings(fixed) == []


def test_each_unsafe_selector_gets_its_own_message() -> None:
    assert findings(manual_job({})) == [
        (
            "spec.manualSelector",
            "manualSelector: true is not allowed; let the API server generate the selector",
        ),
        (
            "spec.selector",
            "the empty selector matches every pod in the namespace; the Job would adopt and "
            "delete other workloads' pods",
        ),
    ]
    shared = manual_job({"matchLabels": {"app": "report"}}, {"app": "web"})
    assert findings(shared)[1:] == [
        (
            "spec.selector",
            "the selector can match other workloads' pods; pin one of "
            "batch.kubernetes.io/controller-uid, controller-uid, batch.kubernetes.io/job-name, job-name",
        ),
        ("spec.template.metadata.labels", "`selector` does not match template `labels`"),
    ]


def test_a_malformed_or_missing_selector_is_left_to_the_api_rules() -> None:
    for selector in (None, "app=report", {"matchExpressions": [{"key": "a", "operator": "Near"}]}):
        assert [f for f, _ in findings(manual_job(selector))] == ["spec.manualSelector"]


def test_an_update_of_a_job_created_with_a_manual_selector_is_not_blocked() -> None:
    job = manual_job({"matchLabels": {"app": "report"}}, {"app": "report"})
    resumed = copy.deepcopy(job)
    resumed["spec"]["suspend"] = False
    assert findings(resumed, operation="UPDATE", old_object=job) == []


def test_turning_manual_selector_on_in_an_update_is_reported_without_a_fix() -> None:
    old = manual_job({"matchLabels": {"batch.kubernetes.io/controller-uid": UID}})
    old["spec"]["manualSelector"] = False
    new = manual_job(
        {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
        {"batch.kubernetes.io/controller-uid": UID},
    )
    report = evaluate_obj(new, operation="UPDATE", old_object=old)
    (finding,) = [f for f in report.findings if f.rule == "manual-selector"]
    assert (finding.field, finding.fix, finding.patch) == ("spec.manualSelector", None, ())


def test_an_admission_object_with_the_defaulted_false_is_fine() -> None:
    job = manual_job(None)
    job["spec"]["manualSelector"] = False
    del job["spec"]["selector"]
    assert findings(job, defaulted=True) == []


def test_the_jobs_own_suppression_annotation_never_silences_the_rule() -> None:
    job = manual_job(
        {"matchLabels": {"controller-uid": UID}},
        {"controller-uid": UID},
        annotations={"suppress.jobguard.dev/manual-selector": "pod handover, reviewed in OPS-77"},
    )
    report = evaluate_obj(job)
    # A Job that may adopt and delete other workloads' pods cannot exempt itself.
    assert [f.field for f in report.findings if f.rule == "manual-selector"] == [
        "spec.manualSelector"
    ]
    assert report.suppressed == ()
    assert report.refused_suppressions == {
        "manual-selector": "manual-selector can never be suppressed by the object itself; "
        "an exemption in the policy file can lift it"
    }


def test_an_exemption_label_without_a_value_accepts_any_value(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  manual-selector: {exempt_label: reviewed-selector}\n"
    )
    policy = load_policy([str(path)])
    job = manual_job(
        {"matchLabels": {"controller-uid": UID}},
        {"controller-uid": UID},
        labels={"reviewed-selector": "OPS-77"},
    )
    report = evaluate_obj(job, policy)
    assert [f.field for f in report.findings if f.rule == "manual-selector"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{exempt_label: '=true'}", "must be a label key or key=value"),
        ("{unique_keys: []}", "must name at least one label key"),
    ],
)
def test_bad_options_are_policy_errors_with_a_position(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  manual-selector: {body}\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy([str(path)])
    (problem,) = info.value.problems
    assert problem.line == 4 and message in problem.message


def test_selector_semantics_follow_kubernetes() -> None:
    selector = parse_selector(
        {
            "matchLabels": {"app": "report"},
            "matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["web"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector is not None
    assert selector.matches({"app": "report", "team": "a"})  # NotIn holds when the key is absent
    assert selector.matches({"app": "report", "team": "a", "tier": "batch"})
    assert not selector.matches({"app": "report", "team": "a", "tier": "web"})
    assert not selector.matches({"app": "report"})
    assert not selector.matches({"app": "report", "team": "a", "legacy": ""})
    everything = parse_selector({})
    assert everything is not None and everything.is_empty and everything.matches({"any": "x"})
    assert (
        parse_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}) is None
    )
    assert (
        parse_selector({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})
        is None
    )
