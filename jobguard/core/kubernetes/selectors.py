"""Kubernetes label selectors (``matchLabels`` + ``matchExpressions``) read from a manifest.

Semantics as in ``metav1.LabelSelectorAsSelector``: every requirement must hold; ``matchLabels``
entries are equality requirements; ``In`` needs the label with one of the values, ``NotIn`` the
label absent or with another value, ``Exists`` / ``DoesNotExist`` the key present / absent. A
selector with no requirements at all (``{}``) matches every set of labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # one of OPERATORS
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values  # NotIn


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    @property
    def is_empty(self) -> bool:
        """An empty selector selects everything (not nothing)."""
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def pins(self, key: str) -> bool:
        """Whether only objects with specific values of ``key`` can match (equality or In)."""
        return any(r.key == key and r.operator == "In" for r in self.requirements)


def parse_selector(value: Any) -> LabelSelector | None:
    """The selector a manifest's ``selector`` field describes, or None if it is malformed.

    Malformed means what the API server's ``ValidateLabelSelector`` rejects in shape (a non-map,
    a non-string label value, an unknown operator, In/NotIn without values, Exists with values);
    label key and value syntax is left to the API rules.
    """
    if not isinstance(value, dict):
        return None
    requirements: list[Requirement] = []
    match_labels = value.get("matchLabels")
    if match_labels is not None:
        if not isinstance(match_labels, dict):
            return None
        for key, label in match_labels.items():
            if not isinstance(key, str) or not isinstance(label, str):
                return None
            requirements.append(Requirement(key, "In", (label,)))
    expressions = value.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            return None
        for expr in expressions:
            requirement = _parse_expression(expr)
            if requirement is None:
                return None
            requirements.append(requirement)
    return LabelSelector(tuple(requirements))


def _parse_expression(expr: Any) -> Requirement | None:
    if not isinstance(expr, dict):
        return None
    key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values")
    if not isinstance(key, str) or operator not in OPERATORS:
        return None
    if values is None:
        values = []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    if operator in ("In", "NotIn") and not values:
        return None
    if operator in ("Exists", "DoesNotExist") and values:
        return None
    return Requirement(key, str(operator), tuple(values))
