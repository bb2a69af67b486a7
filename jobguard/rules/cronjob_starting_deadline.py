"""cronjob-starting-deadline: a CronJob bounds how late a run may start, and not too tightly.

What: ``spec.startingDeadlineSeconds`` must be set (``required``, the default) and, when set, be at
least ``min_seconds`` (default 10). Reported at ``spec.startingDeadlineSeconds``.

Why, unset: the deadline is how late a missed run may still start. Without it, after a
controller outage, a leader change, a long ``Forbid`` block or when a suspended CronJob is resumed,
the controller starts the most recent missed run immediately, however late: the 03:00 backup runs
at 14:00 in the middle of business traffic. It also counts every missed run since the last one;
above 100 the current controller emits ``TooManyMissedTimes`` warnings on each sync, and the
legacy controller (before the v2 controller became the default in Kubernetes 1.21, still the
behaviour the Kubernetes documentation describes) stopped scheduling the CronJob altogether.
With a deadline only runs inside the window are counted and considered.

Why, too small: the controller wakes up at the scheduled time and creates the Job a moment later;
with ``startingDeadlineSeconds: 0`` that moment is already too late and the run is always
reported as missed. The Kubernetes documentation warns that values below 10 seconds may never
start a Job (the legacy controller checked every 10 seconds); any controller delay has the same
effect.

Example::

    spec:
      schedule: "0 3 * * *"
      startingDeadlineSeconds: 0      # never starts
    ---
    spec:
      schedule: "0 3 * * *"           # no deadline: after an outage starts hours late

Fix: a value below the minimum is raised to ``min_seconds`` as a suggestion only (unsafe): the
value was the user's choice, and a safe fix never overrides one. A missing deadline gets ``default_seconds`` (default 300) as a
suggestion only: with a deadline, runs that cannot start within it are skipped, which changes what
happens after an outage.

Options:
  required         report an unset startingDeadlineSeconds (default true)
  min_seconds      smallest accepted value (default 10)
  default_seconds  value suggested for an unset deadline (default 300); at least min_seconds
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jobguard.core.model import Action, Category, Fix, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    CelCheck,
    CelContext,
    CelDefault,
    Translation,
    has_c,
)
from jobguard.rules._typos import near_miss_key

CODE = "JG114"
NAME = "cronjob-starting-deadline"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
KINDS = ("CronJob",)
SUMMARY = "CronJob startingDeadlineSeconds is set and at least 10 seconds"
REMEDIATION = (
    "Set spec.startingDeadlineSeconds to how late a run may still start (e.g. 300); never below 10."
)

PATH = ("spec", "startingDeadlineSeconds")


@dataclass(frozen=True)
class Options:
    required: bool = True
    min_seconds: int = 10
    default_seconds: int = 300

    def validate(self) -> list[tuple[str, str]]:
        if self.min_seconds < 0:
            return [("min_seconds", "must be 0 or more")]
        if self.default_seconds < self.min_seconds:
            return [("default_seconds", f"must be at least min_seconds ({self.min_seconds})")]
        return []


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    value = view.cronjob_spec.get("startingDeadlineSeconds")
    if value is None:
        if options.required and near_miss_key(view, PATH) is None:
            yield Violation(
                PATH,
                "startingDeadlineSeconds is not set; after an outage or a resume the last missed "
                "run starts however late it is",
                Fix(
                    f"set startingDeadlineSeconds: {options.default_seconds}",
                    (SetValue(PATH, options.default_seconds),),
                    safe=False,
                ),
            )
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return  # type errors and negatives are reported by the API rules
    if value < options.min_seconds:
        yield Violation(
            PATH,
            f"startingDeadlineSeconds {value} is below {options.min_seconds}; the controller "
            "starts Jobs a moment after their time, so runs may never start",
            Fix(
                f"set startingDeadlineSeconds: {options.min_seconds}",
                (SetValue(PATH, options.min_seconds),),
                # The user chose this value: raising it is a suggestion, never a silent change.
                safe=False,
            ),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    kind, checks = "CronJob", []
    defaults: list[CelDefault] = []
    is_set, value = has_c("startingDeadlineSeconds"), "$c.startingDeadlineSeconds"
    if o.required:
        checks.append(
            CelCheck(
                kind,
                "spec.startingDeadlineSeconds",
                f"!{is_set}",
                "startingDeadlineSeconds is not set; after an outage or a resume the last missed "
                "run starts however late it is",
            )
        )
    if o.min_seconds > 0:
        low = f"({is_set} && {value} >= 0 && {value} < {o.min_seconds})"
        checks.append(
            CelCheck(
                kind,
                "spec.startingDeadlineSeconds",
                low,
                f"startingDeadlineSeconds is below {o.min_seconds}; runs may never start",
                f"'startingDeadlineSeconds ' + string({value}) + ' is below {o.min_seconds}; the "
                "controller starts Jobs a moment after their time, so runs may never start'",
            )
        )
        # raising a chosen deadline is a suggestion only (unsafe in the engine): no mutation
    return Translation(tuple(checks), tuple(defaults))
