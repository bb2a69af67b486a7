"""Findings, fixes and the vocabulary shared by every front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from jobguard.core.paths import FieldPath, field_path, json_pointer


class Category(str, Enum):
    """Whose rule a finding enforces."""

    API = "api"  # the Kubernetes API server itself would reject (or silently drop) this
    POLICY = "policy"  # the organisation's policy


class Action(str, Enum):
    """What a policy does with a rule's findings."""

    DENY = "deny"
    WARN = "warn"
    AUDIT = "audit"
    OFF = "off"

    @property
    def severity(self) -> Severity:
        return _ACTION_SEVERITY[self]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_ACTION_SEVERITY = {
    Action.DENY: Severity.ERROR,
    Action.WARN: Severity.WARNING,
    Action.AUDIT: Severity.INFO,
    Action.OFF: Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class SetValue:
    """Edit: set ``path`` to ``value``, creating missing parent maps."""

    path: FieldPath
    value: Any


@dataclass(frozen=True, slots=True)
class RemoveValue:
    """Edit: remove ``path`` if it exists."""

    path: FieldPath


Edit = SetValue | RemoveValue


@dataclass(frozen=True, slots=True)
class Fix:
    """A change that resolves a finding.

    ``safe`` fixes keep the manifest's meaning apart from the defect (the webhook applies them and
    ``lint --fix`` writes them); unsafe ones are shown as suggestions only.
    """

    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True)
class Violation:
    """What a rule reports: the engine adds rule identity, category and severity."""

    path: FieldPath
    message: str
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    code: str
    category: Category
    severity: Severity
    action: Action
    path: FieldPath
    message: str
    fix: Fix | None = None
    patch: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    #: On an ``internal-error`` finding: the rule that raised (counted by name in the metrics).
    failed_rule: str | None = None
    #: The rules whose findings at this path this one stands for (a rule's ``SUBSUMES``): it
    #: answers to their names too, so selecting or ignoring rules never hides it by one name.
    merged: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule name this finding answers to: its own first."""
        return (self.rule, *self.merged)

    @property
    def field(self) -> str:
        return field_path(self.path)

    @property
    def pointer(self) -> str:
        return json_pointer(self.path)
