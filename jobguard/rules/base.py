"""What a rule is: identity, documentation, options and a pure check."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jobguard.core.context import Context
from jobguard.core.model import Action, Category, Violation
from jobguard.core.view import JobView


@dataclass(frozen=True)
class NoOptions:
    """For rules that take no options."""


Check = Callable[[JobView, Any, Context], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """A registered rule.

    ``code`` is stable forever (suppressions and baselines may use it); ``name`` is the readable
    kebab-case name used in policy files and annotations. ``doc`` is the rule module's docstring:
    the user documentation printed by ``jobguard explain``.
    """

    code: str
    name: str
    category: Category
    summary: str
    remediation: str
    doc: str
    check: Check
    options: type = NoOptions
    default_action: Action = Action.DENY
    kinds: frozenset[str] = frozenset({"Job", "CronJob"})
    # False when the rule never attaches a Fix (module attribute ``FIXES = False``): the mutating
    # webhook, which only applies fixes, then skips it. Unknown means True.
    fixes: bool = True
    # True when every finding is something the API server itself rejects or drops (module
    # attribute ``CHECKED_BY_APISERVER = True``). Its decoding, defaulting and validation run
    # before validating webhooks, so an object reaching /validate never has such a finding:
    # the validating webhook skips the rule (jobguard lint, before the cluster, runs it).
    checked_by_apiserver: bool = False
    # Rules whose finding at the same path this rule's denial says all there is to say about
    # (module attribute ``SUBSUMES``): one error per mistake, the one that carries the fix.
    subsumes: frozenset[str] = frozenset()


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
