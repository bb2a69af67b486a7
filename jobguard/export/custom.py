"""A custom rule as a ValidatingAdmissionPolicy: its expressions unchanged, so the exported
policy and jobguard judge alike by construction.

The policy's ``variables`` start with ``job`` (what jobguard predefines as ``variables.job``),
then the rule's own; its ``matchConditions`` are the rule's, then those of the policy's scope,
exemptions and suppression annotation (:func:`jobguard.export.build.admission_match`).
"""

from __future__ import annotations

from typing import Any

from jobguard.cel.custom_rule import CustomRule
from jobguard.cel.inputs import RESOURCES
from jobguard.core.model import Action

__all__ = ["JOB_VARIABLE", "validating_policy"]

#: ``variables.job`` in the API server: the Job spec of a Job or of a CronJob's template.
JOB_VARIABLE = "object.kind == 'CronJob' ? object.spec.jobTemplate.spec : object.spec"


def validation(item: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"expression": item.expression.source}
    if item.message:
        out["message"] = item.message
    if item.message_expression is not None:
        out["messageExpression"] = item.message_expression.source
    return out


def validating_policy(
    custom: CustomRule,
    action: Action,
    name: str,
    conditions: list[dict[str, str]],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy of ``custom`` (its binding is built as every rule's)."""
    kinds = sorted(custom.kinds, key=lambda k: RESOURCES[k])
    spec: dict[str, Any] = {
        # As the built-in rules' policies: a deny rule that cannot be evaluated blocks, a
        # warning or an audit note never does.
        "failurePolicy": "Fail" if action is Action.DENY else "Ignore",
        "matchConstraints": {
            "matchPolicy": "Equivalent",
            "resourceRules": [
                {
                    "apiGroups": ["batch"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": [RESOURCES[kind]],
                }
                for kind in kinds
            ],
        },
        "variables": [
            {"name": "job", "expression": JOB_VARIABLE},
            *({"name": n, "expression": p.source} for n, p in custom.variables),
        ],
        "validations": [validation(v) for v in custom.validations],
    }
    match = [{"name": n, "expression": p.source} for n, p in custom.match_conditions]
    if match or conditions:
        spec["matchConditions"] = match + conditions
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {**metadata, "name": name},
        "spec": spec,
    }
