"""Evaluate one rule on its own, so other rules' findings and fixes cannot blur a test."""

from __future__ import annotations

from typing import Any

from jobguard.core.engine import Report, evaluate
from jobguard.policy import Policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import REGISTRY
from tests.helpers import subject_of


def report_of(
    obj: dict[str, Any],
    rule: str,
    policy: Policy | None = None,
    **kw: Any,
) -> Report:
    """``obj`` judged by ``rule`` alone; ``kw`` as :func:`tests.helpers.subject_of` takes them."""
    return evaluate(subject_of(obj, **kw), policy or builtin_defaults(), rules=REGISTRY.named(rule))


def found(obj: dict[str, Any], rule: str, **kw: Any) -> list[tuple[str, str]]:
    """(field path, message) of each finding of ``rule``."""
    return [(f.field, f.message) for f in report_of(obj, rule, **kw).findings]
