"""Shared test helpers: lint text through the real engine and read results as (rule, path)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from jobguard.core.engine import Report, evaluate
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.subject import Operation, Subject
from jobguard.core.view import JobView
from jobguard.lint.linter import FileResult, lint_bytes
from jobguard.policy import Policy, load_policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import REGISTRY

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
RULE_FIXTURES = FIXTURES / "rules"
POLICY_FIXTURES = FIXTURES / "policies"


def policy_for(name: str | None) -> Policy:
    """Rule defaults (no file) or a policy from tests/fixtures/policies."""
    if name is None:
        return builtin_defaults()
    return load_policy([str(POLICY_FIXTURES / name)])


def api_only() -> Policy:
    """The rule defaults with every policy rule off: the api-* rules alone, as the API server
    would judge (no policy rule's denial subsumes their findings)."""
    from jobguard.core.model import Action, Category
    from jobguard.policy.model import RuleSettings
    from jobguard.rules import ALL_RULES

    off = {
        r.name: RuleSettings(Action.OFF, r.options())
        for r in ALL_RULES
        if r.category is Category.POLICY
    }
    return Policy(rules=MappingProxyType(off))


def lint_text(
    text: str, policy: Policy | None = None, version: Version = DEFAULT_KUBERNETES_VERSION
) -> FileResult:
    return lint_bytes("test.yaml", text.encode(), policy or builtin_defaults(), version)


def pairs(result: FileResult, rule: str | None = None) -> list[tuple[str, str]]:
    """The (rule, field path) list of a lint result, in report order."""
    return [
        (lf.finding.rule, lf.finding.field)
        for obj in result.objects
        for lf in obj.findings
        if rule is None or lf.finding.rule == rule
    ]


def subject_of(
    obj: dict[str, Any],
    *,
    operation: str = Operation.MANIFEST,
    old_object: dict[str, Any] | None = None,
    version: Version = DEFAULT_KUBERNETES_VERSION,
    **view_kw: Any,
) -> Subject:
    """A subject over a view built by hand (``view_kw``: defaulted, applied...)."""
    view = JobView.of(obj, kubernetes_version=version, **view_kw)
    assert view is not None, "not a Job or CronJob"
    return Subject.of(view, Operation(operation), old_object=old_object)


def evaluate_obj(obj: dict[str, Any], policy: Policy | None = None, **kw: Any) -> Report:
    """``obj`` judged with every rule; ``kw`` as :func:`subject_of` takes them."""
    return evaluate(subject_of(obj, **kw), policy or builtin_defaults(), rules=REGISTRY)


def load_yaml(text: str) -> Any:
    return yaml.safe_load(text)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; its stdout."""
    return subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
