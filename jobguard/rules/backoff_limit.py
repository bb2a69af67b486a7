"""backoff-limit: a Job states how often it retries, within the policy's maximum.

What: ``spec.backoffLimit`` (CronJob: ``spec.jobTemplate.spec.backoffLimit``) is reported when
it is not set (the policy's ``default`` is written) and when it is above ``max``. A Job with
``backoffLimitPerIndex`` is never given a ``backoffLimit``: the limit per index is the retry
policy there. The whole-Job limit still counts the failed pods of all indexes together, which is
why the API server defaults it to 2147483647 (MaxInt32) for such Jobs instead of 6; writing the
usual default on top would fail the whole Job after 7 failures anywhere and defeat the per-index
limits. An explicit ``backoffLimit`` beside it is still held to ``max``.

Why: the API server's default is 6 retries, with an exponential back-off of 10 s, 20 s, 40 s...
capped at 6 minutes: about 10 minutes of back-off before a broken Job is declared failed, and 7
pods' worth of load on whatever the Job talks to. Whether that is right is a policy decision that
should be visible in the manifest. A very high limit makes a Job that always fails look "still
running" for hours (each retry past the 6th waits the full 6 minutes) and keeps hammering its
dependencies.

Example::

    spec:
      backoffLimit: 100            # hours of retries before anyone notices
      template: ...

Fix: setting the policy's ``default`` where the field is unset is safe (applied by the mutating
webhook and ``lint --fix``): the manifest said nothing, and the policy's default is the
organisation's choice for exactly that case. Lowering an explicit value to ``max`` is only
suggested (unsafe): fewer retries can make a flaky but working Job fail.

Admission: the mutating webhook sees ``backoffLimit: 6`` where the manifest left it out. On a
defaulted object 6 counts as unset (unless the user's manifest shows it: kubectl's
last-applied-configuration or a server-side apply owning the field, ``Subject.user_set``), so the policy's default replaces it; with a ``default`` of 6 nothing is patched. With
``backoffLimitPerIndex`` the defaulted MaxInt32 likewise counts as unset and is left alone, and it
is never held to ``max`` (the validating webhook reads the stored object like a manifest and would
otherwise deny every such Job).

A CronJob's scheduled run (a Job the CronJob controller creates, see ``Subject.scheduled_run``; an
ownerReference alone does not make one) is not judged: it is a copy of the
CronJob's job template, which this rule judges (and gives the policy's default) on the CronJob.
The copy's ``backoffLimit: 6`` may be the template's own explicit value, and denying the copy
would only make the CronJob controller fail to start its runs (a suppression annotation on the
CronJob does not reach the Jobs it creates).

Options:
  default  backoffLimit written where unset (default 6, the API's own value; null: leave unset
           unless the API default would exceed ``max``, then ``max`` is written)
  max      highest backoffLimit (default null: no maximum)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jobguard.core.kubernetes.defaults import BACKOFF_LIMIT_DEFAULT, BACKOFF_LIMIT_WITH_PER_INDEX
from jobguard.core.model import Action, Category, Fix, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    JOB_FORMS,
    CelCheck,
    CelContext,
    CelDefault,
    Translation,
    all_of,
    has,
    not_scheduled_run,
    path,
    pointer,
)
from jobguard.rules._defaulting import unset_phrase, wants_policy_default
from jobguard.rules.base import below_minimum, exceeds

CODE = "JG103"
NAME = "backoff-limit"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
SUMMARY = "backoffLimit is set (policy default) and within the policy's maximum"
REMEDIATION = (
    "Set spec.backoffLimit to the number of retries the Job really needs (the policy's default "
    "when unsure), at most the policy's maximum; leave it out when backoffLimitPerIndex is set."
)


@dataclass(frozen=True)
class Options:
    default: int | None = BACKOFF_LIMIT_DEFAULT
    max: int | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems = below_minimum(self, ("default", "max"), 0, "must be 0 or more")
        if problems:
            return problems  # compare the options only once each is valid on its own
        return exceeds("default", self.default, "max", self.max)

    @property
    def value_for_unset(self) -> int | None:
        """What an unset backoffLimit becomes: the policy default, else the API default capped
        at ``max`` (None: the API default is acceptable, leave the field alone)."""
        if self.default is not None:
            return self.default
        if self.max is not None and self.max < BACKOFF_LIMIT_DEFAULT:
            return self.max
        return None


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    if subject.scheduled_run:
        return  # a copy of the CronJob's template, judged on the CronJob
    path = view.at("backoffLimit")
    if view.has("backoffLimitPerIndex") and not view.user_set("backoffLimit"):
        return  # the per-index limit governs; see the docstring for why nothing is added
    target = options.value_for_unset
    if target is not None and wants_policy_default(view, ("backoffLimit",), target):
        why = "the policy's default" if options.default is not None else "the policy's maximum"
        yield Violation(
            path,
            f"{unset_phrase(view, ('backoffLimit',))}; {why} is {target} retries",
            Fix(f"set backoffLimit: {target}", (SetValue(path, target),), safe=True),
        )
        return
    value = view.get_int("backoffLimit")
    if value == BACKOFF_LIMIT_WITH_PER_INDEX and view.has("backoffLimitPerIndex"):
        # The API's own default beside a per-index limit. The validating webhook sees the stored
        # object as a plain manifest, where this looks user-set: it must not be denied there.
        return
    if (
        value is not None
        and options.max is not None
        and view.user_set("backoffLimit")
        and value > options.max
    ):
        yield Violation(
            path,
            f"backoffLimit {value} is above the policy's maximum {options.max}",
            Fix(f"set backoffLimit: {options.max}", (SetValue(path, options.max),), safe=False),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    checks, defaults = [], []
    target = o.value_for_unset
    for kind in JOB_FORMS:
        guard = not_scheduled_run(kind, ctx)
        has_bl, has_pi, bl = has("backoffLimit"), has("backoffLimitPerIndex"), "$s.backoffLimit"
        if target is not None:
            checks.append(
                CelCheck(
                    kind,
                    path(kind, "backoffLimit"),
                    all_of([guard, f"!{has_bl}", f"!{has_pi}"]),
                    f"backoffLimit is not set; the policy's default is {target} retries",
                )
            )
            per_index_default = (
                None
                if kind == "CronJob"
                else f"({has_pi} ? {BACKOFF_LIMIT_WITH_PER_INDEX} : {BACKOFF_LIMIT_DEFAULT})"
            )
            if per_index_default is None:
                set_by_user = has_bl
            else:
                set_by_user = f"({has_bl} && {bl} != {per_index_default})"
            defaults.append(
                CelDefault(
                    kind,
                    pointer(kind, "backoffLimit"),
                    all_of(
                        [guard, f"!{has_pi}", f"!{set_by_user}", f"(!{has_bl} || {bl} != {target})"]
                    ),
                    str(target),
                )
            )
        if o.max is not None:
            api_own = f"({bl} == {BACKOFF_LIMIT_WITH_PER_INDEX} && {has_pi})"
            checks.append(
                CelCheck(
                    kind,
                    path(kind, "backoffLimit"),
                    all_of([guard, has_bl, f"!{api_own}", f"{bl} > {o.max}"]),
                    f"backoffLimit is above the policy's maximum {o.max}",
                    f"'backoffLimit ' + string({bl}) + ' is above the policy\\'s maximum {o.max}'",
                )
            )
    return Translation(tuple(checks), tuple(defaults))
