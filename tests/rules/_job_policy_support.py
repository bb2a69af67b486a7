"""Builders and one-rule evaluation for the Job policy rule tests (JG102-JG105)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from jobguard.core.context import Context
from jobguard.core.engine import Report, evaluate
from jobguard.core.view import JobView
from jobguard.policy import Policy, PolicyError, load_policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import REGISTRY
from tests.helpers import FIXTURES

ADMISSION = FIXTURES / "admission"
POD = {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}


def job(pod: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work"},
        "spec": {**spec, "template": {"spec": {**POD, **(pod or {})}}},
    }


def cronjob(pod: dict[str, Any] | None = None, **job_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {**job_spec, "template": {"spec": {**POD, **(pod or {})}}}},
        },
    }


def admission_object(name: str) -> dict[str, Any]:
    """``request.object`` of a real AdmissionReview recorded from kube-apiserver."""
    review = json.loads((ADMISSION / f"{name}.json").read_text())
    return copy.deepcopy(review["request"]["object"])


def report(obj: dict[str, Any], rule: str, policy: Policy | None = None, **view_kw: Any) -> Report:
    """``rule`` alone on ``obj`` (other rules' fixes cannot blur the patch)."""
    view = JobView.of(obj, **view_kw)
    assert view is not None
    return evaluate(view, policy or builtin_defaults(), Context(), rules=REGISTRY.named(rule))


def findings(obj: dict[str, Any], rule: str, **kw: Any) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in report(obj, rule, **kw).findings]


def write_policy(tmp_path: Path, rule: str, options: str) -> str:
    """A policy file setting ``options`` (YAML lines, 4-space indented) for ``rule``."""
    path = tmp_path / "policy.yaml"
    path.write_text(f"apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  {rule}:\n{options}")
    return str(path)


def policy(tmp_path: Path, rule: str, options: str) -> Policy:
    return load_policy([write_policy(tmp_path, rule, options)])


def policy_problems(tmp_path: Path, rule: str, options: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem loading the policy; it must fail."""
    try:
        load_policy([write_policy(tmp_path, rule, options)])
    except PolicyError as exc:
        return [(p.line, p.column, p.message) for p in exc.problems]
    raise AssertionError("the policy loaded without problems")
