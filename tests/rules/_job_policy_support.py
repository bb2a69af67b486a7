"""Builders and one-rule evaluation for the Job policy rule tests (JG102-JG105)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from jobguard.core.engine import Report, evaluate
from jobguard.core.subject import Operation, Requester, Subject
from jobguard.core.view import JobView
from jobguard.policy import Policy, PolicyError, load_policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import REGISTRY
from tests.helpers import FIXTURES

ADMISSION = FIXTURES / "admission"
CAPTURED = FIXTURES / "admission-1.36"
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


#: The identity the CronJob controller creates its scheduled runs as (fixture 028).
CRONJOB_CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller"


def scheduled_run() -> dict[str, Any]:
    """A CronJob's scheduled Job as the real controller created it (fixture 028: ownerReference
    kind CronJob with ``controller: true``, created as ``CRONJOB_CONTROLLER``)."""
    path = CAPTURED / "028-mutate-Job-CREATE-every-minute-29943884.json"
    review = json.loads(path.read_text())
    return copy.deepcopy(review["request"]["object"])


def report(
    obj: dict[str, Any],
    rule: str,
    policy: Policy | None = None,
    *,
    requester: str | None = None,
    **view_kw: Any,
) -> Report:
    """``rule`` alone on ``obj`` (other rules' fixes cannot blur the patch); with a
    ``requester``, judged as an admission CREATE that user sent."""
    view = JobView.of(obj, **view_kw)
    assert view is not None
    subject = (
        Subject.of(view)
        if requester is None
        else Subject.of(view, Operation.CREATE, requester=Requester(requester))
    )
    return evaluate(subject, policy or builtin_defaults(), rules=REGISTRY.named(rule))


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
