"""The batch/v1 Job and CronJob schema, and what strict decoding would say about a manifest.

The data (``jobguard/data/batch_v1_schema.json``) is generated from the Kubernetes OpenAPI
schemas by ``tools/gen_schema.py``; it covers the whole object: ObjectMeta, the Job and CronJob
specs, the complete PodSpec and the status. It is loaded on first use, once per process (about a
millisecond), and nothing of Kubernetes is imported.

:func:`structure_errors` walks a manifest against it the way the API server's decoder does:

* a value of the wrong JSON type (``backoffLimit: "six"``, ``labels: {version: 1}``) is a
  decoding error (``cannot unmarshal string into Go struct field ...``);
* an unknown field is a strict-decoding error (``kubectl`` asks for strict field validation since
  1.27), and so is a field newer than the target Kubernetes version;
* ``null`` is accepted anywhere (it decodes to "unset"); ``int-or-string`` takes either;
  quantities take a string or a number; free-form fields (``x-kubernetes-preserve-unknown-fields``,
  RawExtension, managedFields' FieldsV1) take anything.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.paths import FieldPath, Key, field_path

SCHEMA_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "batch_v1_schema.json"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


Types = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Schema:
    """The newest schema (``types``), the first version of every newer field (``since``) and,
    per older version, what else differs (``deltas``: an expression, or None for absent)."""

    roots: dict[str, str]
    types: Types
    since: dict[str, tuple[int, int]]
    deltas: dict[tuple[int, int], dict[str, dict[str, str | None]]]
    versions: tuple[tuple[int, int], ...]
    _built: dict[tuple[int, int], Types] = field(default_factory=dict, compare=False, repr=False)

    def types_at(self, version: tuple[int, int]) -> Types:
        """The schema of one Kubernetes version (built once per version and process)."""
        found = self._built.get(version)
        if found is None:
            found = self._built[version] = _types_at(self, version)
        return found


@functools.cache
def load_schema() -> Schema:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Schema(
        roots=data["roots"],
        types=data["types"],
        since={k: (v[0], v[1]) for k, v in data["since"].items()},
        deltas={_parse(k): v for k, v in data.get("deltas", {}).items()},
        versions=tuple((v[0], v[1]) for v in data["versions"]),
    )


def _parse(key: str) -> tuple[int, int]:
    major, minor = key.split(".")
    return int(major), int(minor)


def _types_at(schema: Schema, version: tuple[int, int]) -> Types:
    if version >= schema.versions[-1]:
        return schema.types
    # A version older than the data's oldest gets the oldest schema (callers validate the
    # version against the supported range first).
    version = max(version, schema.versions[0])
    out: Types = {}
    for type_name, fields in schema.types.items():
        kept = {
            name: expr
            for name, expr in fields.items()
            if schema.since.get(f"{type_name}.{name}", version) <= version
        }
        out[type_name] = kept
    for type_name, changes in schema.deltas.get(version, {}).items():
        merged = dict(out.get(type_name, {}))
        for name, change in changes.items():
            if change is None:
                merged.pop(name, None)
            else:
                merged[name] = change
        out[type_name] = merged
    return out


@dataclass(frozen=True)
class StructureError:
    path: FieldPath
    message: str


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_GO_TYPES = {
    "string": "string",
    "boolean": "bool",
    "number": "float64",
    "int32": "int32",
    "int64": "int64",
    "integer": "int64",
    "int-or-string": "intstr.IntOrString",
    "quantity": "resource.Quantity",
}
_PLAIN = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "int32": "an integer",
    "int64": "an integer",
    "integer": "an integer",
    "int-or-string": "an integer or a string",
    "quantity": "a quantity (a string such as 500m or 1Gi, or a number)",
}


def _go_type(expr: str) -> str:
    if expr.startswith("["):
        return "[]" + _go_type(expr[1:-1])
    if expr.startswith("{"):
        return "map[string]" + _go_type(expr[1:-1])
    if expr in _GO_TYPES:
        return _GO_TYPES[expr]
    return "v1." + short_type(expr)


def _plain(expr: str) -> str:
    if expr.startswith("["):
        return "a list"
    if expr.startswith("{"):
        return "a map"
    return _PLAIN.get(expr, "an object")


def short_type(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # sigs.k8s.io/yaml turns 6.0 into the JSON number 6, which decodes into an integer field.
    return isinstance(value, float) and value.is_integer()


def _fits(expr: str, value: Any) -> bool:
    if expr == "any":
        return True
    if expr == "string":
        return isinstance(value, str)
    if expr == "boolean":
        return isinstance(value, bool)
    if expr in ("int32", "int64", "integer"):
        return _is_integral(value)
    if expr == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expr == "int-or-string":
        return isinstance(value, str) or _is_integral(value)
    if expr == "quantity":
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if expr.startswith("["):
        return isinstance(value, list)
    return isinstance(value, dict)


def _go_field(path: FieldPath, struct: str) -> str:
    dotted = ".".join(s for s in path if isinstance(s, str))
    return f"{short_type(struct)}.{dotted}"


def did_you_mean(name: str, fields: Mapping[str, str], value: Any = None) -> str | None:
    """The known field a misspelt one most likely meant (case first, then spelling), among the
    ``fields`` (name -> type) that can hold ``value`` (None: any): a rename must give the value
    a field that takes it (``schedule: "0 3 * * *"`` is no misspelt ``scheduling``, an object)."""
    known = sorted(k for k, expr in fields.items() if value is None or _fits(expr, value))
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return close[0] if close else None


JOB_SPEC = "io.k8s.api.batch.v1.JobSpec"
CRONJOB_SPEC = "io.k8s.api.batch.v1.CronJobSpec"


def misplaced_field(type_name: str, name: str) -> str | None:
    """Why ``name`` is unknown in a Job spec or a CronJob's own spec when it is a field of the
    other one (a Job with a ``schedule``, a CronJob with ``template`` beside its schedule): a
    different mistake from a misspelling, with its own hint and no rename."""
    types = load_schema().types
    job, cronjob = types[JOB_SPEC], types[CRONJOB_SPEC]
    if type_name == JOB_SPEC and name in cronjob and name not in job:
        return (
            f"{name} is a CronJob field: a Job runs once, when it is created; to run it on a "
            "schedule, write a kind: CronJob with this Job spec under spec.jobTemplate.spec"
        )
    if type_name == CRONJOB_SPEC and name in job and name not in cronjob:
        return f"{name} is a Job field: in a CronJob it goes under spec.jobTemplate.spec"
    return None


def _version(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


class _Walker:
    def __init__(self, schema: Schema, version: tuple[int, int]) -> None:
        self.schema = schema
        self.types = schema.types_at(version)
        self.version = version
        self.errors: list[StructureError] = []

    def value(self, value: Any, expr: str, path: FieldPath, struct: str) -> None:
        if value is None or expr == "any":
            return
        if not _fits(expr, value):
            shown = json.dumps(value) if isinstance(value, (str, int, float, bool)) else ""
            name = field_path(path)
            self.errors.append(
                StructureError(
                    path,
                    f"cannot unmarshal {_json_kind(value)} into Go struct field "
                    f"{_go_field(path, struct)} of type {_go_type(expr)} ({name} must be "
                    f"{_plain(expr)}{', not ' + shown if shown else ''})",
                )
            )
            return
        if expr == "quantity" and isinstance(value, str) and parse_quantity(value) is None:
            self.errors.append(
                StructureError(
                    path,
                    f"quantities must match the regular expression {QUANTITY_PATTERN!r} "
                    f"({field_path(path)}: {json.dumps(value)} is not a quantity; write e.g. "
                    "500m, 2, 1Gi or 512Mi)",
                )
            )
            return
        if expr in ("int32", "int64", "integer"):
            low, high = (INT32_MIN, INT32_MAX) if expr == "int32" else (INT64_MIN, INT64_MAX)
            if not low <= value <= high:
                self.errors.append(
                    StructureError(
                        path,
                        f"cannot unmarshal number {int(value)} into Go struct field "
                        f"{_go_field(path, struct)} of type {expr} (out of range)",
                    )
                )
            return
        if expr.startswith("["):
            for index, item in enumerate(value):
                self.value(item, expr[1:-1], (*path, index), struct)
        elif expr.startswith("{"):
            for key, item in value.items():
                self.value(item, expr[1:-1], (*path, Key(str(key))), struct)
        elif expr in self.types:
            self.struct(value, expr, path)

    def struct(self, value: dict[Any, Any], type_name: str, path: FieldPath) -> None:
        fields = self.types[type_name]
        for key, item in value.items():
            name = str(key)
            expr = fields.get(name)
            if expr is None:
                since = self.schema.since.get(f"{type_name}.{name}")
                newer = since if since is not None and since > self.version else None
                self.errors.append(
                    StructureError((*path, name), self._unknown(name, item, path, type_name, newer))
                )
                continue
            self.value(item, expr, (*path, name), type_name)

    def _unknown(
        self,
        name: str,
        value: Any,
        path: FieldPath,
        type_name: str,
        since: tuple[int, int] | None,
    ) -> str:
        shown = field_path((*path, name))
        message = f'strict decoding error: unknown field "{shown}"'
        if since is not None:
            return (
                f"{message} (the field was added in Kubernetes {_version(since)}; the target "
                f"version is {_version(self.version)}, see --kubernetes-version)"
            )
        misplaced = misplaced_field(type_name, name)
        if misplaced is not None:
            return f"{message} ({misplaced})"
        guess = did_you_mean(name, self.types[type_name], value)
        return f'{message}; did you mean "{guess}"?' if guess else message


def typed_path(kind: str, raw: FieldPath) -> FieldPath:
    """``raw`` (field names and indexes) with map keys as :class:`Key` where the schema has maps,
    so that it renders as the API server spells it (``metadata.labels[app]``)."""
    schema = load_schema()
    expr = schema.roots.get(kind, "any")
    out: list[str | int | Key] = []
    for seg in raw:
        if expr.startswith("{") and isinstance(seg, str):
            out.append(Key(seg))
            expr = expr[1:-1]
        elif expr.startswith("[") and isinstance(seg, int):
            out.append(seg)
            expr = expr[1:-1]
        else:
            out.append(seg)
            fields = schema.types.get(expr, {})
            expr = fields.get(seg, "any") if isinstance(seg, str) else "any"
    return tuple(out)


def structure_errors(obj: dict[str, Any], version: tuple[int, int]) -> list[StructureError]:
    """Decoding errors of a Job or CronJob manifest, in document order."""
    schema = load_schema()
    root = schema.roots.get(str(obj.get("kind")))
    if root is None:
        return []
    if _compiled(version).valid(obj, root):
        return []
    walker = _Walker(schema, version)
    walker.struct(obj, root, ())
    return walker.errors


def fields_present(
    obj: dict[str, Any], version: tuple[int, int], wanted: frozenset[str]
) -> list[tuple[FieldPath, str]]:
    """(path, ``<type>.<field>``) of every set field of ``wanted`` in a Job or CronJob, read
    with the schema of ``version``; only the parts of the object that can hold one are walked."""
    schema = load_schema()
    root = schema.roots.get(str(obj.get("kind")))
    if root is None or not wanted:
        return []
    found: list[tuple[FieldPath, str]] = []
    _present(obj, root, (), _presence_plan(version, wanted), found)
    return found


#: Per holder type (see :func:`_holders`), its fields worth reading: field -> (expression,
#: ``<type>.<field>`` if it is wanted else None, whether a wanted field can lie below it).
_PresencePlan = dict[str, dict[str, tuple[str, str | None, bool]]]


@functools.lru_cache(maxsize=32)
def _presence_plan(version: tuple[int, int], wanted: frozenset[str]) -> _PresencePlan:
    """What :func:`fields_present` reads, worked out once per version and set of fields: the
    other fields (most of a manifest: names, images, env, labels...) are not even visited."""
    types = load_schema().types_at(version)
    holders = _holders(version, wanted)
    plan: _PresencePlan = {}
    for type_name in holders:
        fields: dict[str, tuple[str, str | None, bool]] = {}
        for name, expr in types.get(type_name, {}).items():
            label = f"{type_name}.{name}"
            is_wanted = label in wanted
            deeper = expr.strip("[]{}") in holders
            if is_wanted or deeper:
                fields[name] = (expr, label if is_wanted else None, deeper)
        plan[type_name] = fields
    return plan


def _present(
    value: Any,
    expr: str,
    path: FieldPath,
    plan: _PresencePlan,
    found: list[tuple[FieldPath, str]],
) -> None:
    if value is None:
        return
    if expr.startswith("["):
        if isinstance(value, list):
            for index, item in enumerate(value):
                _present(item, expr[1:-1], (*path, index), plan, found)
    elif expr.startswith("{"):
        if isinstance(value, dict):
            for key, item in value.items():
                _present(item, expr[1:-1], (*path, Key(str(key))), plan, found)
    elif isinstance(value, dict):
        fields = plan.get(expr)
        if not fields:
            return
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            entry = fields.get(name)
            if entry is None or item is None:
                continue
            sub, label, deeper = entry
            if label is not None:
                found.append(((*path, name), label))
            if deeper:
                _present(item, sub, (*path, name), plan, found)


@functools.lru_cache(maxsize=32)
def _holders(version: tuple[int, int], wanted: frozenset[str]) -> frozenset[str]:
    """The types from which a field of ``wanted`` can be reached."""
    types = load_schema().types_at(version)
    direct = {key.rsplit(".", 1)[0] for key in wanted}
    holders = {t for t in direct if t in types}
    changed = True
    while changed:
        changed = False
        for type_name, fields in types.items():
            if type_name in holders:
                continue
            if any(expr.strip("[]{}") in holders for expr in fields.values()):
                holders.add(type_name)
                changed = True
    return frozenset(holders)


# -- the fast path ----------------------------------------------------------------------------
#
# Nearly every object the webhook sees decodes cleanly. The checks below answer only "does it
# decode?", with one closure per schema expression and no field paths built; the walker above
# runs only when the answer is no, to say where and why. They must never accept what the walker
# rejects (tests/test_schema_fast_path.py holds them to that).

_Check = Callable[[Any], bool]


def _integral_in(low: int, high: int) -> _Check:
    def check(value: Any) -> bool:
        if value is None:
            return True
        if type(value) is int:
            return low <= value <= high
        return _is_integral(value) and low <= value <= high

    return check


def _scalar(expr: str) -> _Check:
    if expr == "string":
        return lambda value: value is None or isinstance(value, str)
    if expr == "boolean":
        return lambda value: value is None or isinstance(value, bool)
    if expr == "int32":
        return _integral_in(INT32_MIN, INT32_MAX)
    if expr in ("int64", "integer"):
        return _integral_in(INT64_MIN, INT64_MAX)
    if expr == "number":
        return lambda value: (
            value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        )
    if expr == "int-or-string":
        return lambda value: value is None or isinstance(value, str) or _is_integral(value)
    if expr == "quantity":
        return lambda value: (
            value is None
            or (
                parse_quantity(value) is not None
                if isinstance(value, str)
                else isinstance(value, (int, float)) and not isinstance(value, bool)
            )
        )
    raise KeyError(expr)


class _Compiled:
    """The decode-or-not checks of every schema expression, for one target version."""

    def __init__(self, schema: Schema, version: tuple[int, int]) -> None:
        self.types = schema.types_at(version)
        self.checks: dict[str, _Check] = {}

    def valid(self, obj: dict[str, Any], root: str) -> bool:
        return self.check(root)(obj)

    def check(self, expr: str) -> _Check:
        found = self.checks.get(expr)
        if found is None:
            found = self.checks[expr] = self._build(expr)
        return found

    def _build(self, expr: str) -> _Check:
        if expr == "any":
            return lambda value: True
        if expr in _GO_TYPES:
            return _scalar(expr)
        if expr.startswith("["):
            item = expr[1:-1]
            return lambda value: (
                value is None or (isinstance(value, list) and all(map(self.check(item), value)))
            )
        if expr.startswith("{"):
            item = expr[1:-1]
            return lambda value: (
                value is None
                or (isinstance(value, dict) and all(map(self.check(item), value.values())))
            )
        if expr not in self.types:
            return lambda value: value is None or isinstance(value, dict)
        return self._struct(expr)

    def _struct(self, type_name: str) -> _Check:
        fields = self.types[type_name]
        # Each field's check, looked up once per field instead of once per value checked.
        field_checks: dict[str, _Check] = {}

        def check(value: Any) -> bool:
            if value is None:
                return True
            if not isinstance(value, dict):
                return False
            for key, item in value.items():
                name = key if type(key) is str else str(key)
                field_check = field_checks.get(name)
                if field_check is None:
                    expr = fields.get(name)
                    if expr is None:
                        return False
                    field_check = field_checks[name] = self.check(expr)
                if not field_check(item):
                    return False
            return True

        return check


@functools.lru_cache(maxsize=8)
def _compiled(version: tuple[int, int]) -> _Compiled:
    return _Compiled(load_schema(), version)


def fill_null_items(obj: dict[str, Any], kind: str, version: tuple[int, int]) -> None:
    """Replace each ``null`` item of a list of objects under ``obj["spec"]`` by ``{}`` (in place).

    What the API server's JSON decoder does: a ``null`` element of a Go slice of structs
    (``containers: [null]``, ``env: [null]``, ``tolerations: [null]``) decodes as the zero
    struct, and validation then judges an empty container, env var or toleration. Lists of
    scalars keep their ``null`` items (their zero value is no object). Only ``spec`` is
    changed: the simulation deep-copies nothing else.
    """
    schema = load_schema()
    root = schema.roots.get(kind)
    spec = obj.get("spec")
    if root is None or not isinstance(spec, dict):
        return
    spec_expr = schema.types_at(version).get(root, {}).get("spec")
    if spec_expr is not None:
        _fill(spec, spec_expr, _null_fill_plan(version))


@dataclass(frozen=True)
class _NullFillPlan:
    """Where a ``null`` item can be decoded as an object, for one version: ``objects`` are the
    struct types, ``fields`` each type's fields below which a list of structs can lie, and
    ``holding`` every expression that can hold one. Lists of scalars, labels, annotations,
    args... are never visited."""

    objects: frozenset[str]
    fields: dict[str, dict[str, str]]
    holding: frozenset[str]


@functools.lru_cache(maxsize=8)
def _null_fill_plan(version: tuple[int, int]) -> _NullFillPlan:
    types = load_schema().types_at(version)
    holders: set[str] = set()

    def holds(expr: str) -> bool:
        if expr.startswith("["):
            return expr[1:-1] in types or holds(expr[1:-1])
        if expr.startswith("{"):
            return holds(expr[1:-1])
        return expr in holders

    changed = True
    while changed:  # types are recursive (a fixed point, as for _holders)
        changed = False
        for type_name, fields in types.items():
            if type_name not in holders and any(holds(e) for e in fields.values()):
                holders.add(type_name)
                changed = True
    exprs = {e for fields in types.values() for e in fields.values()}
    return _NullFillPlan(
        objects=frozenset(types),
        fields={
            t: {name: e for name, e in fields.items() if holds(e)} for t, fields in types.items()
        },
        holding=frozenset(e for e in exprs | set(types) if holds(e)),
    )


def _fill(value: Any, expr: str, plan: _NullFillPlan) -> None:
    if isinstance(value, list) and expr.startswith("["):
        item_expr = expr[1:-1]
        objects = item_expr in plan.objects
        deeper = item_expr in plan.holding
        for index, item in enumerate(value):
            if item is None:
                if objects:
                    value[index] = {}
            elif deeper:
                _fill(item, item_expr, plan)
    elif isinstance(value, dict):
        if expr.startswith("{"):
            if expr[1:-1] in plan.holding:
                for item in value.values():
                    _fill(item, expr[1:-1], plan)
        else:
            fields = plan.fields.get(expr)
            if fields:
                for key, item in value.items():
                    sub = fields.get(key if type(key) is str else str(key))
                    if sub is not None and isinstance(item, (list, dict)):
                        _fill(item, sub, plan)
