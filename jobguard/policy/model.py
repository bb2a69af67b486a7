"""The compiled, immutable policy shared by every request thread and lint worker."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jobguard.core.cached import cached_property
from jobguard.core.engine import INTERNAL_ERROR_RULE
from jobguard.core.kubernetes.controllers import CRONJOB_CONTROLLER_USERS
from jobguard.core.kubernetes.selectors import Requirement
from jobguard.core.model import Action
from jobguard.core.suppressions import annotation_refusal

if TYPE_CHECKING:
    from jobguard.cel.custom_rule import CustomRule
    from jobguard.core.rule import RuleSet
    from jobguard.rules.base import Rule


#: Namespace verdicts a scope keeps; past this (a flood of made-up names) it computes each anew.
MAX_REMEMBERED_NAMESPACES = 4096


@dataclass(frozen=True)
class Scope:
    """Which objects a policy (or one rule) applies to.

    Namespaces are shell-style globs. An object without a namespace (a manifest that leaves it to
    ``kubectl -n``) is in scope unless ``include`` is restrictive and ``assume_namespace`` is unset
    in the lint run: the linter cannot know where it will land, so it checks it.
    """

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    match_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    match_expressions: tuple[Requirement, ...] = ()

    @cached_property
    def unrestricted(self) -> bool:
        """Matches every object (the default): no need to look at namespace or labels."""
        return (
            self.include == ("*",)
            and not self.exclude
            and not self.match_labels
            and not self.match_expressions
        )

    @cached_property
    def _namespace_verdicts(self) -> dict[str, bool]:
        return {}

    def namespace_matches(self, namespace: str) -> bool:
        """Whether the include and exclude globs admit ``namespace``, remembered per name: a
        cluster has few namespaces, and the webhook asks on every request."""
        verdicts = self._namespace_verdicts
        verdict = verdicts.get(namespace)
        if verdict is None:
            verdict = any(fnmatchcase(namespace, pat) for pat in self.include) and not any(
                fnmatchcase(namespace, pat) for pat in self.exclude
            )
            if len(verdicts) < MAX_REMEMBERED_NAMESPACES:
                verdicts[namespace] = verdict
        return verdict

    def matches(self, namespace: str | None, labels: Mapping[str, str]) -> bool:
        if self.unrestricted:  # every rule without a scope of its own, on every request
            return True
        if namespace is not None and not self.namespace_matches(namespace):
            return False
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        return all(req.matches(labels) for req in self.match_expressions)


EVERYWHERE = Scope()


@dataclass(frozen=True)
class RuleSettings:
    action: Action
    options: Any
    scope: Scope = EVERYWHERE

    def in_scope(self, namespace: str | None, labels: Mapping[str, str]) -> bool:
        return self.scope.matches(namespace, labels)


@dataclass(frozen=True)
class Exemption:
    """Rules that do not apply to matching objects (third-party charts nobody can annotate).

    Every selector given must match (kinds exactly, the others as shell-style globs); within one
    selector any entry may match. ``files`` only matches in ``jobguard lint`` (the webhook sees no
    file), so an exemption with ``files`` never exempts anything at admission.
    """

    rules: tuple[str, ...]  # rule names, or "*" for all
    reason: str
    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def matches(
        self, rule: str, kind: str, namespace: str | None, name: str | None, file: str | None
    ) -> bool:
        if "*" not in self.rules and rule not in self.rules:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        checks = ((self.namespaces, namespace), (self.names, name), (self.files, file))
        for patterns, value in checks:
            if patterns and (value is None or not any(fnmatchcase(value, p) for p in patterns)):
                return False
        return True


@dataclass(frozen=True)
class Policy:
    """A loaded policy. Rules the files do not mention run with their own defaults."""

    rules: Mapping[str, RuleSettings]
    scope: Scope = EVERYWHERE
    suppressions_allowed: bool = True
    unsuppressible: frozenset[str] = frozenset()
    # ``suppressions.suppressible``: the deny rules an object's own annotation may silence
    # (none by default: exceptions to a denial belong in the policy file's exemptions).
    suppressible: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    # ``on_rule_error: deny``: a rule that crashes on an object denies it (fail closed) instead
    # of letting it through with a warning.
    deny_on_rule_error: bool = False
    # ``restated_api_defaults: info`` (the default): a finding whose only fix writes what the
    # Job gets anyway is reported as info, whatever the rule's action (``action``: as usual).
    restated_defaults_as_info: bool = True
    # ``trust.cronjob_controllers``: the users the CronJob controller acts as. Only a Job one of
    # them creates, controlled by a CronJob, is a scheduled run (warned about, never denied).
    cronjob_controllers: frozenset[str] = CRONJOB_CONTROLLER_USERS
    #: The policy's own rules (``custom_rules:``), in the order the files declare them.
    custom: tuple[CustomRule, ...] = ()

    @cached_property
    def custom_rules(self) -> tuple[Rule, ...]:
        if not self.custom:
            return ()  # without importing the CEL library
        from jobguard.cel.custom_rule import SharedInputs

        shared = SharedInputs(self.custom)  # one evaluation of their inputs per object
        return tuple(c.rule(shared) for c in self.custom)

    @cached_property
    def custom_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.custom)

    def extend(self, rules: RuleSet) -> RuleSet:
        """``rules`` with the custom rules it admits (those judge what the selection judges:
        every front end's selection of rules that report, none of the fixing ones).

        Worked out once per selection: the webhook asks on every request.
        """
        if not self.custom:
            return rules
        cache: dict[int, tuple[RuleSet, RuleSet]] = self.__dict__.setdefault("_extended", {})
        hit = cache.get(id(rules))
        if hit is not None and hit[0] is rules:
            return hit[1]
        extended = rules.with_rules(self.custom_rules)
        if len(cache) >= 64:
            cache.clear()
        cache[id(rules)] = (rules, extended)
        return extended

    def exemption(
        self,
        rule: str,
        kind: str,
        namespace: str | None,
        name: str | None,
        file: str | None = None,
    ) -> Exemption | None:
        """The first exemption that lifts ``rule`` for this object, if any.

        ``file`` globs match the path relative to the working directory, with ``/`` separators.
        """
        if file is not None and file != "<stdin>":
            file = Path(os.path.relpath(os.path.abspath(file))).as_posix()
        for exemption in self.exemptions:
            if exemption.matches(rule, kind, namespace, name, file):
                return exemption
        return None

    def settings(self, rule: Rule) -> RuleSettings:
        if rule.name == INTERNAL_ERROR_RULE:  # not configurable: on_rule_error decides
            return RuleSettings(
                Action.DENY if self.deny_on_rule_error else Action.WARN, rule.options()
            )
        found = self.rules.get(rule.name)
        if found is not None:
            return found
        return RuleSettings(rule.default_action, rule.options())

    def active_rules(
        self, rules: Sequence[Rule], kind: str
    ) -> tuple[tuple[Rule, RuleSettings], ...]:
        """The rules of ``rules`` that apply to ``kind`` and are not off, with their settings.

        Worked out once per rule list and kind (the policy is immutable): the webhook asks on
        every request.
        """
        cache: dict[tuple[int, str], tuple[Sequence[Rule], Any]] = self.__dict__.setdefault(
            "_active_rules", {}
        )
        key = (id(rules), kind)
        hit = cache.get(key)
        if hit is not None and hit[0] is rules:
            active: tuple[tuple[Rule, RuleSettings], ...] = hit[1]
            return active
        active = tuple(
            (rule, settings)
            for rule in rules
            if kind in rule.kinds
            for settings in (self.settings(rule),)
            if settings.action is not Action.OFF
        )
        if len(cache) >= 64:  # callers passing a new list each time: keep the cache small
            cache.clear()
        cache[key] = (rules, active)
        return active

    def annotation_refusal(self, rule: Rule, action: Action) -> str | None:
        """Why a suppression annotation on the object cannot silence ``rule`` at ``action``
        (None: it can); :func:`jobguard.core.suppressions.annotation_refusal` decides."""
        return annotation_refusal(
            rule,
            action,
            allowed=self.suppressions_allowed,
            forbidden=self.unsuppressible,
            suppressible=self.suppressible,
        )

    def in_scope(self, namespace: str | None, labels: Mapping[str, str]) -> bool:
        return self.scope.matches(namespace, labels)


def builtin_defaults() -> Policy:
    """Every rule with its default action and options: what an empty policy file means."""
    return Policy(rules=MappingProxyType({}))
