"""suppression: per-object suppressions must name a real rule and give a reason.

What: an annotation ``suppress.jobguard.dev/<rule>: "<reason>"`` on the Job or CronJob silences
that rule for this object, where the policy lets the object do so. This rule checks the
annotations themselves: the rule name must exist, the reason must not be empty, and the rule
must be one an object may suppress. Exceptions need permission: by default no rule whose action
is ``deny`` may be suppressed by the object itself (a policy lists the ones it allows in
``suppressions.suppressible``); restart-policy, manual-selector and the ``api-*`` rules never
may; ``suppressions.forbid`` takes others away; ``suppressions.allowed: false`` ignores every
annotation. ``jobguard lint`` reports an ignored suppression here, so the author learns it
before the cluster refuses the object.

Why: suppressions are how teams take a reviewed exception without turning a rule off for
everyone. An unexplained suppression is an exception nobody can review later; a misspelled rule
name silences nothing while looking like it does. An object that could lift its own denial
would make the denial advisory: whoever writes the object writes the annotation. Exceptions to
a denial go into the policy file's ``exemptions``, which only those who may change the policy
can write.

Example::

    metadata:
      annotations:
        suppress.jobguard.dev/ttl-after-finished: "kept for the audit trail, cleaned by reaper"

Fix: correct the rule name (see ``jobguard rules``), write a reason, or remove the annotation
(for a rule the object may not suppress, ask for an exemption in the policy).
A suppression of itself (``suppress.jobguard.dev/suppression``) is ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from jobguard.core.model import Action, Category, Violation
from jobguard.core.paths import Key
from jobguard.core.subject import Subject
from jobguard.core.suppressions import SUPPRESS_PREFIX, suppressions
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    JOB_FORMS,
    CelCheck,
    CelContext,
    Translation,
    lit,
    present,
)
from jobguard.rules.base import NoOptions

CODE = "JG100"
NAME = "suppression"
CATEGORY = Category.POLICY
FIXES = False  # reports only: the mutating webhook skips it
SUPPRESSIBLE = False  # an object must not silence the check of its own suppressions
DEFAULT_ACTION = Action.WARN
SUMMARY = "Suppression annotations must name a known rule, give a reason, and be allowed by policy"
REMEDIATION = (
    "Fix the rule name in the suppress.jobguard.dev/<rule> annotation, add a reason, or remove it."
)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    for rule, reason in sorted(suppressions(view).items()):
        path = ("metadata", "annotations", Key(SUPPRESS_PREFIX + rule))
        if rule not in subject.known_rules:
            close = difflib.get_close_matches(rule, sorted(subject.known_rules), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            yield Violation(
                path, f"suppression names unknown rule {rule!r}{hint}; it silences nothing"
            )
        elif rule in subject.refused_suppressions:
            why = subject.refused_suppressions[rule]
            yield Violation(path, f"the suppression of {rule!r} is ignored: {why}")
        elif not reason.strip():
            yield Violation(
                path, f"suppression of {rule!r} gives no reason; it is ignored until it does"
            )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Any, ctx: CelContext) -> Translation:
    annotations = "$o.metadata.annotations"
    known = [SUPPRESS_PREFIX + name for name in ctx.known_rules]
    forbidden = [SUPPRESS_PREFIX + name for name in ctx.unsuppressible if name in ctx.known_rules]
    where = "metadata.annotations[" + SUPPRESS_PREFIX + "*]"
    present_ = present(annotations)

    def keys(cond: str) -> str:
        return f"{annotations}.filter(k, {cond}).join(', ')"

    unknown = f"k.startsWith({lit(SUPPRESS_PREFIX)}) && !(k in {lit(known)})"
    no_reason = f"k in {lit(known)} && !(k in {lit(forbidden)}) && {annotations}[k].trim() == ''"
    checks = []
    for kind in JOB_FORMS:
        checks.append(
            CelCheck(
                kind,
                where,
                f"({present_} && {annotations}.exists(k, {unknown}))",
                "suppression names an unknown rule; it silences nothing",
                f"'suppressions naming unknown rules, silencing nothing: ' + {keys(unknown)}",
            )
        )
        if forbidden:
            cond = f"k in {lit(forbidden)}"
            checks.append(
                CelCheck(
                    kind,
                    where,
                    f"({present_} && {annotations}.exists(k, {cond}))",
                    "the policy forbids this suppression; it is ignored",
                    f"'suppressions the policy forbids, ignored: ' + {keys(cond)}",
                )
            )
        checks.append(
            CelCheck(
                kind,
                where,
                f"({present_} && {annotations}.exists(k, {no_reason}))",
                "suppression gives no reason; it is ignored until it does",
                f"'suppressions without a reason, ignored: ' + {keys(no_reason)}",
            )
        )
    return Translation(tuple(checks))
