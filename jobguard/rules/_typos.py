"""Shared by api-structure and the defaulting rules (not a rule): misspelt keys beside a field.

The one place that decides "is there a near-miss key of this field here". A key is a near-miss of
a field when the schema does not know it (in any Kubernetes version) and the schema's own
did-you-mean picks that field for it. Reusing the did-you-mean of the unknown-field message
(difflib's ratio, case-insensitive match first) keeps both answers identical: the default is held
back exactly when api-structure names the field in its hint, and a known sibling field that
merely looks alike (``completions`` beside ``completionMode``) is never a near-miss.
"""

from __future__ import annotations

import functools
from typing import Any

from jobguard.core.kubernetes.schema import did_you_mean, load_schema, misplaced_field
from jobguard.core.kubernetes.versions import Version
from jobguard.core.paths import FieldPath
from jobguard.core.view import JobView


@functools.lru_cache(maxsize=4096)
def struct_at(kind: str, mapping_path: FieldPath) -> str | None:
    """(Remembered per path: every defaulting rule asks on every object.) The schema type of the
    struct at ``mapping_path`` in a ``kind`` object, or None where the schema has no struct."""
    schema = load_schema()
    expr = schema.roots.get(kind)
    if expr is None:
        return None
    for seg in mapping_path:
        if (expr.startswith("[") and isinstance(seg, int)) or expr.startswith("{"):
            expr = expr[1:-1]
        elif isinstance(seg, str) and expr in schema.types:
            found = schema.types[expr].get(seg)
            if found is None:
                return None
            expr = found
        else:
            return None
    return expr if expr in schema.types else None


def known_fields(kind: str, mapping_path: FieldPath) -> dict[str, str] | None:
    """The fields (newest schema, so fields of any version count as known) of the struct at
    ``mapping_path`` in a ``kind`` object, or None where the schema has no struct there."""
    type_name = struct_at(kind, mapping_path)
    return None if type_name is None else load_schema().types[type_name]


def suggestion(
    kind: str,
    mapping_path: FieldPath,
    key: str,
    value: Any = None,
    version: Version | None = None,
) -> str | None:
    """The field an unknown ``key`` (holding ``value``) of the mapping at ``mapping_path`` most
    likely meant: a field of the target ``version`` (None: of any version) that can hold the
    value, as the unknown-field message says; None for a field of the other kind's spec
    (:func:`misplaced_field`), which is no misspelling."""
    type_name = struct_at(kind, mapping_path)
    if type_name is None or key in load_schema().types[type_name]:
        return None
    if misplaced_field(type_name, key) is not None:
        return None
    schema = load_schema()
    fields = schema.types_at(version).get(type_name) if version else schema.types[type_name]
    return did_you_mean(key, fields, value) if fields is not None else None


def near_miss_key(view: JobView, path: FieldPath) -> str | None:
    """A key beside the (absent) field at ``path`` that looks like a misspelling of it.

    Never on an admission object: the API server decoded it into its Go types first, which keeps
    no unknown key (strict field validation rejects them, the other modes drop them).
    """
    if view.defaulted:
        return None
    obj = view.obj
    mapping: Any = obj
    for seg in path[:-1]:
        if isinstance(mapping, dict) and isinstance(seg, str):
            mapping = mapping.get(seg)
        elif isinstance(mapping, list) and isinstance(seg, int) and 0 <= seg < len(mapping):
            mapping = mapping[seg]
        else:
            return None
    if not isinstance(mapping, dict):
        return None
    wanted = path[-1]
    kind = str(obj.get("kind"))
    fields = known_fields(kind, path[:-1])
    if fields is None:
        return None
    for key in mapping:
        # Known keys first, without a did-you-mean: nearly every mapping has only those.
        if (
            isinstance(key, str)
            and key not in fields
            and key != wanted
            and suggestion(kind, path[:-1], key, mapping[key]) == wanted
        ):
            return key
    return None
