"""Evaluate one rule on its own, so other rules' findings and fixes cannot blur a test."""

from __future__ import annotations

from typing import Any

from jobguard.core.context import Context
from jobguard.core.engine import Report, evaluate
from jobguard.core.view import JobView
from jobguard.policy import Policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import REGISTRY


def report_of(
    obj: dict[str, Any],
    rule: str,
    policy: Policy | None = None,
    ctx: Context | None = None,
    **view_kw: Any,
) -> Report:
    view = JobView.of(obj, **view_kw)
    assert view is not None, "not a Job or CronJob"
    return evaluate(view, policy or builtin_defaults(), ctx, rules=REGISTRY.named(rule))


def found(obj: dict[str, Any], rule: str, **kw: Any) -> list[tuple[str, str]]:
    """(field path, message) of each finding of ``rule``."""
    return [(f.field, f.message) for f in report_of(obj, rule, **kw).findings]
