"""A rule's metadata is typed and checked when the registry is built: a misspelt, missing or
mistyped attribute is an error naming the module, never a silent default."""

from __future__ import annotations

import types
from typing import Any

import pytest

from jobguard.core.model import Action, Category
from jobguard.rules import CATALOGUE, TRANSLATIONS, validating_rules
from jobguard.rules._cel import CelContext, Translation
from jobguard.rules.base import RuleSpecError, check_registry, rule_from_module, spec_from_module


def module(**attributes: Any) -> types.ModuleType:
    mod = types.ModuleType("jobguard.rules.example")
    mod.__doc__ = "example: what it checks."
    base = {
        "CODE": "JG999",
        "NAME": "example",
        "CATEGORY": Category.POLICY,
        "SUMMARY": "An example",
        "REMEDIATION": "Fix it",
        "check": lambda view, options, ctx: [],
    }
    for name, value in {**base, **attributes}.items():
        if value is not None:
            setattr(mod, name, value)
    return mod


def test_a_well_formed_module_gives_its_rule_with_defaults() -> None:
    rule = rule_from_module(module(KINDS=("CronJob",), FIXES=False))
    assert (rule.code, rule.name, rule.kinds, rule.fixes) == (
        "JG999",
        "example",
        frozenset({"CronJob"}),
        False,
    )
    assert rule.default_action is Action.DENY and rule.doc == "example: what it checks."


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"FIX": False}, "FIX looks like a misspelling of FIXES"),
        (
            {"DEFAULT_ACTON": Action.WARN},
            "DEFAULT_ACTON looks like a misspelling of DEFAULT_ACTION",
        ),
        ({"KIND": ("Job",)}, "KIND looks like a misspelling of KINDS"),
        ({"SUMMARY": None}, "SUMMARY is required"),
        ({"check": None}, "check (the rule's function) is required"),
        ({"FIXES": 0}, "fixes must be True or False, not 0"),
        ({"DEFAULT_ACTION": "warn"}, "default_action must be a Action, not 'warn'"),
        ({"KINDS": ("Job", "Pod")}, "kinds must name Job and/or CronJob"),
        ({"NAME": "Example_Rule"}, "name 'Example_Rule' is not kebab-case"),
        ({"Options": int}, "Options must be a dataclass"),
    ],
)
def test_mistakes_are_errors_naming_the_module(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleSpecError) as info:
        spec_from_module(module(**attributes))
    assert str(info.value).startswith("jobguard.rules.example: ")
    assert message in str(info.value)


def test_a_misspelt_options_class_defined_in_the_module_is_caught() -> None:
    mod = module()

    class Option:  # meant to be Options
        pass

    Option.__module__ = mod.__name__
    vars(mod)["Option"] = Option
    with pytest.raises(RuleSpecError, match="Option looks like a misspelling of Options"):
        spec_from_module(mod)


def test_a_modules_cel_function_is_its_translation_for_export() -> None:
    def cel(options: Any, ctx: CelContext) -> Translation:
        return Translation(gaps=("example",))

    cel.__module__ = "jobguard.rules.example"
    assert spec_from_module(module(cel=cel)).cel is cel
    assert spec_from_module(module()).cel is None  # no translation: export says so


def test_a_misspelt_cel_function_defined_in_the_module_is_caught() -> None:
    mod = module()

    def cell(options: Any, ctx: CelContext) -> Translation:  # meant to be cel
        return Translation()

    cell.__module__ = mod.__name__
    vars(mod)["cell"] = cell
    with pytest.raises(RuleSpecError, match="cell looks like a misspelling of cel"):
        spec_from_module(mod)


def test_every_rule_the_webhook_runs_keeps_its_cel_in_its_own_module() -> None:
    """One place per rule: its check and its CEL translation live in the same module."""
    rules = validating_rules().rules
    assert sorted(TRANSLATIONS) == sorted(r.name for r in rules)
    for rule in rules:
        assert TRANSLATIONS[rule.name].__module__ == rule.check.__module__, rule.name


def test_the_registry_refuses_repeated_codes_and_unknown_subsumed_rules() -> None:
    one = rule_from_module(module())
    two = rule_from_module(module(NAME="other", SUBSUMES=("nope",)))
    with pytest.raises(RuleSpecError) as info:
        check_registry([one, two])
    assert "code 'JG999' is used by two rules" in str(info.value)
    assert "rule 'other' subsumes unknown rules ['nope']" in str(info.value)
    check_registry(CATALOGUE)  # the shipped catalogue passes
