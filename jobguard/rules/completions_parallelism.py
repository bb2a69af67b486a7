"""completions-parallelism: explicit, sane completions and parallelism for the Job's type.

What: the rule first tells which of the four Job types the spec describes (CronJob: the job
template under ``spec.jobTemplate.spec``):

* non-parallel: ``completions`` and ``parallelism`` both unset; one pod, done on its first success;
* fixed completion count: ``completions`` set; done after that many successful pods;
* Indexed: ``completionMode: Indexed``; pods get indexes ``0..completions-1``;
* work queue: ``parallelism`` set, ``completions`` unset; done when any pod succeeds and all
  have stopped (the pods coordinate through a queue).

Then it reports, at ``spec.completions`` / ``spec.parallelism``:

* values the manifest leaves to the API server (with ``require_explicit``): a non-parallel Job
  gets ``completions: 1`` and ``parallelism: 1``; a fixed-count or Indexed Job gets
  ``parallelism: min(completions, default_parallelism)``;
* an Indexed Job without ``completions``: with ``parallelism`` set the API server rejects it
  (``spec.completions: Required value: when completion mode is Indexed``); without, it silently
  runs a single index;
* ``completions`` above ``max_completions``;
* ``parallelism: 0``: the Job is paused, no pod starts until parallelism is raised;
* ``parallelism`` above ``max_parallelism``;
* ``parallelism`` above ``completions``: the controller never runs more pods than completions
  remain, so the excess is ignored and only misleads readers (and quota planning).

Why: the Job type decides when a Job is "done". Leaving the counts to the API server hides that
decision from reviewers, and the API's defaults are not symmetric: it fills in both only when
both are unset, so adding ``parallelism: 3`` to a one-pod Job silently turns it into a work-queue
Job that finishes when the first pod succeeds. A work-queue Job must never get ``completions``:
that would make it a fixed-count Job that waits for N successes the queue will never produce.
Caps stop one Job from flooding the cluster with pods.

Example::

    spec:
      completions: 10
      parallelism: 50            # 40 of these never run: the excess is ignored
      template: ...

Fix: safe fixes, applied by the mutating webhook and ``lint --fix``:

* filling in unset counts: for a non-parallel Job they are exactly what the API server would use;
  for a fixed-count Job ``parallelism`` is the policy's choice (with the default
  ``default_parallelism: 1`` again the API's own value); a work-queue Job is never given
  ``completions`` (none is written beside a misspelling of the field: api-structure offers the
  rename).

Only suggested (unsafe): lowering ``parallelism`` to ``completions`` (the excess was ignored
anyway, but the value is the user's choice and a safe fix never overrides one); lowering ``parallelism`` to ``max_parallelism`` (the Job runs slower and
may hit its deadline). No fix is offered for too many completions, a paused Job or an Indexed Job
without completions: only the owner knows how much work there is.

Admission: the mutating webhook sees the object after the API's defaulting, so a manifest that
left both counts out arrives with ``completions: 1, parallelism: 1``; that is a non-parallel Job
already explicit and produces neither a finding nor a patch. A defaulted ``parallelism: 1``
beside a user's ``completions`` counts as unset, so a ``default_parallelism`` other than 1 applies
in the cluster exactly as in lint (kubectl's last-applied-configuration or a server-side apply
owning the field, when present, tells a written ``parallelism: 1`` apart). The type is read from ``completions`` being present, never
from defaults, so a work-queue Job with ``parallelism: 1`` stays a work-queue Job.

A CronJob's scheduled run (a Job the CronJob controller creates, see ``Subject.scheduled_run``; an
ownerReference alone does not make one) is not judged: its counts are a
copy of the CronJob's job template, which this rule judges (and fills in) on the CronJob, where
the API server does not default them. Denying the copy would only make the CronJob controller
fail to start its runs (a suppression annotation on the CronJob does not reach its Jobs).

Options:
  default_parallelism  parallelism written for fixed-count and Indexed Jobs, capped at
                       completions (default 1, the API's own default)
  max_parallelism      highest parallelism (default null: no cap)
  max_completions      highest completions (default null: no cap)
  require_explicit     report counts left to the API server (default true)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

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
    smaller,
    user_set,
)
from jobguard.rules._defaulting import unset_phrase, wants_policy_default
from jobguard.rules._typos import near_miss_key
from jobguard.rules.base import below_minimum, exceeds

CODE = "JG102"
NAME = "completions-parallelism"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
SUMMARY = "Explicit completions/parallelism for the Job's type, within caps, without ignored excess"
REMEDIATION = (
    "Write completions and parallelism explicitly (non-parallel: 1 and 1; fixed count: "
    "parallelism <= completions; work queue: parallelism only), within the policy's caps."
)


class JobType(str, Enum):
    NON_PARALLEL = "non-parallel"
    FIXED_COUNT = "fixed completion count"
    INDEXED = "Indexed"
    WORK_QUEUE = "work queue"


@dataclass(frozen=True)
class Options:
    default_parallelism: int = 1
    max_parallelism: int | None = None
    max_completions: int | None = None
    require_explicit: bool = True

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        if self.default_parallelism < 1:
            problems.append(("default_parallelism", "must be 1 or more (0 pauses the Job)"))
        problems += below_minimum(
            self, ("max_parallelism", "max_completions"), 1, "must be 1 or more, or null for no cap"
        )
        if problems:
            return problems  # compare the options only once each is valid on its own
        return exceeds(
            "default_parallelism", self.default_parallelism, "max_parallelism", self.max_parallelism
        )


def job_type(view: JobView) -> JobType:
    """The Job's type, read from what is present (a defaulted ``parallelism`` alone never makes
    a Job non-parallel, and a defaulted ``completions`` is only there when both were unset)."""
    if view.get("completionMode") == "Indexed":
        return JobType.INDEXED
    if view.has("completions"):
        return JobType.FIXED_COUNT
    if view.has("parallelism"):
        return JobType.WORK_QUEUE
    return JobType.NON_PARALLEL


def _set(view: JobView, field: str, value: int, *, safe: bool) -> Fix:
    return Fix(f"set {field}: {value}", (SetValue(view.at(field), value),), safe=safe)


def _completions_findings(view: JobView, kind: JobType, options: Options) -> Iterator[Violation]:
    path = view.at("completions")
    completions = view.get_int("completions")
    if kind is JobType.INDEXED and not view.has("completions"):
        if view.has("parallelism"):
            message = (
                "an Indexed Job with parallelism needs completions (the number of indexes); "
                "the API server rejects it without"
            )
        else:
            message = (
                "an Indexed Job without completions runs a single index (the API server "
                "defaults completions to 1); set the number of indexes"
            )
        yield Violation(path, message)
    elif (
        kind is JobType.NON_PARALLEL
        and options.require_explicit
        and near_miss_key(view, path) is None
    ):
        yield Violation(
            path,
            "completions is not set: a non-parallel Job (one pod, done on its first success); "
            "write completions: 1",
            _set(view, "completions", 1, safe=True),
        )
    if (
        completions is not None
        and options.max_completions is not None
        and completions > options.max_completions
    ):
        yield Violation(
            path,
            f"completions {completions} is above the policy's maximum {options.max_completions}; "
            "split the work over several Jobs",
        )


def _parallelism_findings(view: JobView, kind: JobType, options: Options) -> Iterator[Violation]:
    path = view.at("parallelism")
    completions = view.get_int("completions")
    parallelism = view.get_int("parallelism")
    if kind is JobType.NON_PARALLEL:
        if options.require_explicit and near_miss_key(view, path) is None:
            yield Violation(
                path,
                "parallelism is not set: a non-parallel Job runs one pod; write parallelism: 1",
                _set(view, "parallelism", 1, safe=True),
            )
        return
    if kind is not JobType.WORK_QUEUE and completions is not None and completions >= 1:
        # A Job of 0 completions is done at once: no parallelism to choose.
        target = min(completions, options.default_parallelism)
        if options.require_explicit and wants_policy_default(view, ("parallelism",), target):
            yield Violation(
                path,
                f"{unset_phrase(view, ('parallelism',))}; the policy runs {target} of the "
                f"{completions} completions at a time",
                _set(view, "parallelism", target, safe=True),
            )
            return
    if parallelism is None or parallelism < 0:
        return  # absent, a type error or negative: the API rules report those
    if parallelism == 0:
        yield Violation(
            path,
            "parallelism is 0: the Job is paused and starts no pod until it is raised "
            "(suspend: true says so explicitly)",
        )
        return
    cap = options.max_parallelism
    # The completions the controller counts to (a work-queue Job has none; 0 completes at once).
    counted = None
    if kind is not JobType.WORK_QUEUE and completions is not None and completions >= 1:
        counted = completions
    if cap is not None and parallelism > cap and (counted is None or counted > cap):
        yield Violation(
            path,
            f"parallelism {parallelism} is above the policy's maximum {cap}",
            _set(view, "parallelism", cap, safe=False),
        )
    elif counted is not None and parallelism > counted:
        # Also resolves a parallelism above the cap: counted is within it here.
        yield Violation(
            path,
            f"parallelism {parallelism} is above completions {counted}; the controller "
            f"never runs more than {counted} pods at once, the excess is ignored",
            # Unsafe although the controller ignores the excess: the value is the user's choice.
            _set(view, "parallelism", counted, safe=False),
        )


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    if subject.scheduled_run:
        return  # a copy of the CronJob's template, judged on the CronJob
    kind = job_type(view)
    yield from _completions_findings(view, kind, options)
    yield from _parallelism_findings(view, kind, options)


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    checks, defaults = [], []
    for kind in JOB_FORMS:
        guard = not_scheduled_run(kind, ctx)
        c, p = "$s.completions", "$s.parallelism"
        has_c, has_p = has("completions"), has("parallelism")
        indexed = f"({has('completionMode')} && $s.completionMode == 'Indexed')"
        np = f"(!{indexed} && !{has_c} && !{has_p})"
        wq = f"(!{indexed} && !{has_c} && {has_p})"
        counted = f"(!{wq} && {has_c} && {c} >= 1)"
        cap = o.max_parallelism
        over_cap = f"({has_p} && {p} > {cap} && (!{counted} || {c} > {cap}))" if cap else ""

        def add(
            rel: str, cond: str, text: str, detail: str | None = None, kind: str = kind
        ) -> None:
            checks.append(
                CelCheck(
                    kind,
                    path(kind, rel),
                    all_of([not_scheduled_run(kind, ctx), cond]),
                    text,
                    detail,
                )
            )

        add(
            "completions",
            f"({indexed} && !{has_c})",
            "an Indexed Job needs completions (the number of indexes)",
        )
        if o.require_explicit:
            add(
                "completions",
                np,
                "completions is not set: a non-parallel Job (one pod, done on its first "
                "success); write completions: 1",
            )
        if o.max_completions is not None:
            add(
                "completions",
                f"({has_c} && {c} > {o.max_completions})",
                f"completions is above the policy's maximum {o.max_completions}",
                f"'completions ' + string({c}) + ' is above the policy\\'s maximum "
                f"{o.max_completions}; split the work over several Jobs'",
            )
        unset_explicit = ""
        if o.require_explicit:
            add(
                "parallelism",
                np,
                "parallelism is not set: a non-parallel Job runs one pod; write parallelism: 1",
            )
            unset_explicit = f"(!{np} && !{wq} && {has_c} && {c} >= 1 && !{has_p})"
            add(
                "parallelism",
                unset_explicit,
                "parallelism is not set; the policy runs "
                f"min(completions, {o.default_parallelism}) completions at a time",
            )
        rest = all_of([f"!{np}", f"!{unset_explicit}" if unset_explicit else "", has_p])
        add(
            "parallelism",
            f"({rest} && {p} == 0)",
            "parallelism is 0: the Job is paused and starts no pod until it is raised",
        )
        if cap:
            add(
                "parallelism",
                f"({rest} && {over_cap})",
                f"parallelism is above the policy's maximum {cap}",
                f"'parallelism ' + string({p}) + ' is above the policy\\'s maximum {cap}'",
            )
        excess = all_of([rest, counted, f"{p} > {c}", f"!{over_cap}" if over_cap else ""])
        add(
            "parallelism",
            excess,
            "parallelism is above completions; the excess is ignored",
            f"'parallelism ' + string({p}) + ' is above completions ' + string({c}) + "
            "'; the controller never runs more pods at once, the excess is ignored'",
        )
        # /mutate, on the defaulted object (a Job's parallelism 1 and completions 1 may be the
        # API's; a CronJob's template is not defaulted).
        m_par_set = user_set(kind, "parallelism", ctx.version)
        m_np = np
        if o.require_explicit:
            defaults.append(
                CelDefault(kind, pointer(kind, "completions"), all_of([guard, m_np]), "1")
            )
            defaults.append(
                CelDefault(kind, pointer(kind, "parallelism"), all_of([guard, m_np]), "1")
            )
            target = smaller(c, str(o.default_parallelism))
            wants = f"(!{m_par_set} && (!{has_p} || {p} != {target}))"
            fill = all_of([guard, f"!{m_np}", f"!{wq}", has_c, f"{c} >= 1", wants])
            defaults.append(CelDefault(kind, pointer(kind, "parallelism"), fill, target))
        # Lowering parallelism to completions overrides the user's value: a suggestion only,
        # so no mutation (the engine's fix is unsafe).
    return Translation(tuple(checks), tuple(defaults))
