"""What a CEL expression sees: ValidatingAdmissionPolicy's ``object``, ``oldObject`` and
``request`` for the object being judged, and the predefined ``variables.job``.

:func:`cel_inputs` is the one place that maps what jobguard judges (a manifest, an admission
CREATE or UPDATE) to those variables; lint, the webhook, audit and ``jobguard test`` all go
through it.
"""

from __future__ import annotations

from typing import Any

from jobguard.core.subject import Subject

__all__ = ["RESOURCES", "cel_inputs", "job_spec"]

RESOURCES = {"Job": "jobs", "CronJob": "cronjobs"}


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


def cel_inputs(subject: Subject) -> dict[str, Any]:
    """``object``, ``oldObject``, ``request`` and ``params`` for what ``subject`` describes.

    A manifest (``jobguard lint``, ``jobguard test``) and a stored object (``jobguard audit``)
    are judged as the CREATE they were or will be; an admission request as itself. The request
    carries what jobguard knows: ``userInfo`` where there is a requester (the webhook); where
    there is none (lint, audit) it is absent, so an expression reading it fails instead of
    seeing a made-up user.

    Handing an object to the evaluator recurses on the C stack (it crashes the process past
    about 5,000 levels of nesting); what reaches here is bounded well below by the readers
    (YAML: 1,000 levels; the webhook's JSON: about 1,000).
    """
    view = subject.view
    kind = view.kind
    request: dict[str, Any] = {
        "operation": subject.api_operation,
        "kind": {"group": "batch", "version": "v1", "kind": kind},
        "resource": {"group": "batch", "version": "v1", "resource": RESOURCES[kind]},
        "name": view.name or "",
        "namespace": view.namespace or "",
        "dryRun": False,
    }
    if subject.requester is not None:
        request["userInfo"] = {
            "username": subject.requester.username,
            "groups": list(subject.requester.groups),
        }
    return {
        "object": view.obj,
        "oldObject": dict(subject.old_object) if subject.is_update and subject.old_object else None,
        "request": request,
        "params": None,
    }
