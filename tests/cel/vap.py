"""An offline stand-in for kube-apiserver's ValidatingAdmissionPolicy evaluation of the objects
``jobguard export`` writes for custom rules, on the C++ CEL evaluator (not an API server).

For one request it selects the policies whose ``matchConstraints`` match the kind and operation
and whose binding's ``matchResources`` select the namespace (by its name label, the only label
the stand-in namespaces carry) and the object's labels, requires every ``matchCondition``,
evaluates the ``variables`` in order and reports each false validation with the message the API
server would use.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from jobguard.cel.program import CelEvaluationError, activation, compile_expression


@dataclass(frozen=True)
class Verdict:
    policy: str
    action: str  # the binding's validationActions[0]: Deny, Warn, Audit
    message: str


def _request(obj: dict[str, Any], operation: str, namespace: str) -> dict[str, Any]:
    kind = obj["kind"]
    return {
        "operation": operation,
        "kind": {"group": "batch", "version": "v1", "kind": kind},
        "resource": {"group": "batch", "version": "v1", "resource": kind.lower() + "s"},
        "name": obj["metadata"].get("name", ""),
        "namespace": namespace,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "dryRun": False,
    }


def _requirement(req: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator, values = req["key"], req["operator"], req.get("values", [])
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise NotImplementedError(operator)


def _selected(resources: dict[str, Any], obj: dict[str, Any], namespace: str) -> bool:
    namespace_labels = {"kubernetes.io/metadata.name": namespace}
    object_labels = (obj.get("metadata") or {}).get("labels") or {}
    for selector, labels in (
        ("namespaceSelector", namespace_labels),
        ("objectSelector", object_labels),
    ):
        chosen = resources.get(selector, {})
        if any(labels.get(k) != v for k, v in chosen.get("matchLabels", {}).items()):
            return False
        if not all(_requirement(r, labels) for r in chosen.get("matchExpressions", [])):
            return False
    return True


def _eval(expression: str, values: dict[str, Any]) -> Any:
    return compile_expression(expression).evaluate(activation(values))


def judge(
    objects: list[dict[str, Any]],
    obj: dict[str, Any],
    operation: str,
    namespace: str,
    old: dict[str, Any] | None = None,
) -> list[Verdict]:
    bindings = {
        o["spec"]["policyName"]: o
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicyBinding"
    }
    resource = obj["kind"].lower() + "s"
    found = []
    for policy in objects:
        if policy["kind"] != "ValidatingAdmissionPolicy":
            continue
        spec = policy["spec"]
        binding = bindings[policy["metadata"]["name"]]
        if not any(
            resource in r["resources"] and operation in r["operations"]
            for r in spec["matchConstraints"]["resourceRules"]
        ):
            continue
        if not _selected(binding["spec"].get("matchResources", {}), obj, namespace):
            continue
        values: dict[str, Any] = {
            "object": obj,
            "oldObject": old,
            "request": _request(obj, operation, namespace),
            "params": None,
            "variables": {},
        }
        conditions = [_eval(c["expression"], values) for c in spec.get("matchConditions", [])]
        if not all(conditions):
            continue
        for variable in spec.get("variables", []):
            # An erroring variable is an error only where it is read, as in the API server.
            with contextlib.suppress(CelEvaluationError):
                values["variables"] = {
                    **values["variables"],
                    variable["name"]: _eval(variable["expression"], values),
                }
        for validation in spec["validations"]:
            if _eval(validation["expression"], values) is True:
                continue
            message = validation.get("message") or f"failed expression: {validation['expression']}"
            if "messageExpression" in validation:
                with contextlib.suppress(CelEvaluationError):
                    message = _eval(validation["messageExpression"], values) or message
            found.append(
                Verdict(
                    policy["metadata"]["name"], binding["spec"]["validationActions"][0], message
                )
            )
    return found
