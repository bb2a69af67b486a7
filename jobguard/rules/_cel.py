"""The CEL source text the rules' translations are written in: the types a translation returns
and the small builders they share (literals, presence chains, globs as RE2 patterns).

Each policy rule's module keeps its own translation (a ``cel(options, context)`` function,
read into :class:`jobguard.rules.base.RuleSpec`); ``jobguard export`` turns them into native
admission objects. Options are baked into the expressions as literals (no ``paramKind``): the
exported objects then say everything on their own, and a policy change is a new export.

Expressions are templates over placeholders so one template serves ``object`` and ``oldObject``
and both Job forms: ``$o`` is the object, ``$s`` the Job spec (``$o.spec`` for a Job,
``$o.spec.jobTemplate.spec`` for a CronJob) and ``$c`` the CronJob spec; the export binds them
(:func:`jobguard.export.cel.bind`). The validating side reads the object as ``jobguard lint``
reads a manifest (``/validate`` does the same); the mutating side reads it as ``/mutate`` does,
after the API server's defaulting, where a field holding exactly the API default counts as unset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jobguard.core.kubernetes.defaults import api_default, cronjob_api_default
from jobguard.core.kubernetes.versions import Version

JOB_FORMS = ("Job", "CronJob")  # the two forms a Job spec comes in
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


@dataclass(frozen=True)
class CelCheck:
    """One validation: ``violated`` is true when the rule reports a finding at ``path``."""

    kind: str
    path: str  # the field path as findings spell it; ``[*]`` stands for any list index
    violated: str
    text: str  # the static message
    detail: str | None = None  # a CEL string expression for the message, naming values


@dataclass(frozen=True)
class CelDefault:
    """One safe fix /mutate applies: set ``pointer`` to ``value`` when ``when`` holds."""

    kind: str
    pointer: str
    when: str
    value: str


@dataclass(frozen=True)
class Translation:
    """What ``jobguard export`` makes of one rule under the policy's options."""

    checks: tuple[CelCheck, ...] = ()
    defaults: tuple[CelDefault, ...] = ()
    gaps: tuple[str, ...] = ()  # what the rule checks that stays with the webhook


@dataclass(frozen=True)
class CelContext:
    """What a translation may read beyond the rule's own options (the same for every rule)."""

    version: Version
    known_rules: tuple[str, ...]
    #: The rules the object's own annotation may not silence here (the policy's decision,
    #: :meth:`jobguard.policy.model.Policy.annotation_refusal`).
    unsuppressible: tuple[str, ...]
    #: Who the CronJob controller acts as (the policy's ``trust.cronjob_controllers``).
    controllers: tuple[str, ...] = ()


# -- shared pieces of the rules' translations -------------------------------------------------


def path(kind: str, relative: str) -> str:
    return f"{PATH_PREFIXES[kind]}.{relative}"


def pointer(kind: str, relative: str) -> str:
    return f"{POINTER_PREFIXES[kind]}/{relative.replace('.', '/')}"


def has(relative: str) -> str:
    """The Job-spec field is present (every parent too)."""
    return present(f"$s.{relative}")


def has_c(relative: str) -> str:
    return present(f"$c.{relative}")


def scheduled_run(controllers: tuple[str, ...]) -> str:
    """:attr:`jobguard.core.subject.Subject.scheduled_run` in CEL: a Job created by one of the
    CronJob controller's identities (``request.userInfo.username``) AND controlled by a CronJob
    (its ownerReference with ``controller: true``). The ownerReference alone is written by
    whoever creates the Job, so it decides nothing by itself."""
    return (
        "(request.operation == 'CREATE' && $o.kind == 'Job' && "
        f"request.userInfo.username in {lit(sorted(controllers))} && "
        "has($o.metadata.ownerReferences) && $o.metadata.ownerReferences.exists(r, "
        "has(r.controller) && r.controller && r.kind == 'CronJob' && "
        "r.apiVersion.startsWith('batch/')))"
    )


def not_scheduled_run(kind: str, ctx: CelContext) -> str:
    """Skip a CronJob's scheduled runs: judged through their CronJob (CronJobs have none)."""
    return f"!{scheduled_run(ctx.controllers)}" if kind == "Job" else ""


def user_set(kind: str, relative: str, version: Version) -> str:
    """``JobView.user_set`` on a defaulted object without kubectl's record: present and not the
    API default (a default that depends on other fields is not expressed: none of the fields
    asked about has one)."""
    default = api_default(tuple(relative.split(".")), cronjob=kind == "CronJob", version=version)
    if default is None:
        return has(relative)
    return f"({has(relative)} && $s.{relative} != {lit(default)})"


def cronjob_user_set(relative: str, version: Version) -> str:
    """``JobView.cronjob_user_set`` as :func:`user_set` reads it, for a CronJob spec field."""
    default = cronjob_api_default(tuple(relative.split(".")), version=version)
    if default is None:
        return has_c(relative)
    return f"({has_c(relative)} && $c.{relative} != {lit(default)})"


def smaller(a: str, b: str) -> str:
    return f"({a} < {b} ? {a} : {b})"


#: A rule's translation: its options and the export's context to CEL checks and defaults.
Translate = Callable[[Any, CelContext], Translation]
