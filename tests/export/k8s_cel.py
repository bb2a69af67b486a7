"""An offline stand-in for the API server's admission policy evaluation, on cel-python.

It runs the exported objects the way kube-apiserver does for one request: the policy's
``matchConstraints`` and the binding's ``matchResources`` select the request, every
``matchCondition`` must hold, then each validation (false: a failure with its message) or
mutation (a list of JSONPatch operations, applied in order). The Kubernetes CEL library
functions the export uses are implemented here after their Kubernetes semantics:

* ``quantity(s)``, ``isQuantity(s)``, ``q.compareTo(q)`` (k8s.io/apiserver/pkg/cel/library/
  quantity.go, over resource.Quantity's grammar);
* ``list.join(sep)`` and ``s.trim()`` (cel-go ext strings, as Kubernetes enables it);
* ``JSONPatch{op, path, value}`` objects (MutatingAdmissionPolicy);
* ``x == null`` / ``x != null`` for any ``x`` (cel-python only compares null with null).

``has()``, ``in``, the list macros and ``matches`` are cel-python's own (``matches`` runs
Python's ``re``; the exported patterns use only syntax RE2 and ``re`` read alike).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import celpy
import jsonpatch
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

# resource.Quantity: <sign><digits>[.<digits>]<suffix>, suffix binary (Ki..Ei), decimal (n, u,
# m, "", k, M, G, T, P, E) or a decimal exponent (e3, E-2).
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+|)$"
)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


class Quantity(celtypes.StringType):
    """A parsed quantity (kept as its text for display; compared by value)."""

    value: Decimal


def parse_quantity(text: str) -> Decimal | None:
    found = _QUANTITY.match(text)
    if found is None:
        return None
    try:
        number = Decimal(found["num"])
    except InvalidOperation:
        return None
    suffix = found["suffix"]
    if suffix in _BINARY:
        return number * Decimal(2 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def quantity(text: Any) -> Quantity:
    value = parse_quantity(str(text))
    if value is None:
        raise CELEvalError(f"quantities must match the regular expression: {text!r}")
    out = Quantity(str(text))
    out.value = value
    return out


def is_quantity(text: Any) -> celtypes.BoolType:
    return celtypes.BoolType(parse_quantity(str(text)) is not None)


def compare_to(a: Quantity, b: Quantity) -> celtypes.IntType:
    return celtypes.IntType((a.value > b.value) - (a.value < b.value))


def join(items: Any, sep: Any = "") -> celtypes.StringType:
    if not all(isinstance(i, str) for i in items):
        raise CELEvalError("join: list elements must be strings")
    return celtypes.StringType(str(sep).join(str(i) for i in items))


# Unicode White_Space, what cel-go's strings.trim() removes (zero-width spaces are not in it).
WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"


def trim(text: Any) -> celtypes.StringType:
    return celtypes.StringType(str(text).strip(WHITE_SPACE))


class JSONPatch(celtypes.MessageType):
    """``JSONPatch{op: ..., path: ..., value: ...}``: a map of its fields."""


def _null_aware(compare: Any, when_null: bool) -> Any:
    """CEL compares any value with null (``oldObject != null`` on CREATE); cel-python has no
    map/null overload."""

    def op(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return celtypes.BoolType((a is None and b is None) == when_null)
        return compare(a, b)

    return op


FUNCTIONS = {
    "_==_": _null_aware(celpy.evaluation.bool_eq, True),
    "_!=_": _null_aware(celpy.evaluation.bool_ne, False),
    "quantity": quantity,
    "isQuantity": is_quantity,
    "compareTo": compare_to,
    "join": join,
    "trim": trim,
}


@contextmanager
def _cel_recursion() -> Iterator[None]:
    """cel-python parses and evaluates recursively and raises the process's recursion limit
    for it (in ``Environment()``); keep that inside CEL so that no other test sees it."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 2500))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


with _cel_recursion():
    _ENV = celpy.Environment(annotations={"JSONPatch": JSONPatch})
_PROGRAMS: dict[str, Any] = {}


def evaluate(expression: str, activation: dict[str, Any]) -> Any:
    with _cel_recursion():
        program = _PROGRAMS.get(expression)
        if program is None:
            program = _ENV.program(_ENV.compile(expression), functions=FUNCTIONS)
            _PROGRAMS[expression] = program
        result = program.evaluate(activation)
    if isinstance(result, CELEvalError):
        raise result
    return result


def to_json(value: Any) -> Any:
    """A CEL value back as plain JSON data."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    obj: dict[str, Any]
    operation: str = "CREATE"
    namespace: str = "batch-demo"
    username: str = "alice"
    old: dict[str, Any] | None = None

    def activation(self, obj: dict[str, Any] | None = None) -> dict[str, Any]:
        request = {
            "operation": self.operation,
            "namespace": self.namespace,
            "userInfo": {"username": self.username},
        }
        return {
            "object": json_to_cel(self.obj if obj is None else obj),
            "oldObject": None if self.old is None else json_to_cel(self.old),
            "request": json_to_cel(request),
        }


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


RESOURCES = {"Job": "jobs", "CronJob": "cronjobs"}


def selects(policy: dict[str, Any], binding: dict[str, Any], req: Request, obj: Any) -> bool:
    """matchConstraints, the binding's matchResources and every matchCondition."""
    resource = RESOURCES[req.obj["kind"]]
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    if not any(
        resource in r["resources"]
        and req.operation in r["operations"]
        and "batch" in r["apiGroups"]
        for r in rules
    ):
        return False
    resources = binding["spec"].get("matchResources", {})
    namespace_labels = {"kubernetes.io/metadata.name": req.namespace}
    if not selector_matches(resources.get("namespaceSelector"), namespace_labels):
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if not selector_matches(resources.get("objectSelector"), labels):
        return False
    activation = req.activation(obj)
    return all(
        bool(evaluate(c["expression"], activation))
        for c in policy["spec"].get("matchConditions", [])
    )


@dataclass(frozen=True)
class Failure:
    rule: str
    path: str
    action: str
    message: str


_HEAD = re.compile(r"^\[(?P<rule>[a-z0-9-]+)\] (?P<path>\S+): ")


def pairs(objects: list[dict[str, Any]], kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}
    return [
        (policies[o["spec"]["policyName"]], o) for o in objects if o["kind"] == kind + "Binding"
    ]


def validate(objects: list[dict[str, Any]], req: Request) -> list[Failure]:
    """Every validation failure of the exported ValidatingAdmissionPolicies for ``req``."""
    failures = []
    for policy, binding in pairs(objects, "ValidatingAdmissionPolicy"):
        if not selects(policy, binding, req, req.obj):
            continue
        activation = req.activation()
        for v in policy["spec"]["validations"]:
            if evaluate(v["expression"], activation):
                continue
            head = _HEAD.match(v["message"])
            assert head is not None, v["message"]
            message = str(evaluate(v["messageExpression"], activation))
            for action in binding["spec"]["validationActions"]:
                failures.append(Failure(head["rule"], head["path"], action, message))
    return failures


def mutate(objects: list[dict[str, Any]], req: Request) -> dict[str, Any]:
    """The object after every exported MutatingAdmissionPolicy, applied in order."""
    obj = req.obj
    for policy, binding in pairs(objects, "MutatingAdmissionPolicy"):
        if not selects(policy, binding, req, obj):
            continue
        for m in policy["spec"]["mutations"]:
            assert m["patchType"] == "JSONPatch"
            ops = to_json(evaluate(m["jsonPatch"]["expression"], req.activation(obj)))
            if ops:
                obj = jsonpatch.apply_patch(obj, ops)
    return obj
