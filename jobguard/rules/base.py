"""How a rule describes itself: one typed :class:`RuleSpec`, checked when the registry is built,
for built-in rule modules (upper-case module attributes) and custom rules alike; and helpers
for validating options."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jobguard.core.model import Action, Category
from jobguard.core.rule import Check, NoOptions, Rule

# The shape of a rule is the core's (the engine runs it); rule modules import it from here.
__all__ = [
    "Check",
    "NoOptions",
    "Rule",
    "RuleSpec",
    "RuleSpecError",
    "below_minimum",
    "check_registry",
    "exceeds",
    "rule_from_module",
    "spec_from_module",
]

_KINDS = frozenset({"Job", "CronJob"})
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class RuleSpecError(TypeError):
    """A rule describes itself wrongly (a misspelt attribute, a value of the wrong type)."""


@dataclass(frozen=True)
class RuleSpec:
    """Everything a rule declares about itself, each field typed and checked on creation.

    ``cel``: how ``jobguard export`` expresses the rule natively: a built-in rule module's
    ``cel(options, context)`` function (:mod:`jobguard.rules._cel`), a custom rule itself
    (its expressions go out as written), or None (no native translation).
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
    kinds: frozenset[str] = _KINDS
    fixes: bool = True
    checked_by_apiserver: bool = False
    subsumes: frozenset[str] = frozenset()
    suppressible: bool = True
    cel: Any = None

    def __post_init__(self) -> None:
        where = f"rule {self.name!r}" if isinstance(self.name, str) else "a rule"
        problems = []
        for f in ("code", "name", "summary", "remediation", "doc"):
            if not isinstance(getattr(self, f), str):
                problems.append(f"{f} must be a string")
        if isinstance(self.name, str) and not _NAME.match(self.name):
            problems.append(f"name {self.name!r} is not kebab-case")
        if isinstance(self.summary, str) and not self.summary.strip():
            problems.append("summary must not be empty")
        for f, kind in (("category", Category), ("default_action", Action)):
            if not isinstance(getattr(self, f), kind):
                problems.append(f"{f} must be a {kind.__name__}, not {getattr(self, f)!r}")
        for f in ("fixes", "checked_by_apiserver", "suppressible"):
            if not isinstance(getattr(self, f), bool):
                problems.append(f"{f} must be True or False, not {getattr(self, f)!r}")
        if not isinstance(self.kinds, frozenset) or not self.kinds or not self.kinds <= _KINDS:
            problems.append(f"kinds must name Job and/or CronJob, not {self.kinds!r}")
        if not isinstance(self.subsumes, frozenset) or not all(
            isinstance(n, str) for n in self.subsumes
        ):
            problems.append("subsumes must be rule names")
        if not callable(self.check):
            problems.append("check must be a function")
        if not (isinstance(self.options, type) and dataclasses.is_dataclass(self.options)):
            problems.append("Options must be a dataclass")
        if problems:
            raise RuleSpecError(f"{where}: " + "; ".join(problems))

    def rule(self) -> Rule:
        """The rule the engine runs."""
        return Rule(
            code=self.code,
            name=self.name,
            category=self.category,
            summary=self.summary,
            remediation=self.remediation,
            doc=self.doc,
            check=self.check,
            options=self.options,
            default_action=self.default_action,
            kinds=self.kinds,
            fixes=self.fixes,
            checked_by_apiserver=self.checked_by_apiserver,
            subsumes=self.subsumes,
            # What the API server rejects is no exception anyone can take: never an
            # annotation's to silence (the object would fail anyway; lint must say so).
            suppressible=self.suppressible and self.category is not Category.API,
        )


#: A rule module's upper-case attributes that describe its rule, and the spec field of each.
MODULE_ATTRIBUTES = {
    "CODE": "code",
    "NAME": "name",
    "CATEGORY": "category",
    "SUMMARY": "summary",
    "REMEDIATION": "remediation",
    "DEFAULT_ACTION": "default_action",
    "KINDS": "kinds",
    "FIXES": "fixes",
    "CHECKED_BY_APISERVER": "checked_by_apiserver",
    "SUBSUMES": "subsumes",
    "SUPPRESSIBLE": "suppressible",
}
#: A rule module's functions and classes that describe its rule, and the spec field of each.
MODULE_DEFINITIONS = {"check": "check", "Options": "options", "cel": "cel"}
_REQUIRED = ("CODE", "NAME", "CATEGORY", "SUMMARY", "REMEDIATION")
_SETS = ("kinds", "subsumes")
# How close a module's own name must be to a spec attribute to be taken for a misspelling of
# it (every constant of today's rule modules is further away: KIND for KINDS, FIX for FIXES
# and DEFAULT_ACTON are caught).
_MISSPELT = 0.75


def spec_from_module(module: Any) -> RuleSpec:
    """The spec a rule module declares. A missing required attribute, a misspelt one (a
    near miss of a spec attribute, or of ``Options``/``check``/``cel``) or a value of the
    wrong type is a RuleSpecError naming the module: nothing falls back to a default
    silently."""
    where = getattr(module, "__name__", "a rule module")
    names = [n for n in vars(module) if not n.startswith("__")]
    problems = [f"{n} is required" for n in _REQUIRED if n not in names]
    if "check" not in names:
        problems.append("check (the rule's function) is required")
    for name in names:
        if name in MODULE_ATTRIBUTES or name in MODULE_DEFINITIONS:
            continue
        if not name.isupper() and not _defined_in(module, name):
            continue  # an import: only the module's own names can misspell (and difflib is slow)
        choices = list(MODULE_ATTRIBUTES) if name.isupper() else list(MODULE_DEFINITIONS)
        close = difflib.get_close_matches(name, choices, n=1, cutoff=_MISSPELT)
        if close:
            problems.append(f"{name} looks like a misspelling of {close[0]}")
    if problems:
        raise RuleSpecError(f"{where}: " + "; ".join(problems))
    values: dict[str, Any] = {}
    for attribute, field in MODULE_ATTRIBUTES.items():
        if attribute in names:
            value = getattr(module, attribute)
            values[field] = frozenset(value) if field in _SETS and _iterable(value) else value
    try:
        return RuleSpec(
            doc=inspect.cleandoc(module.__doc__ or ""),
            check=module.check,
            options=getattr(module, "Options", NoOptions),
            cel=getattr(module, "cel", None),
            **values,
        )
    except RuleSpecError as exc:
        raise RuleSpecError(f"{where}: {exc}") from None


def _defined_in(module: Any, name: str) -> bool:
    return getattr(getattr(module, name), "__module__", None) == getattr(module, "__name__", "")


def _iterable(value: Any) -> bool:
    return isinstance(value, (tuple, list, set, frozenset))


def rule_from_module(module: Any) -> Rule:
    """The Rule a module describes (:func:`spec_from_module`)."""
    return spec_from_module(module).rule()


def check_registry(rules: Sequence[Rule]) -> None:
    """Codes and names unique, and every ``SUBSUMES`` entry a registered rule: checked once,
    when the registry is built."""
    problems = []
    for attribute in ("code", "name"):
        seen: set[str] = set()
        for rule in rules:
            value = getattr(rule, attribute)
            if value in seen:
                problems.append(f"{attribute} {value!r} is used by two rules")
            seen.add(value)
    names = {r.name for r in rules}
    for rule in rules:
        unknown = sorted(rule.subsumes - names)
        if unknown:
            problems.append(f"rule {rule.name!r} subsumes unknown rules {unknown}")
    if problems:
        raise RuleSpecError("; ".join(problems))


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
