"""Small builders for CEL source text: literals, presence chains, globs as RE2 patterns.

Expressions are written against placeholders so one template serves ``object`` and
``oldObject`` and both Job forms: ``$o`` is the object, ``$s`` the Job spec (``$o.spec`` for a
Job, ``$o.spec.jobTemplate.spec`` for a CronJob) and ``$c`` the CronJob spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

# A placeholder is $ and one letter ending a word (a regex's "$" anchor never is).
_PLACEHOLDER = re.compile(r"\$([osc])\b")

SPEC_ROOTS = {"Job": "$o.spec", "CronJob": "$o.spec.jobTemplate.spec"}
PATH_PREFIXES = {"Job": "spec", "CronJob": "spec.jobTemplate.spec"}
POINTER_PREFIXES = {"Job": "/spec", "CronJob": "/spec/jobTemplate/spec"}


def lit(value: Any) -> str:
    """A CEL literal for a JSON-like value (JSON string escapes are valid CEL escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    raise TypeError(f"no CEL literal for {type(value).__name__}")


def present(path: str) -> str:
    """``has()`` for every step of a dotted path below its root (``$o``): a missing parent makes
    a plain ``has(a.b.c)`` an error rather than false."""
    root, *steps = path.split(".")
    checks = []
    for i in range(1, len(steps) + 1):
        checks.append(f"has({'.'.join([root, *steps[:i]])})")
    return "(" + " && ".join(checks) + ")"


def all_of(parts: Iterable[str]) -> str:
    items = [p for p in parts if p]
    if not items:
        return "true"
    return items[0] if len(items) == 1 else "(" + " && ".join(items) + ")"


def any_of(parts: Iterable[str]) -> str:
    items = [p for p in parts if p]
    if not items:
        return "false"
    return items[0] if len(items) == 1 else "(" + " || ".join(items) + ")"


def bind(template: str, kind: str, root: str = "object") -> str:
    """The expression for one Job form and one root (``object`` or ``oldObject``)."""
    spec = SPEC_ROOTS[kind].replace("$o", root)
    roots = {"o": root, "s": spec, "c": f"{root}.spec"}
    return _PLACEHOLDER.sub(lambda m: roots[m.group(1)], template)


def glob_regex(pattern: str) -> str:
    """An anchored RE2 pattern matching what ``fnmatch.fnmatchcase`` matches for ``pattern``."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1 if i < len(pattern) and pattern[i] in "!]" else i)
            if end < 0:
                out.append("\\[")
                continue
            body = pattern[i:end]
            i = end + 1
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = body.replace("\\", "\\\\").replace("[", "\\[").replace("^", "\\^")
            out.append("[" + ("^" if negate else "") + escaped + "]")
        else:
            out.append(_escape(ch))
    out.append("$")
    return "".join(out)


def _escape(ch: str) -> str:
    return "\\" + ch if ch in ".^$|()[]{}*+?\\" else ch


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def matches_any(value: str, patterns: Sequence[str]) -> str:
    """CEL: ``value`` matches one of the shell-style globs."""
    exact = sorted(p for p in patterns if not is_glob(p))
    parts = [f"{value} in {lit(exact)}"] if exact else []
    parts += [f"{value}.matches({lit(glob_regex(p))})" for p in sorted(set(patterns) - set(exact))]
    return any_of(parts)
