"""active-deadline: a Job's runtime limit is Job-level, bounded and (if the policy says) present.

What: three checks on the deadlines of a Job (CronJob: under ``spec.jobTemplate.spec``):

* with ``require``, ``spec.activeDeadlineSeconds`` must be set (reported at that path);
* ``spec.activeDeadlineSeconds`` must not exceed ``max``;
* ``spec.template.spec.activeDeadlineSeconds`` (the pod-level deadline) set while the Job-level
  one is not is reported at the pod-level path: the Job-level deadline was almost certainly
  meant. When such a pod-level deadline is there, the ``require`` finding is not reported as
  well: moving the value up fixes both.

A CronJob's scheduled run (a Job the CronJob controller creates, see ``Subject.scheduled_run``; an
ownerReference alone does not make one) is not judged: it is a copy of the
CronJob's job template, which this rule judges on the CronJob, and denying the copy would only
make the CronJob controller fail to start its runs (a suppression annotation on the CronJob does
not reach the Jobs it creates).

Why: ``spec.activeDeadlineSeconds`` bounds the whole Job: when it passes, the controller kills
the running pods and marks the Job failed with reason ``DeadlineExceeded``, retries or not. A
Job without one can hang for ever (a stuck download, a lock never released) holding its
resources, and a CronJob with ``concurrencyPolicy: Forbid`` then never starts again. The
pod-level field looks the same but means something else: it bounds one pod attempt; when it
passes, that pod fails, the failure counts against ``backoffLimit``, and the Job starts another
pod. A timeout meant as "give up after an hour" becomes "retry every hour, up to backoffLimit
times".

Example::

    spec:
      template:
        spec:
          activeDeadlineSeconds: 3600   # per attempt: up to 7 hours with backoffLimit 6
          containers: [...]

Fix: every fix here is only suggested (unsafe), never applied by the webhook: a deadline kills a
Job that is still working, and only its owner knows how long it may legitimately run. The
suggestions are: write the policy's ``default`` where ``require`` finds no deadline; lower a
deadline to ``max``; move a pod-level deadline to the Job level (which turns "per attempt" into
"in total", capped at ``max``).

Admission: the API server does not default either field, so the webhook and the linter see the
same thing.

Options:
  require  a Job-level deadline must be set (default false)
  default  seconds the suggested fix writes when ``require`` finds none (default null: no fix)
  max      highest Job-level deadline in seconds (default null: no maximum)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jobguard.core.model import Action, Category, Fix, RemoveValue, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    JOB_FORMS,
    CelCheck,
    CelContext,
    Translation,
    all_of,
    has,
    not_scheduled_run,
    path,
)
from jobguard.rules.base import below_minimum, exceeds

CODE = "JG105"
NAME = "active-deadline"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
SUMMARY = "Job-level activeDeadlineSeconds (required/bounded by policy), not a pod-level one"
REMEDIATION = (
    "Bound the Job's total runtime with spec.activeDeadlineSeconds (not the pod template's "
    "activeDeadlineSeconds, which limits each retry), within the policy's maximum."
)

JOB_FIELD = ("activeDeadlineSeconds",)
POD_FIELD = ("template", "spec", "activeDeadlineSeconds")


@dataclass(frozen=True)
class Options:
    require: bool = False
    default: int | None = None
    max: int | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems = below_minimum(self, ("default", "max"), 1, "must be 1 or more seconds")
        if problems:
            return problems  # compare the options only once each is valid on its own
        return exceeds("default", self.default, "max", self.max)


def _capped(value: int, options: Options) -> int:
    return value if options.max is None else min(value, options.max)


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    if subject.scheduled_run:
        return  # a copy of the CronJob's template, judged on the CronJob
    job_path = view.at(*JOB_FIELD)
    pod_path = view.at(*POD_FIELD)
    job_deadline = view.get_int(*JOB_FIELD)
    pod_deadline = view.get_int(*POD_FIELD)
    if not view.has(*JOB_FIELD):
        if pod_deadline is not None and pod_deadline >= 1:
            target = _capped(pod_deadline, options)
            yield Violation(
                pod_path,
                f"the pod-level activeDeadlineSeconds {pod_deadline} limits each pod attempt "
                "(a timeout becomes a retried failure) and the Job has no deadline of its own; "
                "the Job-level activeDeadlineSeconds was probably meant",
                Fix(
                    f"move the deadline to the Job: activeDeadlineSeconds: {target}",
                    (SetValue(job_path, target), RemoveValue(pod_path)),
                    safe=False,
                ),
            )
        elif options.require:
            fix = None
            if options.default is not None:
                fix = Fix(
                    f"set activeDeadlineSeconds: {options.default}",
                    (SetValue(job_path, options.default),),
                    safe=False,
                )
            yield Violation(
                job_path,
                "activeDeadlineSeconds is not set: nothing stops the Job if it hangs; the "
                "policy requires a Job-level deadline",
                fix,
            )
        return
    if job_deadline is not None and options.max is not None and job_deadline > options.max:
        yield Violation(
            job_path,
            f"activeDeadlineSeconds {job_deadline} is above the policy's maximum {options.max}",
            Fix(
                f"set activeDeadlineSeconds: {options.max}",
                (SetValue(job_path, options.max),),
                safe=False,
            ),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    checks = []
    for kind in JOB_FORMS:
        guard = not_scheduled_run(kind, ctx)
        has_j, j = has("activeDeadlineSeconds"), "$s.activeDeadlineSeconds"
        pod = "$s.template.spec.activeDeadlineSeconds"
        pod_set = f"({has('template.spec.activeDeadlineSeconds')} && {pod} >= 1)"
        checks.append(
            CelCheck(
                kind,
                path(kind, "template.spec.activeDeadlineSeconds"),
                all_of([guard, f"!{has_j}", pod_set]),
                "the pod-level activeDeadlineSeconds limits each pod attempt and the Job has no "
                "deadline of its own; the Job-level activeDeadlineSeconds was probably meant",
            )
        )
        if o.require:
            checks.append(
                CelCheck(
                    kind,
                    path(kind, "activeDeadlineSeconds"),
                    all_of([guard, f"!{has_j}", f"!{pod_set}"]),
                    "activeDeadlineSeconds is not set: nothing stops the Job if it hangs; the "
                    "policy requires a Job-level deadline",
                )
            )
        if o.max is not None:
            checks.append(
                CelCheck(
                    kind,
                    path(kind, "activeDeadlineSeconds"),
                    all_of([guard, has_j, f"{j} > {o.max}"]),
                    f"activeDeadlineSeconds is above the policy's maximum {o.max}",
                    f"'activeDeadlineSeconds ' + string({j}) + ' is above the policy\\'s "
                    f"maximum {o.max}'",
                )
            )
    return Translation(tuple(checks))
