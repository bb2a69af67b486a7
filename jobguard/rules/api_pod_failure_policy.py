"""api-pod-failure-policy: a podFailurePolicy the API server rejects.

What: at most 20 rules; each rule needs an ``action`` (``Count``, ``FailIndex``, ``FailJob``,
``Ignore``; ``FailIndex`` only with ``backoffLimitPerIndex``) and exactly one of ``onExitCodes``
and ``onPodConditions``. ``onExitCodes`` needs an ``operator`` (``In``/``NotIn``), a
``containerName`` (if given) naming a container or init container of the template, 1 to 255
``values`` in ascending order without repeats, and no ``0`` with ``In``. ``onPodConditions``
(at most 20) need a qualified-name ``type`` and a ``status`` of ``True``, ``False`` or
``Unknown`` (an omitted status is defaulted to ``True``). The restartPolicy it requires
(``Never``) is checked by ``api-restart-policy``.

Why: HTTP 422 on create, with messages that are easy to misread (``values: must be ordered``).

Example::

    podFailurePolicy:
      rules:
        - action: FailJob
          onExitCodes: {operator: In, values: [42, 0]}   # values[1]: must not be 0 for In; values: must be ordered

Fix: none automatic; follow the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import qualified_name_errors
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG008"
NAME = "api-pod-failure-policy"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "podFailurePolicy rules the API server rejects"
REMEDIATION = "Give every rule an action and exactly one of onExitCodes/onPodConditions with valid, ordered values."

ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
OPERATORS = ("In", "NotIn")
STATUSES = ("False", "True", "Unknown")
MAX_RULES = 20
MAX_VALUES = 255
MAX_PATTERNS = 20


def _go_list(values: tuple[str, ...]) -> str:
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def _exit_codes(codes: dict[str, Any], at: FieldPath, names: set[str]) -> Iterator[Violation]:
    operator = codes.get("operator")
    if not operator:
        yield Violation((*at, "operator"), f"Required value: valid values: {_go_list(OPERATORS)}")
    elif operator not in OPERATORS:
        yield Violation((*at, "operator"), unsupported(operator, OPERATORS))
    container = codes.get("containerName")
    # ``containerName != nil`` in validatePodFailurePolicyRuleOnExitCodes: "" names no container
    if isinstance(container, str) and container not in names:
        yield Violation(
            (*at, "containerName"),
            invalid(
                container, "must be one of the container or initContainer names in the pod template"
            ),
        )
    values = codes.get("values")
    values = values if isinstance(values, list) else []
    if not values:
        yield Violation((*at, "values"), "Invalid value: []: at least one value is required")
    elif len(values) > MAX_VALUES:
        yield Violation(
            (*at, "values"), f"Too many: {len(values)}: must have at most {MAX_VALUES} items"
        )
    seen: set[int] = set()
    ints = [v for v in values if is_int(v)]
    for index, value in enumerate(values):
        if not is_int(value):
            continue
        if operator == "In" and value == 0:
            yield Violation(
                (*at, "values", index), "Invalid value: 0: must not be 0 for the In operator"
            )
        if value in seen:
            yield Violation((*at, "values", index), f"Duplicate value: {value}")
        seen.add(value)
    if ints != sorted(ints):
        yield Violation((*at, "values"), invalid(ints, "must be ordered"))


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    policy = sim.get("podFailurePolicy")
    if not isinstance(policy, dict):
        return
    rules = policy.get("rules")
    if not isinstance(rules, list):
        return
    if len(rules) > MAX_RULES:
        yield Violation(
            view.at("podFailurePolicy", "rules"),
            f"Too many: {len(rules)}: must have at most {MAX_RULES} items",
        )
    names_str = {
        c["name"]
        for init in (False, True)
        for _, c in sim.containers(init=init)
        if isinstance(c.get("name"), str)
    }
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        at = view.at("podFailurePolicy", "rules", index)
        action = rule.get("action")
        if not action:
            yield Violation((*at, "action"), f"Required value: valid values: {_go_list(ACTIONS)}")
        elif action == "FailIndex" and not sim.has("backoffLimitPerIndex"):
            yield Violation(
                (*at, "action"),
                invalid(action, "requires the backoffLimitPerIndex to be set"),
            )
        elif action not in ACTIONS:
            yield Violation((*at, "action"), unsupported(action, ACTIONS))
        codes = rule.get("onExitCodes")
        if isinstance(codes, dict):
            yield from _exit_codes(codes, (*at, "onExitCodes"), names_str)
        patterns = rule.get("onPodConditions")
        patterns = patterns if isinstance(patterns, list) else []
        if len(patterns) > MAX_PATTERNS:
            yield Violation(
                (*at, "onPodConditions"),
                f"Too many: {len(patterns)}: must have at most {MAX_PATTERNS} items",
            )
        for j, pattern in enumerate(patterns):
            if not isinstance(pattern, dict):
                continue
            kind = pattern.get("type")
            kind = kind if isinstance(kind, str) else ""
            errors = qualified_name_errors(kind)
            if errors:
                yield Violation(
                    (*at, "onPodConditions", j, "type"), invalid(kind, "; ".join(errors))
                )
            status = pattern.get("status")
            if not status:
                yield Violation(
                    (*at, "onPodConditions", j, "status"),
                    f"Required value: valid values: {_go_list(STATUSES)}",
                )
            elif status not in STATUSES:
                yield Violation(
                    (*at, "onPodConditions", j, "status"), unsupported(status, STATUSES)
                )
        if codes is not None and patterns:
            yield Violation(
                at,
                "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
            )
        elif codes is None and not patterns:
            yield Violation(
                at, "Invalid value: specifying one of OnExitCodes and OnPodConditions is required"
            )
