"""What a CEL expression sees: ValidatingAdmissionPolicy's ``object``, ``oldObject`` and
``request`` for the object being judged, and the predefined ``variables.job``.

:func:`cel_inputs` is the one place that maps what jobguard judges (a manifest, an admission
CREATE or UPDATE) to those variables; lint, the webhook, audit and ``jobguard test`` all go
through it.
"""

from __future__ import annotations

from typing import Any

from jobguard.core.subject import Subject
from jobguard.core.view import JobView

__all__ = ["RESOURCES", "cel_inputs", "job_spec"]

RESOURCES = {"Job": "jobs", "CronJob": "cronjobs"}
_MEMO_KEY = "cel-inputs"


def job_spec(obj: Any) -> Any:
    """``variables.job``: ``object.spec`` of a Job, ``object.spec.jobTemplate.spec`` of a
    CronJob; None where that path is missing (an expression reading it then fails, as the
    exported variable's expression ``object.spec.jobTemplate.spec`` fails in the API server)."""
    if not isinstance(obj, dict):
        return None
    spec = obj.get("spec")
    if obj.get("kind") == "CronJob":
        template = spec.get("jobTemplate") if isinstance(spec, dict) else None
        spec = template.get("spec") if isinstance(template, dict) else None
    return spec


def cel_inputs(view: JobView, subject: Subject) -> dict[str, Any]:
    """``object``, ``oldObject``, ``request`` and ``params`` for ``view`` judged as ``subject``.

    A manifest (``jobguard lint``, ``jobguard test``) is judged as the CREATE it will be. The
    request carries what jobguard knows of every request; fields it does not know (userInfo in
    lint) are absent, so an expression reading them fails instead of seeing made-up values.
    Computed once per object (every custom rule shares it).

    Handing an object to the evaluator recurses on the C stack (it crashes the process past
    about 5,000 levels of nesting); what reaches here is bounded well below by the readers
    (YAML: 1,000 levels; the webhook's JSON: about 1,000).
    """
    key = (_MEMO_KEY, subject.api_operation, id(subject.old_object), subject.requester)
    memo = view.memo
    found = memo.get(key)
    if found is not None:
        return dict(found)
    update = subject.is_update and subject.old_object is not None
    kind = view.kind
    inputs: dict[str, Any] = {
        "object": view.obj,
        "oldObject": dict(subject.old_object)
        if update and subject.old_object is not None
        else None,
        "request": {
            "operation": "UPDATE" if update else "CREATE",
            "kind": {"group": "batch", "version": "v1", "kind": kind},
            "resource": {"group": "batch", "version": "v1", "resource": RESOURCES[kind]},
            "name": view.name or "",
            "namespace": view.namespace or "",
            "dryRun": False,
        },
        "params": None,
    }
    if subject.requester is not None:
        inputs["request"]["userInfo"] = {
            "username": subject.requester.username,
            "groups": list(subject.requester.groups),
        }
    memo[key] = inputs
    return dict(inputs)
