"""What the engine runs: a rule (identity, documentation, options and a pure check) and a set of
rules (the ones to run, and every name of the registry they were chosen from).

The rule modules and their registry live in :mod:`jobguard.rules`; the core only knows this
shape, so the engine runs exactly the rules its caller hands it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jobguard.core.model import Action, Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView

__all__ = ["Check", "NoOptions", "Rule", "RuleSet"]


@dataclass(frozen=True)
class NoOptions:
    """For rules that take no options."""


Check = Callable[[JobView, Any, Subject], Iterable[Violation]]


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
    # False when no suppression annotation may silence the rule's findings (module attribute
    # ``SUPPRESSIBLE = False``): the rule that checks those annotations, so an object cannot
    # silence the check of its own suppressions.
    suppressible: bool = True


@dataclass(frozen=True)
class RuleSet:
    """The rules one evaluation runs, in report order, and ``known``: the names of every rule of
    the registry they were chosen from.

    A suppression annotation may name any registered rule, whether this evaluation runs it or
    not (the mutating webhook runs only the rules that fix, a test only the rule it tests), so
    what counts as a known rule name travels with the selection, not with the rules run.
    """

    rules: tuple[Rule, ...]
    known: frozenset[str]
    #: Which of a policy's custom rules join this selection (the same test that chose
    #: ``rules`` from the registry); None: none (a selection of named rules).
    admits: Callable[[Rule], bool] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, registry: Iterable[Rule]) -> RuleSet:
        """All the rules of ``registry``, in its order; their names are the known ones."""
        rules = tuple(registry)
        return cls(rules, frozenset(r.name for r in rules), _every_rule)

    def where(self, keep: Callable[[Rule], bool]) -> RuleSet:
        """The rules ``keep`` selects, in the same order, knowing the same names."""
        admits = self.admits
        return RuleSet(
            tuple(r for r in self.rules if keep(r)),
            self.known,
            None if admits is None else (lambda rule: admits(rule) and keep(rule)),
        )

    def named(self, *names: str) -> RuleSet:
        """The named rules, in the order given, knowing the same names (KeyError if one is not
        in the set)."""
        by_name = {r.name: r for r in self.rules}
        return RuleSet(tuple(by_name[name] for name in names), self.known)

    def with_rules(self, extra: Iterable[Rule]) -> RuleSet:
        """This selection and those of ``extra`` (a policy's custom rules) it admits, after
        it; every name of ``extra`` becomes known."""
        extra = tuple(extra)
        admits = self.admits
        added = tuple(r for r in extra if admits is not None and admits(r))
        return RuleSet(self.rules + added, self.known | {r.name for r in extra}, self.admits)


def _every_rule(_rule: Rule) -> bool:
    return True
