"""The Kubernetes CEL library functions of the offline evaluator, against Kubernetes' semantics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from jobguard.rules._cel import glob_regex
from tests.export.k8s_cel import evaluate, parse_quantity, to_json


def run(expression: str, obj: Any = None) -> object:
    return to_json(evaluate(expression, {"object": json_to_cel(obj)}))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", Decimal(1)),
        ("500m", Decimal("0.5")),
        ("1.5Gi", Decimal(1536 * 2**20)),
        ("1536Mi", Decimal(1536 * 2**20)),
        ("2k", Decimal(2000)),
        ("1e3", Decimal(1000)),
        ("+.5", Decimal("0.5")),
        ("100n", Decimal("0.0000001")),
    ],
)
def test_quantities_parse_to_their_value(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1.5.5", "Gi", "1 Gi", "1gi", "1KiB", "abc"])
def test_malformed_quantities_are_not_quantities(text: str) -> None:
    assert parse_quantity(text) is None
    assert run(f"isQuantity('{text}')") is False


def test_compare_to_orders_by_value_across_suffixes() -> None:
    assert run("quantity('1536Mi').compareTo(quantity('1.5Gi'))") == 0
    assert run("quantity('500m').compareTo(quantity('1'))") == -1
    assert run("quantity('2').compareTo(quantity('1999m'))") == 1


def test_quantity_of_a_malformed_string_is_an_error() -> None:
    with pytest.raises(CELEvalError):
        run("quantity('1.5.5')")


def test_join_and_macros() -> None:
    obj = {"c": [{"name": "a", "x": 1}, {"name": "b"}, {"name": "c", "x": 2}]}
    assert run("object.c.filter(i, has(i.x)).map(i, i.name).join(', ')", obj) == "a, c"
    assert run("[].join(', ')") == ""
    assert run("object.c.exists(i, !has(i.x))", obj) is True
    assert run("object.c.all(i, has(i.name))", obj) is True


def test_presence_chains_are_false_on_a_missing_parent() -> None:
    # Kubernetes' has(object.a.b) is an error when a is missing (cel-python's is lenient):
    # exported expressions check each step, which both read alike.
    assert run("has(object.a) && has(object.a.b)", {}) is False
    assert run("has(object.a) && has(object.a.b)", {"a": {"b": 1}}) is True


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("team-*", ["team-a", "team-"], ["xteam-a", "team"]),
        ("ns?", ["ns1"], ["ns", "ns12"]),
        ("a.b", ["a.b"], ["axb"]),
        ("[ab]-x", ["a-x", "b-x"], ["c-x"]),
        ("[!ab]-x", ["c-x"], ["a-x"]),
    ],
)
def test_globs_become_anchored_regexes_matching_like_fnmatch(
    glob: str, yes: list[str], no: list[str]
) -> None:
    pattern = glob_regex(glob)
    for name in yes:
        assert run(f"'{name}'.matches('{pattern}')") is True, name
    for name in no:
        assert run(f"'{name}'.matches('{pattern}')") is False, name


def test_jsonpatch_objects_carry_their_fields() -> None:
    ops = run("[JSONPatch{op: 'add', path: '/spec/x', value: object.v}]", {"v": 3})
    assert ops == [{"op": "add", "path": "/spec/x", "value": 3}]


def test_any_value_compares_with_null() -> None:
    assert run("object != null", {"a": 1}) is True
    assert run("object == null", {"a": 1}) is False
    assert run("object == null") is True
    assert run("object.a != 2", {"a": 1}) is True


def test_evaluating_cel_leaves_the_recursion_limit_alone() -> None:
    import sys

    before = sys.getrecursionlimit()
    assert run("[1, 2].exists(i, i == 2)") is True
    assert sys.getrecursionlimit() == before


def test_trim_removes_unicode_white_space_only() -> None:
    assert run("' \\u00a0reason\\t\\u3000'.trim()") == "reason"
    assert run("'\\u2003'.trim() == ''") is True
    assert run("'\\u200b'.trim() == ''") is False  # a zero-width space is not white space
