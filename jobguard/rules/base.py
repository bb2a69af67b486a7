"""How a rule module declares its rule (module attributes), and helpers for validating options."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from jobguard.core.model import Action
from jobguard.core.rule import Check, NoOptions, Rule

# The shape of a rule is the core's (the engine runs it); rule modules import it from here.
__all__ = ["Check", "NoOptions", "Rule", "below_minimum", "exceeds", "rule_from_module"]


def rule_from_module(module: Any) -> Rule:
    """Build the Rule a module describes with CODE, NAME, CATEGORY, SUMMARY, REMEDIATION, check."""
    return Rule(
        code=module.CODE,
        name=module.NAME,
        category=module.CATEGORY,
        summary=module.SUMMARY,
        remediation=module.REMEDIATION,
        doc=inspect.cleandoc(module.__doc__ or ""),
        check=module.check,
        options=getattr(module, "Options", NoOptions),
        default_action=getattr(module, "DEFAULT_ACTION", Action.DENY),
        kinds=frozenset(getattr(module, "KINDS", ("Job", "CronJob"))),
        fixes=bool(getattr(module, "FIXES", True)),
        checked_by_apiserver=bool(getattr(module, "CHECKED_BY_APISERVER", False)),
        subsumes=frozenset(getattr(module, "SUBSUMES", ())),
        suppressible=bool(getattr(module, "SUPPRESSIBLE", True)),
    )


def below_minimum(
    options: Any, names: Iterable[str], minimum: int, message: str
) -> list[tuple[str, str]]:
    """Option-validation problems for each named option that is set and below ``minimum``."""
    return [
        (name, message)
        for name in names
        if getattr(options, name) is not None and getattr(options, name) < minimum
    ]


def exceeds(
    low_name: str, low: int | None, high_name: str, high: int | None
) -> list[tuple[str, str]]:
    """The problem of an option that must not be above another one, if both are set."""
    if low is not None and high is not None and low > high:
        return [(low_name, f"{low_name} ({low}) must not exceed {high_name} ({high})")]
    return []
