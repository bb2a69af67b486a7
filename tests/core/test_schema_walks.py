"""The schema walks that skip what cannot matter give what a walk of everything gives.

``fields_present`` and ``fill_null_items`` visit only the parts of an object where a wanted field
or a list of objects can lie (worked out from the schema once per version). The references here
walk every field, as those functions did before; both must agree on every fixture manifest of the
tests, with ``null`` sprinkled into its lists and maps, for every supported version.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobguard.core.kubernetes.schema import (
    Types,
    fields_present,
    fill_null_items,
    load_schema,
)
from jobguard.core.kubernetes.versions import pod_fields_off
from jobguard.core.paths import FieldPath, Key

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VERSIONS = [(1, 27), (1, 29), (1, 31), (1, 33), (1, 35), (1, 37)]


def _manifests() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((FIXTURES / "rules").rglob("*.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_bytes()))
        except yaml.YAMLError:
            continue  # fixtures of unreadable input
        found.extend(d for d in documents if isinstance(d, dict))
    for path in sorted((FIXTURES / "admission").glob("*.json")):
        request = json.loads(path.read_bytes()).get("request") or {}
        found.extend(o for o in (request.get("object"), request.get("oldObject")) if o)
    return [m for m in found if m.get("kind") in ("Job", "CronJob")]


def _with_nulls(obj: Any, rng: random.Random) -> Any:
    """``obj`` with some values and list items replaced by ``null`` and some ``null`` items added."""
    if isinstance(obj, dict):
        return {k: None if rng.random() < 0.05 else _with_nulls(v, rng) for k, v in obj.items()}
    if isinstance(obj, list):
        items = [None if rng.random() < 0.15 else _with_nulls(v, rng) for v in obj]
        return [*items, None] if rng.random() < 0.2 else items
    return obj


def _reference_present(
    obj: dict[str, Any], version: tuple[int, int], wanted: frozenset[str]
) -> list[tuple[FieldPath, str]]:
    schema = load_schema()
    types = schema.types_at(version)
    found: list[tuple[FieldPath, str]] = []

    def walk(value: Any, expr: str, path: FieldPath) -> None:
        if value is None:
            return
        if expr.startswith("[") and isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, expr[1:-1], (*path, index))
        elif expr.startswith("{") and isinstance(value, dict):
            for key, item in value.items():
                walk(item, expr[1:-1], (*path, Key(str(key))))
        elif expr in types and isinstance(value, dict):
            for key, item in value.items():
                sub = types[expr].get(str(key))
                if sub is None or item is None:
                    continue
                if f"{expr}.{key}" in wanted:
                    found.append(((*path, str(key)), f"{expr}.{key}"))
                walk(item, sub, (*path, str(key)))

    walk(obj, schema.roots[obj["kind"]], ())
    return found


def _reference_fill(obj: dict[str, Any], version: tuple[int, int]) -> None:
    schema = load_schema()
    types: Types = schema.types_at(version)

    def fill(value: Any, expr: str) -> None:
        if isinstance(value, list) and expr.startswith("["):
            for index, item in enumerate(value):
                if item is None and expr[1:-1] in types:
                    value[index] = {}
                else:
                    fill(item, expr[1:-1])
        elif isinstance(value, dict):
            if expr.startswith("{"):
                for item in value.values():
                    fill(item, expr[1:-1])
            elif expr in types:
                for key, item in value.items():
                    sub = types[expr].get(str(key))
                    if sub is not None:
                        fill(item, sub)

    if isinstance(obj.get("spec"), dict):
        fill(obj["spec"], types[schema.roots[obj["kind"]]]["spec"])


MANIFESTS = _manifests()


def test_the_fixtures_hold_jobs_and_cronjobs_with_lists_of_objects() -> None:
    kinds = {m["kind"] for m in MANIFESTS}
    assert kinds == {"Job", "CronJob"} and len(MANIFESTS) >= 50


@pytest.mark.parametrize("version", VERSIONS)
def test_the_pruned_walks_agree_with_walking_everything(version: tuple[int, int]) -> None:
    rng = random.Random(version[1])
    gated = frozenset(pod_fields_off(version))
    some_fields = frozenset(
        {
            "io.k8s.api.core.v1.Container.name",
            "io.k8s.api.core.v1.EnvVar.value",
            "io.k8s.api.core.v1.Toleration.key",
            "io.k8s.api.batch.v1.JobSpec.parallelism",
        }
    )
    filled = 0
    for manifest in MANIFESTS:
        kind = {"kind": manifest["kind"]}
        for obj in (manifest, _with_nulls(manifest, rng) | kind, _with_nulls(manifest, rng) | kind):
            for wanted in (gated, some_fields):
                assert fields_present(obj, version, wanted) == _reference_present(
                    obj, version, wanted
                )
            mine, reference = copy.deepcopy(obj), copy.deepcopy(obj)
            fill_null_items(mine, mine["kind"], version)
            _reference_fill(reference, version)
            assert mine == reference
            filled += mine != obj
    assert filled > 0  # some null items did become objects


def test_a_null_item_deep_in_an_init_container_becomes_an_object() -> None:
    job: dict[str, Any] = {
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [{"name": "a", "env": [None], "args": [None]}],
                    "tolerations": [None],
                }
            }
        },
    }
    fill_null_items(job, "Job", (1, 37))
    pod = job["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["env"] == [{}]
    assert pod["initContainers"][0]["args"] == [None]  # a list of strings keeps its null
    assert pod["tolerations"] == [{}]
