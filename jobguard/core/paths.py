"""Field paths: one value, two spellings.

Inside jobguard a path is a tuple of segments. A ``str`` is a struct field, an ``int`` a list
index and a :class:`Key` an entry of a string map (labels, annotations, matchLabels...). The
Kubernetes API server spells paths as ``spec.template.metadata.labels[controller-uid]`` and
``spec.template.spec.containers[0].image``; JSON Patch wants RFC 6901 pointers. Keeping the
segment kinds apart is what lets both spellings come out right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Key:
    """A key of a string map, rendered ``[key]`` in a field path."""

    name: str


Segment: TypeAlias = "str | int | Key"
FieldPath: TypeAlias = "tuple[str | int | Key, ...]"


def field_path(path: FieldPath) -> str:
    """Render a path the way the API server reports it (``a.b[0].c[key]``)."""
    out: list[str] = []
    for seg in path:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif isinstance(seg, Key):
            out.append(f"[{seg.name}]")
        else:
            out.append(f".{seg}" if out else seg)
    return "".join(out)


def json_pointer(path: FieldPath) -> str:
    """Render a path as an RFC 6901 JSON pointer (``/a/b/0/c``)."""
    parts = []
    for seg in path:
        raw = seg.name if isinstance(seg, Key) else str(seg)
        parts.append(raw.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts) if parts else ""


def segment_name(seg: Segment) -> str | int:
    """The raw key or index a segment addresses in the decoded document."""
    return seg.name if isinstance(seg, Key) else seg


_MISSING = object()


def lookup(doc: Any, path: FieldPath) -> Any:
    """Return the value at ``path`` or :data:`MISSING` when any step is absent or mistyped."""
    cur = doc
    for seg in path:
        # Inlined segment_name and one dict probe: every rule calls this many times per object.
        raw = seg.name if type(seg) is Key else seg
        if isinstance(raw, int):
            if not isinstance(cur, list) or not -len(cur) <= raw < len(cur):
                return _MISSING
            cur = cur[raw]
        elif isinstance(cur, dict):
            cur = cur.get(raw, _MISSING)
            if cur is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return cur


MISSING: Any = _MISSING
