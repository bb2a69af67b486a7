"""cronjob-schedule: a CronJob's schedule runs at a sane rate, actually fires, and names its zone.

What: three checks on a schedule that parses (syntax errors are the API rules' business):

* it never fires: ``0 0 30 2 *`` (February 30th) or ``0 0 31 4,6,9,11 *`` match no real day when
  day-of-week is ``*``. (With both day fields restricted either may match, so ``0 0 30 2 1`` runs
  on Mondays in February and is not reported.) Reported at ``spec.schedule``;
* it runs more often than ``min_interval_minutes``: the shortest gap between two runs, across
  midnight and month ends too (``* * * * *`` is 1 minute, ``*/10 9-17 * * *`` 10 minutes,
  ``@every 90s`` 90 seconds). Reported at ``spec.schedule``;
* ``spec.timeZone`` is missing although the schedule depends on the time zone (``require_time_zone:
  when-pinned``: it names an hour, a day or a month, e.g. ``0 3 * * *``; ``*/15 * * * *``,
  ``@hourly`` and ``@every`` run at the same instants everywhere) or in any case (``always``).
  A legacy ``TZ=``/``CRON_TZ=`` prefix counts as a zone. Reported at ``spec.timeZone`` (not for
  a schedule that never fires: when it would run is moot).

Why: the API server accepts a schedule that never matches a date; the CronJob then silently never
runs. Every run creates a Job and a pod (scheduling, image pull, start-up, history): a schedule
of every minute is usually ``* * * * *`` written where ``0 * * * *`` was meant, and work that
must happen that often belongs in a long-running worker. Without ``timeZone`` the
kube-controller-manager interprets the schedule in its own local time zone; that is UTC on most
managed clusters but not on all, and a nightly job written for "03:00" then runs at another hour
after a control-plane change. ``timeZone`` (GA in Kubernetes 1.27) makes the intent explicit and
handles daylight saving time.

Example::

    spec:
      schedule: "* * * * *"       # every minute
    ---
    spec:
      schedule: "0 0 30 2 *"      # never
    ---
    spec:
      schedule: "0 3 * * *"       # 03:00 in which zone?

Fix: correct the schedule (no automatic fix: only the author knows the intended time). For the
time zone the suggested fix sets ``timeZone`` to ``suggested_time_zone`` (default ``Etc/UTC``); it
is never applied automatically because it changes when the job runs if the controller's zone was
not UTC.

Options:
  min_interval_minutes  shortest allowed gap between runs in minutes (default 2, which reports
                        only every-minute schedules; 0 turns the check off)
  require_time_zone     ``never``, ``when-pinned`` (default) or ``always``
  suggested_time_zone   IANA zone the time-zone fix suggests (default ``Etc/UTC``)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from jobguard.core.kubernetes.cron import CronSchedule, CronSyntaxError, parse_schedule
from jobguard.core.model import Action, Category, Fix, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    CelContext,
    Translation,
)

CODE = "JG112"
NAME = "cronjob-schedule"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
KINDS = ("CronJob",)
SUMMARY = "CronJob schedules fire, not too often, and state their timeZone when it matters"
REMEDIATION = (
    "Fix spec.schedule so it matches real dates at a sensible rate, and set spec.timeZone "
    "(e.g. Etc/UTC) when the schedule names an hour or a day."
)


@dataclass(frozen=True)
class Options:
    min_interval_minutes: int = 2
    require_time_zone: Literal["never", "when-pinned", "always"] = "when-pinned"
    suggested_time_zone: str = "Etc/UTC"

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        if self.min_interval_minutes < 0:
            problems.append(("min_interval_minutes", "must be 0 (off) or a number of minutes"))
        zone = self.suggested_time_zone
        if not zone or zone != zone.strip() or zone.lower() == "local":
            problems.append(("suggested_time_zone", "must be an IANA time zone such as Etc/UTC"))
        return problems


def describe_interval(seconds: int) -> str:
    """``60`` -> ``1 minute``, ``90`` -> ``90 seconds``, ``7200`` -> ``2 hours``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


def _needs_time_zone(schedule: CronSchedule, options: Options) -> bool:
    if options.require_time_zone == "always":
        return True
    return options.require_time_zone == "when-pinned" and schedule.depends_on_time_zone


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    spec = view.cronjob_spec
    text = spec.get("schedule")
    if not isinstance(text, str):
        return
    try:
        schedule = parse_schedule(text)
    except CronSyntaxError:
        return  # the API server rejects it; the API rules report it
    if schedule.never_fires():
        yield Violation(
            ("spec", "schedule"),
            f"schedule {text!r} never fires: none of its days exists in its months",
        )
        return  # when it would run is moot
    if options.min_interval_minutes > 0:
        gap = schedule.min_interval_below(options.min_interval_minutes * 60)
        if gap is not None:
            yield Violation(
                ("spec", "schedule"),
                f"schedule {text!r} starts a Job every {describe_interval(gap)}; the policy's "
                f"minimum interval is {describe_interval(options.min_interval_minutes * 60)}",
            )
    has_zone = spec.get("timeZone") is not None or schedule.time_zone is not None
    if not has_zone and _needs_time_zone(schedule, options):
        zone = options.suggested_time_zone
        yield Violation(
            ("spec", "timeZone"),
            f"timeZone is not set, so {text!r} runs in the kube-controller-manager's local time "
            "zone; set it explicitly",
            Fix(f"set timeZone: {zone}", (SetValue(("spec", "timeZone"), zone),), safe=False),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    return Translation(
        gaps=(
            "the whole rule: a schedule that never fires, the interval between runs and whether "
            "the schedule depends on the time zone need a cron parser CEL does not have",
        )
    )
