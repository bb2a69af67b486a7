"""The mutating webhook runs only rules that may attach a fix (``FIXES = False`` in a rule module
opts out) and that the API server does not enforce itself. A rule that says it never fixes must indeed never attach a fix: checked here on every
rule fixture and every captured admission object."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from jobguard.core.engine import evaluate
from jobguard.core.model import Category
from jobguard.core.rule import RuleSet
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.policy.model import builtin_defaults
from jobguard.rules import ALL_RULES, REGISTRY, fixing_rules
from jobguard.rules.base import rule_from_module
from jobguard.yamlsource import iter_objects, parse_stream
from tests.helpers import RULE_FIXTURES
from tests.webhook.support import ADMISSION


def all_fixture_objects() -> list[dict]:  # type: ignore[type-arg]
    objects = []
    for path in sorted(RULE_FIXTURES.glob("*/*.yaml")):
        for src in iter_objects(parse_stream(path.read_bytes())):
            if isinstance(src.data, dict):
                objects.append(src.data)
    for path in sorted(ADMISSION.glob("*.json")):
        request = json.loads(path.read_text())["request"]
        objects += [o for o in (request.get("object"), request.get("oldObject")) if o]
    return objects


def test_rule_modules_opt_out_with_fixes_false() -> None:
    module = SimpleNamespace(
        CODE="JG999",
        NAME="example",
        CATEGORY=Category.POLICY,
        SUMMARY="s",
        REMEDIATION="r",
        check=lambda view, options, subject: (),
        __doc__="example: a rule",
    )
    assert rule_from_module(module).fixes is True
    module.FIXES = False
    assert rule_from_module(module).fixes is False


def test_the_mutating_webhook_runs_exactly_the_rules_that_may_fix() -> None:
    # api-structure offers renames, but only of unknown fields, which a decoded object has none
    # of; the set still knows every registered name, which a suppression annotation may use.
    assert fixing_rules() == RuleSet(
        tuple(r for r in ALL_RULES if r.fixes and not r.checked_by_apiserver),
        frozenset(r.name for r in ALL_RULES),
    )
    assert {r.name for r in ALL_RULES if r.fixes} - {r.name for r in fixing_rules().rules} == {
        "api-structure"
    }


def test_rules_that_declare_they_never_fix_attach_no_fix(tmp_path: Path) -> None:
    declared = REGISTRY.where(lambda r: not r.fixes)
    objects = all_fixture_objects()
    assert len(objects) > 50
    offenders = set()
    for obj in objects:
        for defaulted in (False, True):
            view = JobView.of(obj, defaulted=defaulted)
            if view is None:
                continue
            report = evaluate(Subject.of(view), builtin_defaults(), rules=declared)
            offenders |= {f.rule for f in report.findings if f.fix is not None}
    assert offenders == set()
