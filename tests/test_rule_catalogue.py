"""The catalogue itself: every registered rule is documented, remediable and tested."""

from __future__ import annotations

import dataclasses

import pytest

from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules import ALL_RULES
from jobguard.rules.base import Rule
from jobguard.yamlsource import iter_objects, parse_stream
from tests.helpers import RULE_FIXTURES


def test_rule_codes_and_names_are_unique() -> None:
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)


#: Rules judged from a deployed object and its replacement, and where they are tested.
JUDGED_ON_UPDATES = {"api-job-update": "tests/ci/test_update_rules.py"}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_every_rule_has_docs_remediation_and_fixtures(rule: Rule) -> None:
    assert rule.doc.startswith(f"{rule.name}:"), "the docstring starts with '<name>: <one line>'"
    assert len(rule.doc) > 200, "the docstring documents what, why, an example and the fix"
    for section in ("Why", "Example", "Fix"):
        assert section in rule.doc
    assert rule.remediation.strip()
    assert rule.summary.strip()
    if rule.name in JUDGED_ON_UPDATES:
        return  # a fixture is one object; these need the deployed one too
    folder = RULE_FIXTURES / rule.name
    assert list(folder.glob("pass-*.yaml")), f"no pass fixture in {folder}"
    fails = list(folder.glob("fail-*.yaml"))
    assert fails, f"no fail fixture in {folder}"
    texts = [f.read_text() for f in fails]
    for kind in sorted(rule.kinds):
        assert any(f"kind: {kind}\n" in t for t in texts), f"the {kind} form has a fail fixture"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_options_are_frozen_with_defaults(rule: Rule) -> None:
    assert dataclasses.is_dataclass(rule.options)
    assert rule.options.__dataclass_params__.frozen  # type: ignore[attr-defined]
    rule.options()  # every option has a default


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if not r.fixes], ids=lambda r: r.name)
def test_a_rule_declaring_no_fixes_never_attaches_one(rule: Rule) -> None:
    """The mutating webhook skips rules with ``FIXES = False``: one that did fix would be lost."""
    checked = 0
    for fixture in sorted(RULE_FIXTURES.glob("*/*.yaml")):
        for source in iter_objects(parse_stream(fixture.read_bytes())):
            view = JobView.of(source.data)
            if view is None or view.kind not in rule.kinds:
                continue
            checked += 1
            for violation in rule.check(view, rule.options(), Subject.of(view)):
                assert violation.fix is None, f"{fixture.name}: {violation.path}"
    assert checked
