"""A realistic manifest with several fixable findings: the exact object Report.fixed() produces,
the JSON Patch that produces it, and a clean re-lint for every rule that was fixed."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
import yaml

from jobguard.core.engine import evaluate
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.lint.linter import lint_bytes
from jobguard.policy import Policy, load_policy
from jobguard.rules import REGISTRY
from tests.helpers import pairs

# The rules whose safe fixes this test pins down (other rules' fixes would change the object as
# they evolve; they are checked in their own tests).
FIXING_RULES = (
    "restart-policy",
    "completions-parallelism",
    "backoff-limit",
    "ttl-after-finished",
    "active-deadline",
)

INVOICE_EXPORT = """
apiVersion: batch/v1
kind: Job
metadata:
  name: invoice-export
  namespace: billing
  labels: {app: invoice-export}
spec:
  completions: 12
  parallelism: 20
  template:
    metadata:
      labels: {app: invoice-export}
    spec:
      activeDeadlineSeconds: 1800
      containers:
        - name: export
          image: registry.example.com/billing/export:2.4.1
          args: [--month, "2026-10"]
          resources:
            requests: {cpu: 500m, memory: 256Mi}
            limits: {memory: 512Mi}
"""

LEDGER_RECONCILE = """
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ledger-reconcile
  namespace: billing
spec:
  schedule: "15 2 * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      ttlSecondsAfterFinished: 60
      activeDeadlineSeconds: 7200
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: reconcile
              image: registry.example.com/billing/reconcile:1.9.0
              resources:
                requests: {cpu: 250m, memory: 128Mi}
                limits: {memory: 256Mi}
"""


def _fix(text: str, policy: Policy) -> tuple[dict[str, Any], dict[str, Any], list[Any], Any]:
    original = yaml.safe_load(text)
    view = JobView.of(original)
    assert view is not None
    rules = REGISTRY.named(*FIXING_RULES)
    report = evaluate(Subject.of(view), policy, rules=rules)
    fixed, patch = report.fixed()
    return original, fixed, patch, report


def _relint(obj: dict[str, Any], policy: Policy) -> list[tuple[str, str]]:
    """Every rule, through the real lint path, on the fixed object written back as YAML."""
    result = lint_bytes("fixed.yaml", yaml.safe_dump(obj).encode(), policy)
    assert not result.problems
    return pairs(result)


def test_the_default_policy_fixes_the_job_and_only_suggests_the_deadline_move() -> None:
    policy = load_policy(["jobguard:default"])
    original, fixed, patch, report = _fix(INVOICE_EXPORT, policy)
    assert [(f.rule, f.field, f.fix.safe if f.fix else None) for f in report.findings] == [
        ("restart-policy", "spec.template.spec.restartPolicy", True),
        # parallelism above completions is the user's value: lowering it is only suggested
        ("completions-parallelism", "spec.parallelism", False),
        ("backoff-limit", "spec.backoffLimit", True),
        ("ttl-after-finished", "spec.ttlSecondsAfterFinished", True),
        ("active-deadline", "spec.template.spec.activeDeadlineSeconds", False),
    ]
    assert fixed == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "invoice-export",
            "namespace": "billing",
            "labels": {"app": "invoice-export"},
        },
        "spec": {
            "completions": 12,
            "parallelism": 20,
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 259200,
            "template": {
                "metadata": {"labels": {"app": "invoice-export"}},
                "spec": {
                    "activeDeadlineSeconds": 1800,  # unsafe move: suggested, not applied
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "export",
                            "image": "registry.example.com/billing/export:2.4.1",
                            "args": ["--month", "2026-10"],
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "256Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }
    assert patch == [
        {"op": "add", "path": "/spec/template/spec/restartPolicy", "value": "Never"},
        {"op": "add", "path": "/spec/backoffLimit", "value": 6},
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200},
    ]
    # The patch is valid RFC 6902 and yields exactly the fixed object; the input is untouched.
    assert jsonpatch.apply_patch(copy.deepcopy(original), patch) == fixed
    assert original == yaml.safe_load(INVOICE_EXPORT)
    remaining = [p for p in _relint(fixed, policy) if p[0] in FIXING_RULES]
    assert remaining == [
        ("completions-parallelism", "spec.parallelism"),
        ("active-deadline", "spec.template.spec.activeDeadlineSeconds"),
    ]


def test_the_strict_policy_fixes_the_cronjob_template_at_job_template_paths() -> None:
    policy = load_policy(["jobguard:strict"])
    original, fixed, patch, report = _fix(LEDGER_RECONCILE, policy)
    assert [(f.rule, f.field, f.fix.safe if f.fix else None) for f in report.findings] == [
        ("completions-parallelism", "spec.jobTemplate.spec.completions", True),
        ("completions-parallelism", "spec.jobTemplate.spec.parallelism", True),
        ("backoff-limit", "spec.jobTemplate.spec.backoffLimit", True),
        # the template's own TTL is the user's choice: raising it to the minimum is a suggestion
        ("ttl-after-finished", "spec.jobTemplate.spec.ttlSecondsAfterFinished", False),
    ]
    assert patch == [
        {"op": "add", "path": "/spec/jobTemplate/spec/completions", "value": 1},
        {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1},
        {"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 3},
    ]
    expected = yaml.safe_load(LEDGER_RECONCILE)
    expected["spec"]["jobTemplate"]["spec"].update(completions=1, parallelism=1, backoffLimit=3)
    assert fixed == expected
    assert jsonpatch.apply_patch(copy.deepcopy(original), patch) == fixed
    assert [p for p in _relint(fixed, policy) if p[0] in FIXING_RULES] == [
        ("ttl-after-finished", "spec.jobTemplate.spec.ttlSecondsAfterFinished")
    ]


@pytest.mark.parametrize("text", [INVOICE_EXPORT, LEDGER_RECONCILE], ids=["job", "cronjob"])
def test_fixing_twice_changes_nothing_more(text: str) -> None:
    policy = load_policy(["jobguard:strict"])
    _original, fixed, _patch, _report = _fix(text, policy)
    view = JobView.of(fixed)
    assert view is not None
    rules = REGISTRY.named(*FIXING_RULES)
    again = evaluate(Subject.of(view), policy, rules=rules)
    assert again.fixed() == (fixed, [])
