"""JSON Patch generation: the single-edit shortcut gives the same ops as the working copy, and
neither touches the object."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from jobguard.core.model import Edit, RemoveValue, SetValue
from jobguard.core.patching import PatchConflict, WorkingCopy, _apply_one, apply_edits, patch_for
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules import ALL_RULES
from jobguard.yamlsource import iter_objects, parse_stream
from tests.helpers import RULE_FIXTURES


def _fix_edits() -> list[tuple[dict[str, Any], tuple[Edit, ...]]]:
    found = []
    for fixture in sorted(RULE_FIXTURES.glob("*/*.yaml")):
        for source in iter_objects(parse_stream(fixture.read_bytes())):
            view = JobView.of(source.data)
            if view is None:
                continue
            for rule in ALL_RULES:
                if view.kind not in rule.kinds:
                    continue
                for violation in rule.check(view, rule.options(), Subject.of(view)):
                    if violation.fix is not None:
                        found.append((source.data, violation.fix.edits))
    return found


def test_every_fix_of_the_fixtures_patches_alike_both_ways_and_leaves_the_object() -> None:
    cases = _fix_edits()
    assert len(cases) > 50
    for obj, edits in cases:
        before = json.dumps(obj, sort_keys=True, default=str)
        patch = patch_for(obj, edits)
        assert patch == apply_edits(obj, edits)[1]
        for edit in edits:
            shortcut = _apply_one(obj, edit, set(), write=False)
            assert (shortcut is None) == (apply_edits(obj, (edit,))[1] == [])
        assert json.dumps(obj, sort_keys=True, default=str) == before


def test_the_shortcut_covers_each_kind_of_op() -> None:
    obj = {"spec": {"a": 1, "l": [{"x": 1}], "n": None}}
    snapshot = copy.deepcopy(obj)
    assert patch_for(obj, (SetValue(("spec", "a"), 2),)) == [
        {"op": "replace", "path": "/spec/a", "value": 2}
    ]
    assert patch_for(obj, (SetValue(("spec", "b"), {"c": [1]}),)) == [
        {"op": "add", "path": "/spec/b", "value": {"c": [1]}}
    ]
    assert patch_for(obj, (SetValue(("spec", "n", "deep"), 1),)) == [
        {"op": "add", "path": "/spec/n", "value": {"deep": 1}}
    ]
    assert patch_for(obj, (SetValue(("spec", "l", 0, "x"), 1),)) == []
    assert patch_for(obj, (RemoveValue(("spec", "l", 0)),)) == [
        {"op": "remove", "path": "/spec/l/0"}
    ]
    assert patch_for(obj, (RemoveValue(("spec", "missing", "x")),)) == []
    assert obj == snapshot


def test_a_working_copy_applies_batches_in_turn_and_a_conflicting_batch_not_at_all() -> None:
    original = {"kind": "Job", "spec": {"template": {"spec": {"containers": "not-a-list"}}}}
    snapshot = copy.deepcopy(original)
    work = WorkingCopy(original)
    assert work.doc is original  # nothing copied before the first edit

    first = work.apply((SetValue(("spec", "backoffLimit"), 3),))
    assert first == [{"op": "add", "path": "/spec/backoffLimit", "value": 3}]
    conflicting = (
        SetValue(("spec", "template", "spec", "restartPolicy"), "Never"),
        SetValue(("spec", "template", "spec", "containers", 0, "name"), "x"),
    )
    with pytest.raises(PatchConflict):
        work.apply(conflicting)
    # The half-applied batch is gone; the batch before it stays.
    assert work.doc == {
        "kind": "Job",
        "spec": {"backoffLimit": 3, "template": {"spec": {"containers": "not-a-list"}}},
    }
    later = work.apply((SetValue(("spec", "template", "spec", "restartPolicy"), "Never"),))
    assert later == [{"op": "add", "path": "/spec/template/spec/restartPolicy", "value": "Never"}]
    assert work.doc["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert original == snapshot
