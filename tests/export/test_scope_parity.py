"""Scope, rule scopes, exemptions and suppressions: the exported selectors and match conditions
let through exactly the objects the webhook judges, for each rule."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobguard.export import export_policy, render_yaml
from jobguard.policy import load_policy
from jobguard.webhook import admission
from tests.export import k8s_cel
from tests.export.test_parity import ACTIONS, VERSION, pattern, review

POLICY = """\
apiVersion: jobguard.dev/v1
kind: Policy
scope:
  namespaces: {include: ["team-*", batch], exclude: [team-secret, "team-x?"]}
  labels:
    matchExpressions: [{key: jobguard.dev/skip, operator: DoesNotExist}]
suppressions:
  allowed: true
  forbid: [restart-policy]
  suppressible: [backoff-limit]  # a deny rule an object may silence: the policy's permission
rules:
  backoff-limit: {action: deny, default: 3, max: 10}
  ttl-after-finished:
    action: warn
    scope: {labels: {matchLabels: {tier: batch}}}
  active-deadline: {action: audit, require: true}
exemptions:
  - rules: [backoff-limit]
    reason: legacy team, tracked
    namespaces: ["team-legacy*"]
  - rules: ["*"]
    reason: vendored chart
    kinds: [CronJob]
    names: ["vendor-*"]
  - rules: [ttl-after-finished]
    reason: lint only
    files: ["charts/*"]
"""

NAMESPACES = ["batch", "team-a", "team-legacy-1", "team-secret", "team-x1", "other"]
LABELS: list[dict[str, str]] = [{}, {"tier": "batch"}, {"jobguard.dev/skip": "yes"}]
ANNOTATIONS: list[dict[str, str]] = [
    {},
    {"suppress.jobguard.dev/backoff-limit": "reviewed"},
    {"suppress.jobguard.dev/restart-policy": "forbidden anyway"},
    {"suppress.jobguard.dev/backof-limit": "typo"},
    {"suppress.jobguard.dev/backoff-limit": "\u00a0\t"},  # blank: no reason, no suppression
]


def job(kind: str, name: str, labels: dict[str, str], annotations: dict[str, str]) -> Any:
    pod = {"restartPolicy": "Always", "containers": [{"name": "main", "image": "busybox"}]}
    spec: dict[str, Any] = {"backoffLimit": 50, "template": {"spec": pod}}
    metadata = {"name": name, "labels": labels, "annotations": annotations}
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}
    cron = {"schedule": "@daily", "jobTemplate": {"spec": spec}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": cron}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]], set[str]]:
    path: Path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(POLICY)
    policy = load_policy([str(path)])
    export = export_policy(policy, VERSION)
    native = {r.rule.name for r in export.rules if r.translation.checks}
    return policy, list(yaml.safe_load_all(render_yaml(export))), native


CASES = list(
    itertools.product(
        ["Job", "CronJob"],
        ["etl", "vendor-x"],
        NAMESPACES,
        range(len(LABELS)),
        range(len(ANNOTATIONS)),
    )
)


@pytest.mark.parametrize(("kind", "name", "namespace", "labels", "annotations"), CASES)
def test_native_scope_matches_the_webhooks(
    setup: Any, kind: str, name: str, namespace: str, labels: int, annotations: int
) -> None:
    policy, objects, rules = setup
    obj = job(kind, name, LABELS[labels], ANNOTATIONS[annotations])
    outcome = admission.validate(review(obj, namespace), policy, VERSION)
    webhook = {
        (f.rule, pattern(f.field), ACTIONS[f.action.value])
        for f in outcome.findings
        if f.rule in rules
    }
    native = k8s_cel.validate(objects, k8s_cel.Request(obj, namespace=namespace))
    assert {(f.rule, f.path, f.action) for f in native} == webhook
    assert any(f.action == "Deny" for f in native) == (outcome.decision == admission.DENIED)


def test_the_scope_cases_cover_judged_and_unjudged_objects(setup: Any) -> None:
    _policy, objects, _rules = setup

    def rules(namespace: str, name: str = "etl", kind: str = "Job", **meta: Any) -> set[str]:
        obj = job(kind, name, meta.get("labels", {}), meta.get("annotations", {}))
        req = k8s_cel.Request(obj, namespace=namespace)
        return {f.rule for f in k8s_cel.validate(objects, req)}

    assert "backoff-limit" in rules("batch")
    assert rules("other") == set()  # outside the policy's namespaces
    assert rules("team-x1") == set()  # excluded by a glob
    assert "backoff-limit" not in rules("team-legacy-1")  # exempt there
    assert "backoff-limit" in rules("team-a")
    assert rules("team-a", labels={"jobguard.dev/skip": "yes"}) == set()
    assert "ttl-after-finished" in rules("team-a", labels={"tier": "batch"})
    assert "ttl-after-finished" not in rules("team-a")
    assert rules("team-a", "vendor-x", "CronJob") == set()  # exempt from every rule
    suppressed = rules("team-a", annotations={"suppress.jobguard.dev/backoff-limit": "reviewed"})
    assert "backoff-limit" not in suppressed and "active-deadline" in suppressed
