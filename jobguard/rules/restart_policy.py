"""restart-policy: a Job's pods must use an allowed restartPolicy.

What: ``spec.template.spec.restartPolicy`` (CronJob: ``spec.jobTemplate.spec.template.spec.
restartPolicy``) must be one of the policy's ``allowed`` values, a subset of Never and OnFailure.

Why: the API server defaults an omitted restartPolicy to ``Always`` and then rejects the Job
(``Required value: valid values: "OnFailure", "Never"``): the most common first-Job mistake.
Beyond validity, teams choose: ``Never`` keeps every failed attempt's pod and logs for debugging
and counts failures per pod; ``OnFailure`` restarts containers in place, which hides logs of
earlier attempts and counts failures against ``backoffLimit`` differently. With a
``podFailurePolicy`` only ``Never`` is valid.

Example::

    spec:
      template:
        spec:
          containers: [...]        # no restartPolicy: rejected by the API server

Fix: set the policy's ``default`` (a safe fix: the webhook applies it on CREATE, rescuing the
Job, and ``lint --fix`` writes it). Not beside a misspelt key (``restartpolicy: Never``): the
rename api-structure suggests is the fix there. A value the API accepts but the policy does not allow gets an
unsafe fix only, because changing it changes how failures are retried.

Admission: the mutating webhook sees ``Always`` where the manifest omitted the field; both are
treated as "not set".

Output: where the API server rejects the value too (omitted, ``Always``, unknown), this rule's
denial is the one finding reported for it, with category ``api`` (what the server rejects) and
standing for ``api-restart-policy`` (``--select``/``--ignore`` know it by either name). A value
the server accepts but the policy does not allow is category ``policy``.

Options:
  allowed  restart policies accepted (default ``[Never, OnFailure]``)
  default  value set by the fix (default ``Never``); must be in ``allowed``
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from jobguard.core.model import Category, Fix, SetValue, Violation
from jobguard.core.paths import MISSING
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    JOB_FORMS,
    CelCheck,
    CelContext,
    CelDefault,
    Translation,
    has,
    lit,
    path,
    pointer,
)
from jobguard.rules._typos import near_miss_key

CODE = "JG101"
NAME = "restart-policy"
CATEGORY = Category.POLICY
# Never silenced by the object itself: an exemption in the policy file lifts it.
SUPPRESSIBLE = False
# A denied missing or disallowed restartPolicy is also what api-restart-policy reports there;
# this rule's finding carries the fix, so the API one is dropped (and kept when this one is off
# or only warns, since the API server would still reject the Job).
SUBSUMES = ("api-restart-policy",)
SUMMARY = "Pod template restartPolicy must be Never or OnFailure (policy may narrow)"
REMEDIATION = (
    "Set spec.template.spec.restartPolicy to Never (or OnFailure if the policy allows it)."
)

JOB_RESTART_POLICIES = ("Never", "OnFailure")


@dataclass(frozen=True)
class Options:
    allowed: tuple[Literal["Never", "OnFailure"], ...] = ("Never", "OnFailure")
    default: Literal["Never", "OnFailure"] = "Never"

    def validate(self) -> list[tuple[str, str]]:
        if not self.allowed:
            return [("allowed", "must name at least one restart policy")]
        if self.default not in self.allowed:
            return [("default", f"{self.default!r} is not in allowed {list(self.allowed)}")]
        return []


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    path = view.at("template", "spec", "restartPolicy")
    value = view.get("template", "spec", "restartPolicy")
    if value is not MISSING and value is not None and not isinstance(value, str):
        return  # a type error, reported by the structure rules
    needs_never = view.has("podFailurePolicy")
    target = "Never" if needs_never and "Never" in options.allowed else options.default
    fix = Fix(f"set restartPolicy: {target}", (SetValue(path, target),), safe=True)
    if not view.user_set("template", "spec", "restartPolicy") or value in ("Always", ""):
        user_set = view.user_set("template", "spec", "restartPolicy")
        shown = f"{value!r}" if user_set else "not set"
        typo = None if user_set else near_miss_key(view, path)
        if typo is not None:
            # Written beside the misspelling, the default would leave both keys in the file and
            # win over the value the user meant: the rename (api-structure) is the fix.
            yield Violation(
                path,
                f"restartPolicy is not set; {typo!r} beside it looks like a misspelling of it "
                "(see the rename suggested for it)",
            )
            return
        yield Violation(
            path, f"restartPolicy is {shown}; Jobs must use {' or '.join(options.allowed)}", fix
        )
        return
    if value not in options.allowed:
        # Never <-> OnFailure changes how retries behave: suggest, do not apply.
        unsafe = Fix(fix.title, fix.edits, safe=False) if value in JOB_RESTART_POLICIES else fix
        yield Violation(
            path,
            f"restartPolicy {value!r} is not allowed by policy; use {' or '.join(options.allowed)}",
            unsafe,
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    checks, defaults = [], []
    allowed = list(o.allowed)
    target = lit(o.default)
    if "Never" in allowed and o.default != "Never":
        target = f"({has('podFailurePolicy')} ? 'Never' : {target})"
    rp = "$s.template.spec.restartPolicy"
    for kind in JOB_FORMS:
        checks.append(
            CelCheck(
                kind,
                path(kind, "template.spec.restartPolicy"),
                f"(!{has('template.spec.restartPolicy')} || !({rp} in {lit(allowed)}))",
                f"restartPolicy is not allowed; Jobs must use {' or '.join(allowed)}",
                f"({has('template.spec.restartPolicy')} && {rp} != 'Always' && {rp} != ''"
                f" ? 'restartPolicy ' + {rp} + ' is not allowed by policy; use "
                f"{' or '.join(allowed)}' : 'restartPolicy is not set; Jobs must use "
                f"{' or '.join(allowed)}')",
            )
        )
        # Safe unless it swaps one valid policy for the other (that changes retries).
        defaults.append(
            CelDefault(
                kind,
                pointer(kind, "template.spec.restartPolicy"),
                f"({has('template.spec')} && (!{has('template.spec.restartPolicy')} || "
                f"!({rp} in ['Never', 'OnFailure'])))",
                target,
            )
        )
    return Translation(tuple(checks), tuple(defaults))
