"""The JSON Schema of policy files, generated from the policy model.

Everything the schema says is read from the code that loads a policy: the top-level keys the
loader accepts, the values it allows for ``on_rule_error`` and ``restated_api_defaults``, the
exemption and scope keys, the rule registry (names, summaries) and each rule's options dataclass
(type hints and defaults). A key added to the loader without a description here makes
:func:`policy_schema` raise, so the shipped schema cannot silently fall behind the loader
(tests/policy/test_policy_schema.py compares the checked-in file with a fresh generation).

What a schema cannot say stays with the loader: whether an ``extends`` file exists, and the
checks an options dataclass makes in ``validate()`` (a default above its maximum, a quantity that
does not parse). The schema checks the shape; the loader checks everything.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal

from jobguard.core.kubernetes.controllers import CRONJOB_CONTROLLER_USERS
from jobguard.core.model import Action
from jobguard.policy import custom_rules
from jobguard.policy.custom_rules import custom_rules_schema
from jobguard.policy.loader import (
    _EXEMPTION_KEYS,
    _EXEMPTION_SELECTORS,
    _SCOPE_KEYS,
    _TOP_KEYS,
    API_VERSION,
    ON_RULE_ERROR,
    RESTATED_API_DEFAULTS,
)

SCHEMA_ID = "https://jobguard.dev/schemas/policy-v1.schema.json"
#: The operators of a label selector requirement (Kubernetes' own).
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_NULL: dict[str, Any] = {"type": "null"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null: the loader reads a key written without a value as absent."""
    return {"anyOf": [schema, _NULL]}


def _string_list(items: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "array", "items": items or {"type": "string"}}


def option_schema(hint: Any) -> dict[str, Any]:
    """The schema of one option's type hint: the same types the loader's coercion accepts."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [option_schema(arg) for arg in typing.get_args(hint)]}
    if origin is Literal:
        return {"enum": list(typing.get_args(hint))}
    if origin is tuple:
        item, _ellipsis = typing.get_args(hint)
        return {"type": "array", "items": option_schema(item)}
    simple = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        type(None): "null",
    }
    if hint in simple:
        return {"type": simple[hint]}
    raise ValueError(f"no JSON Schema for the option type {hint!r}: describe it in {__name__}")


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    return value


def _scope_schema() -> dict[str, Any]:
    requirement = {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "operator"],
        "properties": {
            "key": {"type": "string", "minLength": 1},
            "operator": {"enum": list(_OPERATORS)},
            "values": _nullable(_string_list()),
        },
        # In and NotIn need at least one value (as in a Kubernetes label selector).
        "if": {"properties": {"operator": {"enum": ["In", "NotIn"]}}},
        "then": {
            "required": ["values"],
            "properties": {"values": {"type": "array", "minItems": 1}},
        },
    }
    properties = {
        "namespaces": _nullable(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "include": _nullable(_string_list()),
                    "exclude": _nullable(_string_list()),
                },
                "description": "Shell-style globs; include defaults to every namespace.",
            }
        ),
        "labels": _nullable(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "matchLabels": _nullable(
                        {"type": "object", "additionalProperties": {"type": "string"}}
                    ),
                    "matchExpressions": _nullable({"type": "array", "items": requirement}),
                },
            }
        ),
    }
    _same_keys("scope", properties, _SCOPE_KEYS)
    return _nullable(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": properties,
            "description": "Which objects the policy (or one rule) applies to.",
        }
    )


def _rule_schema(rule: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(rule.options)
    defaults = rule.options()
    properties: dict[str, Any] = {
        # YAML 1.1 reads an unquoted `off` as false, which the loader takes as off.
        "action": {
            "anyOf": [{"enum": [a.value for a in Action]}, {"const": False}],
            "default": rule.default_action.value,
        },
        "scope": {"$ref": "#/$defs/scope"},
    }
    for option in dataclasses.fields(rule.options):
        properties[option.name] = {
            **option_schema(hints[option.name]),
            "default": _json_default(getattr(defaults, option.name)),
        }
    return {
        "type": "object",
        "additionalProperties": False,
        "description": f"{rule.code} {rule.name}: {rule.summary} (`jobguard explain {rule.name}`)",
        "properties": properties,
    }


def _exemption_schema() -> dict[str, Any]:
    selectors: dict[str, Any] = {
        "kinds": _nullable(_string_list({"enum": ["Job", "CronJob"]})),
        "namespaces": _nullable(_string_list()),
        "names": _nullable(_string_list()),
        "files": _nullable(
            {
                **_string_list(),
                "description": "Globs on the path (lint only: the webhook has no file).",
            }
        ),
    }
    _same_keys("an exemption's selectors", selectors, _EXEMPTION_SELECTORS)
    properties: dict[str, Any] = {
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [{"const": "*"}, {"$ref": "#/$defs/ruleName"}]},
        },
        "reason": {"type": "string", "pattern": r"\S"},
        **selectors,
    }
    _same_keys("an exemption", properties, _EXEMPTION_KEYS)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["rules", "reason"],
        "properties": properties,
        # At least one selector with an entry: an exemption for everything is `action: off`.
        "anyOf": [
            {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}
            for name in _EXEMPTION_SELECTORS
        ],
    }


def _top_level(rules: Sequence[Any]) -> dict[str, Callable[[], dict[str, Any]]]:
    """How each top-level key the loader accepts is described."""
    return {
        "apiVersion": lambda: {"const": API_VERSION},
        "kind": lambda: {"const": "Policy"},
        "metadata": lambda: {"description": "Free for the reader; jobguard does not read it."},
        "extends": lambda: {
            "description": "Policy files layered under this one: paths relative to this file, "
            "or jobguard:NAME for a bundled policy.",
            "anyOf": [{"type": "string"}, _string_list(), _NULL],
        },
        "scope": lambda: {"$ref": "#/$defs/scope"},
        "suppressions": lambda: _nullable(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "allowed": {"type": "boolean", "default": True},
                    "forbid": _nullable(_string_list({"$ref": "#/$defs/ruleName"})),
                    "suppressible": _nullable(
                        {
                            **_string_list({"$ref": "#/$defs/ruleName"}),
                            "description": "Deny rules an object's own suppression annotation "
                            "may silence (default none; restart-policy, manual-selector and the "
                            "api-* rules never). Rules whose action is not deny may be "
                            "suppressed unless forbidden.",
                        }
                    ),
                },
            }
        ),
        "rules": lambda: _nullable(
            {
                "type": "object",
                "properties": {rule.name: _rule_schema(rule) for rule in rules},
                # A custom rule's settings (its name is checked against the file's custom_rules
                # by the loader; see NO_CUSTOM_RULES for the files that cannot have any).
                "additionalProperties": {"$ref": "#/$defs/customRuleSettings"},
                "propertyNames": {"$ref": "#/$defs/ruleName"},
            }
        ),
        "exemptions": lambda: _nullable(
            {"type": "array", "items": _exemption_schema()},
        ),
        "on_rule_error": lambda: {"enum": list(ON_RULE_ERROR), "default": "warn"},
        "restated_api_defaults": lambda: {
            "enum": list(RESTATED_API_DEFAULTS),
            "default": "info",
        },
        "trust": lambda: _nullable(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "cronjob_controllers": _nullable(
                        {
                            **_string_list({"type": "string", "minLength": 1}),
                            "description": "The users the CronJob controller creates "
                            "scheduled runs as; only their Jobs controlled by a CronJob are "
                            "a CronJob's scheduled runs.",
                            "default": sorted(CRONJOB_CONTROLLER_USERS),
                        }
                    ),
                },
            }
        ),
        "custom_rules": custom_rules_schema,
    }


def _same_keys(where: str, described: dict[str, Any], accepted: Sequence[str]) -> None:
    missing = [key for key in accepted if key not in described]
    extra = [key for key in described if key not in accepted]
    if missing or extra:
        raise ValueError(
            f"the policy schema of {where} is out of step with the loader: "
            f"not described {missing}, not accepted {extra}; update {__name__}"
        )


def policy_schema(rules: Sequence[Any] | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file for ``rules`` (default: every rule)."""
    if rules is None:
        from jobguard.rules import ALL_RULES

        rules = ALL_RULES
    describe = _top_level(rules)
    _same_keys("the top level", describe, _TOP_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "jobguard policy file",
        "description": "A jobguard policy (apiVersion jobguard.dev/v1, kind Policy). Generated "
        "from the policy loader and the rules' options by `jobguard schema policy`; the loader "
        "also checks what a schema cannot (extends files exist, each rule's option bounds).",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "additionalProperties": False,
        "properties": {key: describe[key]() for key in _TOP_KEYS},
        # A file that neither declares custom rules nor extends another file can only name the
        # built-in rules: there, an unknown name is a typo the schema can point at.
        "if": {"not": {"anyOf": [{"required": ["custom_rules"]}, {"required": ["extends"]}]}},
        "then": {"properties": _builtin_names_only()},
        "$defs": {
            "scope": _scope_schema(),
            "ruleName": {"type": "string", "pattern": custom_rules._NAME.pattern},
            "builtinRuleName": {"enum": [rule.name for rule in rules]},
            "customRuleSettings": {
                "type": "object",
                "additionalProperties": False,
                "description": "A custom rule's action and scope (custom_rules defines it).",
                "properties": {
                    "action": {"anyOf": [{"enum": [a.value for a in Action]}, {"const": False}]},
                    "scope": {"$ref": "#/$defs/scope"},
                },
            },
        },
    }


def _builtin_names_only() -> dict[str, Any]:
    """Where a policy file names rules, built-in names only."""
    builtin = {"$ref": "#/$defs/builtinRuleName"}
    return {
        "rules": {"anyOf": [{"type": "object", "propertyNames": builtin}, _NULL]},
        "suppressions": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"forbid": {"anyOf": [_string_list(builtin), _NULL]}},
                },
                _NULL,
            ]
        },
        "exemptions": {
            "anyOf": [
                {
                    "type": "array",
                    "items": {
                        "properties": {"rules": {"items": {"anyOf": [{"const": "*"}, builtin]}}}
                    },
                },
                _NULL,
            ]
        },
    }


def policy_schema_text() -> str:
    """The schema as the file shipped in jobguard/schemas (stable key order, final newline)."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"
