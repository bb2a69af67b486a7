"""Shared by the API rules (not a rule): the simulated object and the API server's wording.

Every ``api-*`` rule judges what the API server's validation would see (see
:mod:`jobguard.core.kubernetes.apiserver`): the object after defaulting and, for a Job created without
``manualSelector: true``, with its generated selector and labels. Paths are the same in the
manifest and in the simulated object, so findings point at the user's fields.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from jobguard.core.kubernetes.apiserver import ApiObject, simulate
from jobguard.core.kubernetes.names import go_quote
from jobguard.core.subject import Subject
from jobguard.core.view import JobView

_SIMULATION = "api-object"  # this module's key in JobView.memo


def api_object(view: JobView, subject: Subject) -> ApiObject:
    """The simulation of ``view``'s object for this evaluation's operation and version.

    Computed once and kept in the view's memo, so every API rule of one evaluation judges the
    same simulated object (and pays for one copy of it); it goes when the view goes.
    """
    key = (_SIMULATION, subject.api_operation, subject.version)
    found = view.memo.get(key)
    if found is None:
        found = simulate(view.obj, operation=subject.api_operation, version=subject.version)
        view.memo[key] = found
    result: ApiObject = found
    return result


def api_view(view: JobView, subject: Subject) -> JobView:
    """A JobView over the simulated object (same kind, same paths)."""
    return api_object(view, subject).view


def shown(value: Any) -> str:
    """A value the way a field error prints it (strings quoted, maps and lists as JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if value is None:
        return "null"
    return go_quote(value)


def invalid(value: Any, detail: str) -> str:
    return f"Invalid value: {shown(value)}: {detail}"


def unsupported(value: Any, supported: tuple[str, ...]) -> str:
    return f"Unsupported value: {shown(value)}: supported values: " + ", ".join(
        go_quote(s) for s in supported
    )


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
