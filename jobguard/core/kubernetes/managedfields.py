"""Which fields a server-side apply owns: ``metadata.managedFields`` entries with
``operation: Apply`` and their ``fieldsV1`` sets.

Written by hand because it must read exactly what the API server writes (structured-merge-diff's
``FieldsV1`` serialisation, ``sigs.k8s.io/structured-merge-diff/fieldpath/serialize-pe.go``):

* ``f:<name>``: a field of a map or struct;
* ``k:<json object>``: the item of an associative list whose key fields hold those values
  (``k:{"name":"main"}`` for a container);
* ``v:<json value>``: the item of a set-like list equal to that value;
* ``i:<index>``: the item at an index (lists with neither keys nor set semantics);
* ``.``: the node itself (present in a set whose children are also listed).

A leaf ``{}`` owns the whole value below it (an atomic map or list). Only ``Apply`` entries are
evidence of what a user wrote: an ``Update`` entry (``kubectl create``, a controller) lists every
field of the object it sent, defaulted ones included, since the API server records the object
after defaulting for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jobguard.core.paths import FieldPath, Key

__all__ = ["AppliedFields", "applied_fields"]

#: A field set deeper than this is not read (a real Job's sets are about 12 levels deep).
MAX_DEPTH = 64


class AppliedFields:
    """The union of the field sets of an object's ``Apply`` entries."""

    __slots__ = ("_sets",)

    def __init__(self, sets: tuple[Mapping[str, Any], ...]) -> None:
        self._sets = sets

    def __bool__(self) -> bool:
        return bool(self._sets)

    def owns(self, obj: Any, path: FieldPath) -> bool:
        """Whether some ``Apply`` entry owns the value of ``obj`` at ``path`` (or a value that
        contains it: an atomic map or list is owned whole)."""
        return any(_owns(fields, obj, path) for fields in self._sets)


def applied_fields(metadata: Mapping[str, Any]) -> AppliedFields:
    """The ``Apply`` field sets of ``metadata.managedFields`` (malformed entries are ignored:
    they are no evidence)."""
    entries = metadata.get("managedFields")
    sets: list[Mapping[str, Any]] = []
    for entry in entries if isinstance(entries, list) else ():
        if (
            isinstance(entry, dict)
            and entry.get("operation") == "Apply"
            and not entry.get("subresource")  # a status apply owns no spec field
            and entry.get("fieldsType", "FieldsV1") == "FieldsV1"
            and isinstance(entry.get("fieldsV1"), dict)
        ):
            sets.append(entry["fieldsV1"])
    return AppliedFields(tuple(sets))


def _owns(fields: Mapping[str, Any], obj: Any, path: FieldPath) -> bool:
    node: Any = fields
    value = obj
    for depth, seg in enumerate(path):
        if not isinstance(node, dict) or depth >= MAX_DEPTH:
            return False
        if not node:
            return True  # a leaf: the whole value below is owned
        if isinstance(seg, int):
            if not isinstance(value, list) or not 0 <= seg < len(value):
                return False
            value = value[seg]
            node = _item_set(node, value, seg)
        else:
            name = seg.name if isinstance(seg, Key) else seg
            value = value.get(name) if isinstance(value, dict) else None
            node = node.get("f:" + name)
        if node is None:
            return False
    return isinstance(node, dict)


def _item_set(node: Mapping[str, Any], item: Any, index: int) -> Any:
    """The set of the list item ``item`` (at ``index``) within a list's set ``node``."""
    for key, child in node.items():
        kind, _, raw = key.partition(":")
        if kind == "i":
            if raw == str(index):
                return child
            continue
        if kind not in ("k", "v"):
            continue
        try:
            decoded = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if kind == "v" and decoded == item:
            return child
        if (
            kind == "k"
            and isinstance(decoded, dict)
            and isinstance(item, dict)
            and all(item.get(k) == v for k, v in decoded.items())
        ):
            return child
    return None
