"""The bundled policies for manual-selector, resources and the CronJob rules (JG110-JG115).

Both load; the default only warns (except for manual selectors, which can take other workloads'
pods); strict is layered on the default and tightens every one of these rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from jobguard.core.model import Action
from jobguard.policy import Policy, load_policy
from jobguard.rules import RULES_BY_NAME
from tests.helpers import lint_text

RULES = (
    "manual-selector",
    "resources",
    "cronjob-schedule",
    "cronjob-concurrency",
    "cronjob-starting-deadline",
    "cronjob-history-limits",
)
ACTION_RANK = {Action.OFF: 0, Action.AUDIT: 1, Action.WARN: 2, Action.DENY: 3}
TIME_ZONE_RANK = {"never": 0, "when-pinned": 1, "always": 2}


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy()


@pytest.fixture(scope="module")
def strict() -> Policy:
    return load_policy(["jobguard:strict"])


def options(policy: Policy, rule: str) -> Any:
    return policy.settings(RULES_BY_NAME[rule]).options


def action(policy: Policy, rule: str) -> Action:
    return policy.settings(RULES_BY_NAME[rule]).action


def test_both_bundled_policies_load_and_strict_layers_on_default(
    default: Policy, strict: Policy
) -> None:
    assert default.sources == ("jobguard:default",)
    assert strict.sources == ("jobguard:default", "jobguard:strict")
    for rule in RULES:
        assert rule in default.rules, f"default.yaml configures {rule} explicitly"
        assert rule in strict.rules


def test_the_default_denies_only_manual_selectors(default: Policy) -> None:
    assert {rule: action(default, rule) for rule in RULES} == {
        "manual-selector": Action.DENY,
        "resources": Action.WARN,
        "cronjob-schedule": Action.WARN,
        "cronjob-concurrency": Action.WARN,
        "cronjob-starting-deadline": Action.WARN,
        "cronjob-history-limits": Action.WARN,
    }


@pytest.mark.parametrize("rule", RULES)
def test_strict_never_acts_more_leniently_than_default(
    default: Policy, strict: Policy, rule: str
) -> None:
    assert ACTION_RANK[action(strict, rule)] >= ACTION_RANK[action(default, rule)]


def test_strict_options_are_at_least_as_tight_and_each_rule_is_tighter(
    default: Policy, strict: Policy
) -> None:
    d, s = options(default, "manual-selector"), options(strict, "manual-selector")
    assert set(s.unique_keys) < set(d.unique_keys)
    assert set(s.exempt_namespaces) <= set(d.exempt_namespaces) and s.exempt_label == d.exempt_label

    d, s = options(default, "resources"), options(strict, "resources")
    assert set(s.requests) >= set(d.requests) and set(s.limits) >= set(d.limits)
    assert action(strict, "resources") is Action.DENY

    d, s = options(default, "cronjob-schedule"), options(strict, "cronjob-schedule")
    assert s.min_interval_minutes > d.min_interval_minutes
    assert TIME_ZONE_RANK[s.require_time_zone] > TIME_ZONE_RANK[d.require_time_zone]

    d, s = options(default, "cronjob-concurrency"), options(strict, "cronjob-concurrency")
    assert set(s.allowed) < set(d.allowed) and "Allow" not in s.allowed
    assert s.require_explicit >= d.require_explicit

    d, s = (
        options(default, "cronjob-starting-deadline"),
        options(strict, "cronjob-starting-deadline"),
    )
    assert (d.required, s.required) == (False, True)
    assert s.min_seconds >= d.min_seconds

    d, s = options(default, "cronjob-history-limits"), options(strict, "cronjob-history-limits")
    assert s.max_successful < d.max_successful and s.max_failed < d.max_failed
    assert s.min_failed >= d.min_failed


SLOPPY = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: sync, namespace: team-a}
spec:
  schedule: "*/3 * * * *"
  successfulJobsHistoryLimit: 5
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: registry.example/sync:1.4}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: adopt, namespace: team-a}
spec:
  manualSelector: true
  selector: {matchLabels: {job-name: adopt}}
  template:
    metadata: {labels: {job-name: adopt}}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example/sync:1.4
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
"""
CONTAINER = "spec.jobTemplate.spec.template.spec.containers[0].resources"


def findings(policy: Policy) -> list[tuple[str, str, str]]:
    result = lint_text(SLOPPY, policy)
    return [
        (lf.finding.rule, lf.finding.field, lf.finding.action.value)
        for obj in result.objects
        for lf in obj.findings
        if lf.finding.rule in RULES
    ]


def test_a_working_but_sloppy_cronjob_only_gets_warnings_from_the_default(default: Policy) -> None:
    assert findings(default) == [
        ("resources", CONTAINER, "warn"),
        ("cronjob-concurrency", "spec.concurrencyPolicy", "warn"),
        ("manual-selector", "spec.manualSelector", "deny"),
    ]


def test_strict_denies_it_and_finds_more(default: Policy, strict: Policy) -> None:
    assert findings(strict) == [
        ("resources", CONTAINER, "deny"),
        ("cronjob-schedule", "spec.schedule", "deny"),
        ("cronjob-concurrency", "spec.concurrencyPolicy", "deny"),
        ("cronjob-starting-deadline", "spec.startingDeadlineSeconds", "deny"),
        ("cronjob-history-limits", "spec.successfulJobsHistoryLimit", "deny"),
        ("manual-selector", "spec.manualSelector", "deny"),
        # job-name is reused over time; strict accepts only the Job's uid as unique.
        ("manual-selector", "spec.selector", "deny"),
    ]
    assert {(r, p) for r, p, _ in findings(default)} < {(r, p) for r, p, _ in findings(strict)}
