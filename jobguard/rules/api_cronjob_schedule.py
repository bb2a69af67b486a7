"""api-cronjob-schedule: a CronJob schedule the API server rejects.

What: ``spec.schedule`` is required and must parse with the parser the API server uses
(robfig/cron v3 ``ParseStandard``, see :mod:`jobguard.core.kubernetes.cron`): five fields (minute hour
day-of-month month day-of-week) with ``*``, ``?``, numbers, ranges, steps and month/day names,
or a descriptor (``@hourly``, ``@daily``, ``@every 1h30m``...). A ``TZ=`` or ``CRON_TZ=``
prefix parses but is refused on create (and on updates of schedules that did not have it):
the time zone belongs in ``spec.timeZone``.

Why: HTTP 422 on create. A six-field (seconds) schedule from another cron library, ``7`` for
Sunday, or ``L``/``W``/``#`` from Quartz are the usual suspects.

Example::

    spec:
      schedule: "0 0 3 * * *"       # expected exactly 5 fields, found 6: [0 0 3 * * *]
      schedule: "TZ=Europe/Berlin 0 3 * * *"   # use timeZone: Europe/Berlin instead

Fix: none automatic; write five fields, and move a ``TZ=`` prefix to ``spec.timeZone``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.cron import CronSyntaxError, parse_schedule
from jobguard.core.kubernetes.timezones import load_location_error
from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_object, invalid
from jobguard.rules.base import NoOptions

CODE = "JG012"
NAME = "api-cronjob-schedule"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
KINDS = ("CronJob",)
SUMMARY = "CronJob schedules that do not parse (robfig/cron v3) or carry a TZ= prefix"
REMEDIATION = (
    "Write a standard five-field cron schedule (or @hourly, @daily, @every 2h...) and put the "
    "time zone in spec.timeZone, not in a TZ= prefix."
)


def _old_schedule(subject: Subject) -> Any:
    old = subject.old_object
    spec = old.get("spec") if isinstance(old, dict) else None
    return spec.get("schedule") if isinstance(spec, dict) else None


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    spec = api_object(view, subject).obj.get("spec")
    if spec is None:
        spec = {}  # a missing or null spec decodes as an empty one, without a schedule
    if not isinstance(spec, dict):
        return
    schedule = spec.get("schedule")
    path = ("spec", "schedule")
    if schedule is None or schedule == "":
        yield Violation(path, "Required value (a CronJob needs a schedule)")
        return
    if not isinstance(schedule, str):
        return  # a type error: api-structure reports it
    errors = []
    try:
        parsed = parse_schedule(schedule)
    except CronSyntaxError as exc:
        errors.append(invalid(schedule, str(exc)))
    else:
        if parsed.time_zone is not None:
            zone_error = load_location_error(parsed.time_zone)
            if zone_error:
                errors.append(
                    invalid(schedule, f"provided bad location {parsed.time_zone}: {zone_error}")
                )
    old = _old_schedule(subject)
    tz_allowed = subject.is_update and isinstance(old, str) and "TZ" in old
    if "TZ" in schedule:
        if not tz_allowed:
            errors.append(
                invalid(
                    schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
                )
            )
        elif spec.get("timeZone") is not None:
            errors.append(
                invalid(schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule")
            )
    if errors:
        yield Violation(path, "; ".join(errors))
