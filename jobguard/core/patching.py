"""Turning a finding's edits into RFC 6902 JSON Patch operations.

Ops are generated against a working copy, one edit after the other, so that a later edit sees
the parents an earlier one created (two fixes that both need ``spec/template/spec`` never emit
two competing ``add`` ops). A missing parent is created by one ``add`` of the nested value at the
first missing step: the failure mode of hand-written ``add`` ops (missing parent map) cannot
occur, and no diff of the whole object is needed on the request path.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from jobguard.core.jsoncopy import copy_json
from jobguard.core.model import Edit, RemoveValue
from jobguard.core.paths import FieldPath, json_pointer, segment_name


class PatchConflict(ValueError):
    """An edit cannot be applied: a parent on its path is not a map or list."""


def _nest(path: FieldPath, value: Any) -> Any:
    for seg in reversed(path):
        value = {segment_name(seg): value}
    return value


def _owned(parent: Any, raw: str | int, owned: set[int]) -> Any:
    """``parent[raw]``, shallow-copied into the working copy on first write (copy-on-write)."""
    child = parent[raw]
    if isinstance(child, (dict, list)) and id(child) not in owned:
        child = copy.copy(child)
        parent[raw] = child
        owned.add(id(child))
    return child


def _apply_one(
    doc: dict[str, Any], edit: Edit, owned: set[int], *, write: bool = True
) -> dict[str, Any] | None:
    """Apply ``edit`` to ``doc`` in place and return the op, or None when nothing changes.

    ``owned`` holds the ids of the containers of ``doc`` that belong to the working copy; any
    other container on the path is still shared with the caller's document and is copied before
    it is changed. With ``write=False`` only the op is worked out and ``doc`` is left alone (the
    patch of a single edit needs no working copy).
    """
    parent: Any = doc
    path = edit.path
    for depth, seg in enumerate(path[:-1]):
        raw = segment_name(seg)
        if isinstance(parent, dict):
            if raw not in parent or parent[raw] is None:
                if isinstance(edit, RemoveValue):
                    return None
                rest = path[depth + 1 :]
                added = _nest(rest, copy_json(edit.value))
                if write:
                    parent[raw] = added
                return {"op": "add", "path": json_pointer(path[: depth + 1]), "value": added}
            parent = _owned(parent, raw, owned) if write else parent[raw]
        elif isinstance(parent, list) and isinstance(raw, int) and 0 <= raw < len(parent):
            parent = _owned(parent, raw, owned) if write else parent[raw]
        else:
            raise PatchConflict(f"cannot edit {json_pointer(path)}: a parent is not a map")
    last = segment_name(path[-1]) if path else None
    if last is None:
        raise PatchConflict("cannot edit the document root")
    if isinstance(parent, list):
        if not isinstance(last, int) or not 0 <= last < len(parent):
            raise PatchConflict(f"cannot edit {json_pointer(path)}: no such list item")
        if isinstance(edit, RemoveValue):
            if write:
                del parent[last]
            return {"op": "remove", "path": json_pointer(path)}
        value = copy_json(edit.value)
        if write:
            parent[last] = value
        return {"op": "replace", "path": json_pointer(path), "value": value}
    if not isinstance(parent, dict):
        raise PatchConflict(f"cannot edit {json_pointer(path)}: the parent is not a map")
    if isinstance(edit, RemoveValue):
        if last not in parent:
            return None
        if write:
            del parent[last]
        return {"op": "remove", "path": json_pointer(path)}
    if last in parent and parent[last] == edit.value:
        return None
    op = "replace" if last in parent else "add"
    value = copy_json(edit.value)
    if write:
        parent[last] = value
    return {"op": op, "path": json_pointer(path), "value": value}


class WorkingCopy:
    """A copy-on-write copy of a document that edits are applied to one batch after another.

    Only the maps and lists on edited paths are copied: the copy shares every unchanged subtree
    with the original, which stays untouched. Each batch is atomic: when one of its edits
    conflicts, the copy is rebuilt from the batches applied before it (rare: a single edit checks
    its whole path before it writes anything).
    """

    def __init__(self, doc: dict[str, Any]):
        self._original = doc
        self._batches: list[Sequence[Edit]] = []
        self._copy: dict[str, Any] | None = None  # made on the first edit
        self._owned: set[int] = set()

    @property
    def doc(self) -> dict[str, Any]:
        """The edited document (the original itself while no edit was applied)."""
        return self._original if self._copy is None else self._copy

    def _reset(self) -> dict[str, Any]:
        self._copy = dict(self._original)
        self._owned = {id(self._copy)}
        return self._copy

    def apply(self, edits: Sequence[Edit]) -> list[dict[str, Any]]:
        """Apply ``edits`` and return their JSON Patch ops (empty when nothing changes).
        Raises PatchConflict, leaving the copy as it was, when one of them cannot apply."""
        ops: list[dict[str, Any]] = []
        doc = self._reset() if self._copy is None else self._copy
        try:
            for edit in edits:
                op = _apply_one(doc, edit, self._owned)
                if op is not None:
                    # A copy: later edits may write inside a value this op added.
                    ops.append(copy_json(op))
        except PatchConflict:
            if ops or len(edits) > 1:
                doc = self._reset()
                for batch in self._batches:
                    for edit in batch:
                        _apply_one(doc, edit, self._owned)
            raise
        self._batches.append(edits)
        return ops


def apply_edits(
    doc: dict[str, Any], edits: Iterable[Edit]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A patched copy of ``doc`` (see :class:`WorkingCopy`) and the JSON Patch that turns
    ``doc`` into it. A full deep copy per fix was most of the webhook's time per request."""
    work = WorkingCopy(doc)
    ops = work.apply(tuple(edits))
    return work.doc, ops


def patch_for(doc: dict[str, Any], edits: Sequence[Edit]) -> list[dict[str, Any]]:
    """Only the JSON Patch of :func:`apply_edits`."""
    if len(edits) == 1:  # nearly every fix: no later edit needs to see this one's result
        op = _apply_one(doc, edits[0], set(), write=False)
        return [] if op is None else [op]  # its value is a fresh copy already
    return apply_edits(doc, edits)[1]
