"""The one plan of fixes (jobguard.core.fixplan): what it applies, for a manifest and for each
admission operation, and that ``lint --fix``, ``--diff`` and ``/mutate`` apply the same plan."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jobguard.cli import main
from jobguard.core.engine import Report, evaluate
from jobguard.core.fixplan import EXISTING, IMMUTABLE, REJECTED, applies, plan_fixes
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.model import Action, Category, Finding, Fix, SetValue, Severity
from jobguard.core.subject import Operation, Subject
from jobguard.core.view import JobView
from jobguard.policy import load_policy
from jobguard.rules import REGISTRY
from jobguard.webhook import admission
from jobguard.webhook.review import parse_review
from tests.webhook.support import all_rules_off, review_for, write_policy

JOB_WITHOUT_BACKOFF = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: report
  namespace: batch
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
"""


def _finding(
    rule: str, action: Action, path: tuple[str, ...], value: Any, safe: bool = True
) -> Finding:
    return Finding(
        rule=rule,
        code="JG999",
        category=Category.POLICY,
        severity=action.severity,
        action=action,
        path=path,
        message="m",
        fix=Fix(f"set {path[-1]}", (SetValue(path, value),), safe=safe),
    )


def _new(kind: str, operation: Operation = Operation.MANIFEST) -> Subject:
    view = JobView.of({"apiVersion": "batch/v1", "kind": kind, "spec": {}})
    assert view is not None
    return Subject.of(view, operation)


def _update(old: dict[str, Any], version: Version = DEFAULT_KUBERNETES_VERSION) -> Subject:
    """An UPDATE of ``old`` (to a copy of itself: only the old object matters here)."""
    view = JobView.of(copy.deepcopy(old), kubernetes_version=version)
    assert view is not None
    return Subject.of(view, Operation.UPDATE, old_object=old)


def _policy(tmp_path: Path, rules: dict[str, Any]) -> list[str]:
    return [str(all_rules_off(tmp_path)), str(write_policy(tmp_path / "policy.yaml", rules))]


def test_audit_and_unsafe_fixes_are_not_applied_deny_and_warn_ones_are() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {}}
    view = JobView.of(job)
    assert view is not None
    findings = (
        _finding("a", Action.AUDIT, ("spec", "backoffLimit"), 3),
        _finding("b", Action.WARN, ("spec", "parallelism"), 1),
        _finding("c", Action.DENY, ("spec", "completions"), 1),
        _finding("d", Action.WARN, ("spec", "suspend"), True, safe=False),
    )
    assert [applies(f) for f in findings] == [False, True, True, False]
    plan = plan_fixes(Report(view, findings), Subject.of(view))
    assert plan.patch == [
        {"op": "add", "path": "/spec/parallelism", "value": 1},
        {"op": "add", "path": "/spec/completions", "value": 1},
    ]
    assert [f.rule for f in plan.applied] == ["b", "c"]
    assert plan.obj == {**job, "spec": {"parallelism": 1, "completions": 1}}
    assert job == {"apiVersion": "batch/v1", "kind": "Job", "spec": {}}  # not modified


def test_a_fix_that_cannot_apply_is_skipped_and_the_others_still_apply() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": [1]}}
    view = JobView.of(job)
    assert view is not None
    findings = (
        _finding("restart", Action.DENY, ("spec", "template", "spec", "restartPolicy"), "Never"),
        _finding("backoff", Action.WARN, ("spec", "backoffLimit"), 6),
    )
    plan = plan_fixes(Report(view, findings), Subject.of(view, Operation.CREATE))
    assert plan.patch == [{"op": "add", "path": "/spec/backoffLimit", "value": 6}]
    assert [(s.finding.rule, s.reason) for s in plan.skipped] == [
        ("restart", "cannot edit /spec/template/spec/restartPolicy: a parent is not a map")
    ]


def test_on_update_a_finding_the_old_object_had_is_left_alone() -> None:
    old = {"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"schedule": "@daily"}}
    view = JobView.of(old)
    assert view is not None
    finding = _finding("concurrency", Action.WARN, ("spec", "concurrencyPolicy"), "Forbid")
    report = Report(view, (finding,))
    plan = plan_fixes(report, _update(old), before=report)
    assert (plan.patch, [s.reason for s in plan.skipped]) == ([], [EXISTING])
    # Without the old report the finding counts as the update's own, and a CronJob may change.
    assert plan_fixes(report, _update(old)).patch == [
        {"op": "add", "path": "/spec/concurrencyPolicy", "value": "Forbid"}
    ]


def test_on_a_job_update_an_immutable_path_is_never_fixed() -> None:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": {"restartPolicy": "Always"}}, "completionMode": "NonIndexed"},
    }
    view = JobView.of(job)
    assert view is not None
    findings = (
        _finding("restart", Action.DENY, ("spec", "template", "spec", "restartPolicy"), "Never"),
        _finding("completions", Action.WARN, ("spec", "completions"), 1),
        _finding("ttl", Action.WARN, ("spec", "ttlSecondsAfterFinished"), 60),
    )
    plan = plan_fixes(Report(view, findings), _update(copy.deepcopy(job)))
    assert plan.patch == [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 60}]
    assert [(s.finding.rule, s.reason) for s in plan.skipped] == [
        ("restart", IMMUTABLE),
        ("completions", IMMUTABLE),
    ]


def test_lint_fix_does_not_apply_an_audit_level_fix_and_neither_does_mutate(
    tmp_path: Path,
) -> None:
    rules = {"backoff-limit": {"action": "audit", "default": 3}}
    policy_args = [a for p in _policy(tmp_path, rules) for a in ("--policy", p)]
    manifest = tmp_path / "job.yaml"
    manifest.write_text(JOB_WITHOUT_BACKOFF)
    runner = CliRunner()
    diff = runner.invoke(main, ["lint", *policy_args, "--diff", str(manifest)])
    assert "backoffLimit" not in diff.output
    fixed = runner.invoke(main, ["lint", *policy_args, "--fix", str(manifest)])
    assert fixed.exit_code == 0, fixed.output
    assert manifest.read_text() == JOB_WITHOUT_BACKOFF

    # The webhook, with the same policy, on the API-defaulted object (backoffLimit 6 from the
    # API server counts as unset): no patch either.
    obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "report", "namespace": "batch"},
        "spec": {
            "backoffLimit": 6,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                }
            },
        },
    }
    policy = load_policy(_policy(tmp_path, rules))
    outcome = admission.mutate(parse_review(review_for(obj)), policy)
    assert json.loads(outcome.answer.body)["response"].get("patch") is None
    assert [(f.rule, f.action) for f in outcome.findings] == [("backoff-limit", Action.AUDIT)]

    # At warn level both apply it: the same edit.
    warn = {"backoff-limit": {"action": "warn", "default": 3}}
    warn_args = [a for p in _policy(tmp_path, warn) for a in ("--policy", p)]
    runner.invoke(main, ["lint", *warn_args, "--fix", str(manifest)])
    assert "  backoffLimit: 3\n" in manifest.read_text()
    outcome = admission.mutate(parse_review(review_for(obj)), load_policy(_policy(tmp_path, warn)))
    assert outcome.decision == admission.PATCHED


@pytest.mark.parametrize("name", ["default", "strict"])
def test_report_fixed_is_the_manifest_plan(name: str) -> None:
    policy = load_policy([f"jobguard:{name}"])
    view = JobView.of(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "c", "namespace": "n"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {}}}},
        }
    )
    assert view is not None
    report = evaluate(Subject.of(view), policy, rules=REGISTRY)
    plan = plan_fixes(report, Subject.of(view))
    assert report.fixed() == (plan.obj, plan.patch)
    assert report.safe_edits() == list(plan.edits)
    assert plan.patch  # restartPolicy at least
    assert Severity.ERROR in {f.severity for f in plan.applied}


# -- the subject: which paths an UPDATE may change ------------------------------------------


def _stored_job(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {}, **spec}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("spec", "ttlSecondsAfterFinished"), True),
        (("spec", "backoffLimit"), True),
        (("spec", "parallelism"), True),
        (("spec", "suspend"), True),
        (("spec", "maxFailedIndexes"), True),
        (("metadata", "labels", "team"), True),
        (("metadata", "name"), False),
        (("spec", "completions"), False),  # NonIndexed
        (("spec", "completionMode"), False),
        (("spec", "selector"), False),
        (("spec", "podFailurePolicy"), False),
        (("spec", "template", "spec", "restartPolicy"), False),
        (("spec", "template", "spec", "nodeSelector"), False),  # not suspended
    ],
)
def test_a_job_update_may_change_only_its_mutable_fields(
    path: tuple[str, ...], expected: bool
) -> None:
    subject = _update(_stored_job(completionMode="NonIndexed"))
    assert subject.may_change(path) is expected
    # Manifests, CREATEs and CronJob UPDATEs may change anything.
    assert _new("Job").may_change(path)
    assert _new("Job", Operation.CREATE).may_change(path)
    assert _update({"kind": "CronJob", "spec": {}}).may_change(path)


def test_a_suspended_job_may_change_its_scheduling_directives_only() -> None:
    subject = _update(_stored_job(suspend=True))
    pod = ("spec", "template", "spec")
    assert subject.may_change((*pod, "nodeSelector"))
    assert subject.may_change((*pod, "tolerations"))
    assert subject.may_change((*pod, "affinity", "nodeAffinity"))
    assert subject.may_change(("spec", "template", "metadata", "labels"))
    assert not subject.may_change((*pod, "affinity", "podAffinity"))
    assert not subject.may_change((*pod, "restartPolicy"))
    assert not subject.may_change((*pod, "containers", 0, "image"))


def test_an_indexed_job_may_change_completions_from_the_elastic_version_on() -> None:
    stored = _stored_job(completionMode="Indexed")
    assert _update(stored, (1, 36)).may_change(("spec", "completions"))
    assert not _update(stored, (1, 26)).may_change(("spec", "completions"))


def test_a_fix_the_api_server_would_reject_on_update_is_left_out() -> None:
    # An Indexed Job may change completions only together with parallelism: a fix of
    # completions alone passes may_change, and the whole-object check drops it.
    stored = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "render"},
        "spec": {
            "completions": 3,
            "parallelism": 3,
            "completionMode": "Indexed",
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "a"}]}},
        },
    }
    view = JobView.of(copy.deepcopy(stored))
    assert view is not None
    findings = (
        _finding("completions", Action.WARN, ("spec", "completions"), 5),
        _finding("ttl", Action.WARN, ("spec", "ttlSecondsAfterFinished"), 60),
    )
    plan = plan_fixes(Report(view, findings), _update(stored, (1, 36)))
    assert plan.patch == [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 60}]
    assert [(s.finding.rule, s.reason) for s in plan.skipped] == [("completions", REJECTED)]
