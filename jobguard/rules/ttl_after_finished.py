"""ttl-after-finished: finished Jobs are cleaned up after a bounded time.

What: ``spec.ttlSecondsAfterFinished`` (CronJob: ``spec.jobTemplate.spec.ttlSecondsAfterFinished``)
is reported when it is not set (the policy's ``default`` is written), below ``min`` or above
``max``.

CronJobs are a policy choice (option ``cronjobs``). With ``skip`` (the default) a CronJob's job
template is not given the default and a CronJob's scheduled run (created by the CronJob controller,
see ``Subject.scheduled_run``) is not judged at all: the CronJob controller already deletes its
finished Jobs, keeping the newest ``successfulJobsHistoryLimit`` (3) and ``failedJobsHistoryLimit``
(1). A TTL would fight those limits: it deletes the failed Job the history was meant to keep for
debugging, often before anyone looked. An explicit TTL in a CronJob template is still held to
``min`` and ``max``. With ``default`` CronJob templates and CronJob-created Jobs are treated like
any other Job.

Helm and Argo CD hook Jobs whose delete policy already deletes them (``helm.sh/hook-delete-policy``:
``before-hook-creation``, ``hook-succeeded`` or ``hook-failed``; ``argocd.argoproj.io/hook-delete-policy``:
``BeforeHookCreation``, ``HookSucceeded`` or ``HookFailed``; Argo CD honours Helm's annotations too)
are not given a default: the release tool removes them.

Why: without a TTL a finished Job and its pods stay forever. They pile up in etcd, in every
``kubectl get pods``, in the Job controller's and every informer's cache, and keep their
volumes. A TTL too short (``0`` deletes the Job the moment it finishes) loses the logs, events and
exit status of a failed run before anyone or any alert has read them.

Example::

    spec:
      ttlSecondsAfterFinished: 0     # a failure vanishes with its logs
      template: ...

Fix: safe fixes (applied by the mutating webhook and ``lint --fix``): writing the policy's
``default`` where the manifest has none (the Job runs exactly as before; only how long its record
is kept changes, which is what the policy decides). A TTL the user wrote is never changed
silently: raising it to ``min`` and lowering it to ``max`` are only suggested (unsafe); the owner
may rely on the record for longer, and the TTL controller deletes the Job as soon as a lowered
value has passed.

Admission: the API server does not default this field, so the webhook and the linter see the
same thing.

Options:
  default   seconds written where unset (default 86400, one day; null: leave unset)
  min       lowest TTL in seconds (default null: any, 0 included)
  max       highest TTL in seconds (default null: no maximum)
  cronjobs  ``skip`` or ``default``, see above (default ``skip``)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

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

CODE = "JG104"
NAME = "ttl-after-finished"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
SUMMARY = "ttlSecondsAfterFinished is set (policy default) within bounds; CronJobs by policy"
REMEDIATION = (
    "Set spec.ttlSecondsAfterFinished so finished Jobs are cleaned up, long enough to read a "
    "failure's logs; CronJobs usually rely on their history limits instead."
)

ONE_DAY = 24 * 60 * 60
HOOK_ANNOTATIONS = ("helm.sh/hook", "argocd.argoproj.io/hook")
# Delete-policy values that make the release tool delete the hook Job (each tool's documented set).
DELETING_HOOK_POLICIES = {
    "helm.sh/hook-delete-policy": {"before-hook-creation", "hook-succeeded", "hook-failed"},
    "argocd.argoproj.io/hook-delete-policy": {
        "BeforeHookCreation",
        "HookSucceeded",
        "HookFailed",
    },
}


def deleted_as_hook(annotations: dict[str, str]) -> bool:
    """A Helm or Argo CD hook whose delete policy removes it (comma-separated values)."""
    if not any(key in annotations for key in HOOK_ANNOTATIONS):
        return False
    return any(
        value.strip() in deleting
        for key, deleting in DELETING_HOOK_POLICIES.items()
        for value in annotations.get(key, "").split(",")
    )


FIELD = ("ttlSecondsAfterFinished",)


@dataclass(frozen=True)
class Options:
    default: int | None = ONE_DAY
    min: int | None = None
    max: int | None = None
    cronjobs: Literal["skip", "default"] = "skip"

    def validate(self) -> list[tuple[str, str]]:
        problems = below_minimum(self, ("default", "min", "max"), 0, "must be 0 or more")
        if problems:
            return problems  # compare the options only once each is valid on its own
        if exceeds("min", self.min, "max", self.max):
            return exceeds("min", self.min, "max", self.max)
        if self.default is not None and self.min is not None and self.default < self.min:
            problems.append(("default", f"default ({self.default}) is below min ({self.min})"))
        return problems + exceeds("default", self.default, "max", self.max)


def _duration(seconds: int) -> str:
    """A reader's version of a TTL (86400 -> "1d"), shown beside the seconds."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _set(view: JobView, value: int, *, safe: bool) -> Fix:
    return Fix(
        f"set ttlSecondsAfterFinished: {value} ({_duration(value)})",
        (SetValue(view.at(*FIELD), value),),
        safe=safe,
    )


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    skip_cronjobs = options.cronjobs == "skip"
    if subject.scheduled_run and skip_cronjobs:
        return  # judged through its CronJob, whose history limits clean it up
    path = view.at(*FIELD)
    if not view.has(*FIELD):
        if (view.is_cronjob and skip_cronjobs) or deleted_as_hook(view.annotations):
            return
        target = options.default
        if target is not None and wants_policy_default(view, FIELD, target):
            yield Violation(
                path,
                f"{unset_phrase(view, FIELD)}: the finished Job and its pods are kept forever; "
                f"the policy's default is {target}s ({_duration(target)})",
                _set(view, target, safe=True),
            )
        return
    value = view.get_int(*FIELD)
    if value is None or value < 0:
        return  # a type error or negative: the API rules report those
    if options.min is not None and value < options.min:
        yield Violation(
            path,
            f"ttlSecondsAfterFinished {value} is below the policy's minimum {options.min}s "
            f"({_duration(options.min)}); a failure's logs go before anyone reads them",
            _set(view, options.min, safe=False),  # the user chose the value: only suggested
        )
    elif options.max is not None and value > options.max:
        yield Violation(
            path,
            f"ttlSecondsAfterFinished {value} is above the policy's maximum {options.max}s "
            f"({_duration(options.max)})",
            _set(view, options.max, safe=False),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    checks, defaults = [], []
    skip = o.cronjobs == "skip"
    for kind in JOB_FORMS:
        guard = not_scheduled_run(kind, ctx) if skip else ""
        has_t, t = has("ttlSecondsAfterFinished"), "$s.ttlSecondsAfterFinished"
        p = path(kind, "ttlSecondsAfterFinished")
        ptr = pointer(kind, "ttlSecondsAfterFinished")
        if o.default is not None and not (kind == "CronJob" and skip):
            cond = all_of([guard, f"!{has_t}"])
            checks.append(
                CelCheck(
                    kind,
                    p,
                    cond,
                    "ttlSecondsAfterFinished is not set: the finished Job and its pods are kept "
                    f"forever; the policy's default is {o.default}s",
                )
            )
            defaults.append(CelDefault(kind, ptr, cond, str(o.default)))
        below = ""
        if o.min is not None:
            below = all_of([guard, has_t, f"{t} >= 0", f"{t} < {o.min}"])
            checks.append(
                CelCheck(
                    kind,
                    p,
                    below,
                    f"ttlSecondsAfterFinished is below the policy's minimum {o.min}s",
                    f"'ttlSecondsAfterFinished ' + string({t}) + ' is below the policy\\'s "
                    f"minimum {o.min}s; a failure\\'s logs go before anyone reads them'",
                )
            )
            # raising a chosen TTL is a suggestion only (unsafe in the engine): no mutation
        if o.max is not None:
            checks.append(
                CelCheck(
                    kind,
                    p,
                    all_of(
                        [guard, has_t, f"{t} >= 0", f"{t} > {o.max}", f"!{below}" if below else ""]
                    ),
                    f"ttlSecondsAfterFinished is above the policy's maximum {o.max}s",
                    f"'ttlSecondsAfterFinished ' + string({t}) + ' is above the policy\\'s "
                    f"maximum {o.max}s'",
                )
            )
    return Translation(tuple(checks), tuple(defaults))
