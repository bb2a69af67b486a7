"""Generate jobguard/data/batch_v1_schema.json from the Kubernetes OpenAPI schemas.

Source: the ``kubernetes-validate`` package (PyPI), which ships the JSON schemas of the
Kubernetes OpenAPI document for every minor version. The output is the closure of the types
reachable from ``batch/v1`` Job and CronJob (ObjectMeta, the whole PodSpec, status), in a compact
form the ``api-structure`` rule loads without importing anything from Kubernetes:

    {"source": ..., "versions": [[1, 25], ..., [1, 37]],
     "roots": {"Job": "io.k8s.api.batch.v1.Job", "CronJob": "io.k8s.api.batch.v1.CronJob"},
     "types": {"<type>": {"<field>": "<type expression>", ...}, ...},
     "since": {"<type>.<field>": [1, 30], ...},
     "deltas": {"1.26": {"<type>": {"<field>": "<type expression>" | null, ...}, ...}, ...}}

Type expressions: ``string``, ``boolean``, ``number``, ``int32``, ``int64``, ``integer``,
``int-or-string``, ``quantity`` (string or number), ``any`` (free-form: preserve-unknown-fields,
RawExtension, FieldsV1), ``[<expr>]`` (list), ``{<expr>}`` (map with string keys) or a type name.
``since`` gives, for a field absent from the oldest schema, the first minor version whose schema
has it (earlier API servers reject it as an unknown field). ``deltas`` hold, per older version,
what the newest schema and ``since`` do not tell: fields later removed (``PodSpec.workloadRef``
of 1.35) and fields whose type changed (a PVC template's ``resources`` before 1.29), as an
expression to use or null for "absent". The newest schema, ``since`` and a version's delta give
back exactly that version's schema; the generator checks it for every version.

Run after upgrading kubernetes-validate (a test extra):

    python tools/gen_schema.py            # writes jobguard/data/batch_v1_schema.json
    python tools/gen_schema.py --check    # exits 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOTS = {"Job": "io.k8s.api.batch.v1.Job", "CronJob": "io.k8s.api.batch.v1.CronJob"}
OUTPUT = Path(__file__).resolve().parent.parent / "jobguard" / "data" / "batch_v1_schema.json"
SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "any",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "any",
}


def schema_dirs() -> list[tuple[tuple[int, int], Path]]:
    import kubernetes_validate  # type: ignore[import-untyped]  # generation time only

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    found = []
    for d in base.iterdir():
        m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", d.name)
        if m:
            found.append(((int(m.group(1)), int(m.group(2))), d))
    return sorted(found)


def _type_of(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


class Compactor:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.types: dict[str, dict[str, str]] = {}

    def ref(self, name: str) -> str:
        if name in SPECIAL:
            return SPECIAL[name]
        schema = self.defs[name]
        if "properties" in schema:
            if name not in self.types:
                self.types[name] = {}  # placeholder first: types may recurse
                self.types[name] = {
                    field: self.expr(sub) for field, sub in sorted(schema["properties"].items())
                }
            return name
        return self.expr(schema)

    def expr(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return self.ref(schema["$ref"].rsplit("/", 1)[-1])
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return "any"
        if "oneOf" in schema:
            kinds = {_type_of(s) for s in schema["oneOf"]}
            if kinds == {"string", "integer"}:
                return "int-or-string"
            if kinds == {"string", "number"}:
                return "quantity"
            return "any"
        t = _type_of(schema)
        if t == "array":
            return "[" + self.expr(schema.get("items", {})) + "]"
        if t == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                return "{" + self.expr(extra) + "}"
            return "any"
        if t == "integer":
            return {"int32": "int32", "int64": "int64"}.get(schema.get("format", ""), "integer")
        if t in ("string", "boolean", "number"):
            return str(t)
        return "any"


def compact(directory: Path) -> dict[str, dict[str, str]]:
    defs = json.loads((directory / "_definitions.json").read_text())["$defs"]
    c = Compactor(defs)
    for root in ROOTS.values():
        c.ref(root)
    return c.types


def first_versions(
    per_version: list[tuple[tuple[int, int], dict[str, dict[str, str]]]],
) -> dict[str, list[int]]:
    """``<type>.<field>`` -> the first version whose schema has it, for the newest schema's
    fields that the oldest schema lacks."""
    oldest_version, _ = per_version[0]
    newest_version, newest = per_version[-1]
    since: dict[str, list[int]] = {}
    for type_name, fields in newest.items():
        for field in fields:
            present = [v for v, types in per_version if field in types.get(type_name, {})]
            first = present[0] if present else newest_version
            if first != oldest_version:
                since[f"{type_name}.{field}"] = list(first)
    return dict(sorted(since.items()))


def implied(
    newest: dict[str, dict[str, str]], since: dict[str, list[int]], version: tuple[int, int]
) -> dict[str, dict[str, str]]:
    """The schema of ``version`` as the newest schema and ``since`` alone describe it."""
    return {
        type_name: {
            field: expr
            for field, expr in fields.items()
            if tuple(since.get(f"{type_name}.{field}", version)) <= version
        }
        for type_name, fields in newest.items()
    }


def delta(
    implied_types: dict[str, dict[str, str]], actual: dict[str, dict[str, str]]
) -> dict[str, dict[str, str | None]]:
    """What turns ``implied_types`` into ``actual``: per type, fields to set (an expression)
    or to remove (None). Types unreachable in ``actual`` are left alone: nothing refers to
    them there."""
    out: dict[str, dict[str, str | None]] = {}
    for type_name, fields in actual.items():
        have = implied_types.get(type_name, {})
        changes: dict[str, str | None] = {
            field: expr for field, expr in fields.items() if have.get(field) != expr
        }
        changes.update({field: None for field in have if field not in fields})
        if changes:
            out[type_name] = dict(sorted(changes.items()))
    return out


def apply_delta(
    types: dict[str, dict[str, str]], changes: dict[str, dict[str, str | None]]
) -> dict[str, dict[str, str]]:
    """``types`` with a version's delta applied (the same steps jobguard's loader takes)."""
    out = dict(types)
    for type_name, fields in changes.items():
        merged = dict(out.get(type_name, {}))
        for field, expr in fields.items():
            if expr is None:
                merged.pop(field, None)
            else:
                merged[field] = expr
        out[type_name] = merged
    return out


def _reachable(types: dict[str, dict[str, str]], roots: list[str]) -> dict[str, dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in types:
            continue
        seen[name] = types[name]
        for expr in types[name].values():
            todo.append(expr.strip("[]{}"))
    return seen


def build() -> dict[str, Any]:
    import kubernetes_validate.version as kv_version  # type: ignore[import-untyped]

    versions = schema_dirs()
    per_version = [(v, compact(d)) for v, d in versions]
    newest_version, newest = per_version[-1]
    since = first_versions(per_version)
    deltas: dict[str, dict[str, dict[str, str | None]]] = {}
    for version, actual in per_version[:-1]:
        changes = delta(implied(newest, since, version), actual)
        rebuilt = apply_delta(implied(newest, since, version), changes)
        roots = list(ROOTS.values())
        # The data must give back every version's schema exactly, as far as it is reachable.
        assert _reachable(rebuilt, roots) == _reachable(actual, roots), version
        if changes:
            deltas[f"{version[0]}.{version[1]}"] = changes
    return {
        "source": f"kubernetes-validate {kv_version.__version__} (Kubernetes OpenAPI schemas "
        f"v{versions[0][0][0]}.{versions[0][0][1]} to v{newest_version[0]}.{newest_version[1]}); "
        "generated by tools/gen_schema.py",
        "versions": [list(v) for v, _ in versions],
        "roots": ROOTS,
        "types": newest,
        "since": since,
        "deltas": deltas,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = parser.parse_args()
    text = json.dumps(build(), indent=None, separators=(",", ":"), sort_keys=False) + "\n"
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run python tools/gen_schema.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
