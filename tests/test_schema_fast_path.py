"""The schema's fast path (decodes or not) agrees with the walker that explains the errors.

``structure_errors`` skips the walk when the compiled check accepts an object, so the check
must accept exactly the objects the walker finds nothing in. Held to that over every object
of the rule, admission and example fixtures, and over each of them with one value replaced by
a wrong one at every position.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobguard.core.kubernetes.schema import _compiled, _Walker, load_schema
from jobguard.core.paths import FieldPath
from jobguard.yamlsource import iter_objects, parse_stream
from tests.helpers import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = [(1, 28), (1, 34), (1, 37)]
WRONG_VALUES: list[Any] = [
    "six",
    "500x",
    10**30,
    -(2**31) - 1,
    1.5,
    6.0,
    True,
    None,
    [],
    [1],
    {},
    {"unknownField": 1},
]


def _objects() -> list[dict[str, Any]]:
    found = []
    files = [*FIXTURES.glob("rules/*/*.yaml"), *(ROOT / "examples").rglob("*.yaml")]
    for path in sorted(files):
        for source in iter_objects(parse_stream(path.read_bytes())):
            if isinstance(source.data, dict) and source.data.get("kind") in ("Job", "CronJob"):
                found.append(source.data)
    for path in sorted((FIXTURES / "admission").glob("*.json")):
        obj = json.loads(path.read_text())["request"].get("object")
        if isinstance(obj, dict) and obj.get("kind") in ("Job", "CronJob"):
            found.append(obj)
    return found


def _walker_says_valid(obj: dict[str, Any], version: tuple[int, int]) -> bool:
    schema = load_schema()
    walker = _Walker(schema, version)
    walker.struct(obj, schema.roots[obj["kind"]], ())
    return not walker.errors


def _fast_says_valid(obj: dict[str, Any], version: tuple[int, int]) -> bool:
    return _compiled(version).valid(obj, load_schema().roots[obj["kind"]])


def _positions(value: Any, path: FieldPath = ()) -> Iterator[FieldPath]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _positions(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from _positions(item, (*path, index))


def _replaced(obj: Any, path: FieldPath, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return {k: (_replaced(v, rest, new) if k == head else v) for k, v in obj.items()}
    return [(_replaced(v, rest, new) if i == head else v) for i, v in enumerate(obj)]


OBJECTS = _objects()


def test_there_are_objects_of_both_kinds_and_both_answers() -> None:
    kinds = {o["kind"] for o in OBJECTS}
    assert kinds == {"Job", "CronJob"}
    answers = {_walker_says_valid(o, (1, 34)) for o in OBJECTS}
    assert answers == {True, False}


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_fast_path_agrees_on_every_fixture_object(version: tuple[int, int]) -> None:
    for obj in OBJECTS:
        assert _fast_says_valid(obj, version) == _walker_says_valid(obj, version), obj


def test_fast_path_agrees_with_one_wrong_value_anywhere() -> None:
    version = (1, 34)
    compared = disagreements = 0
    for obj in OBJECTS:
        if not _walker_says_valid(obj, version):
            continue
        for path in _positions(obj):
            if path == ("kind",):
                continue  # the kind picks the schema: another kind is not a wrong value
            for wrong in WRONG_VALUES:
                changed = _replaced(obj, path, wrong)
                compared += 1
                if _fast_says_valid(changed, version) != _walker_says_valid(changed, version):
                    disagreements += 1
                    pytest.fail(f"{'.'.join(map(str, path))} = {wrong!r} in {obj['kind']}")
    assert compared > 10_000 and disagreements == 0
