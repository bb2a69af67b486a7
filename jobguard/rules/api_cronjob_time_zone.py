"""api-cronjob-time-zone: a CronJob timeZone the API server rejects.

What: ``spec.timeZone``, when set, must be a name from the IANA time zone database such as
``Europe/Berlin`` or ``Etc/UTC``: not empty, not ``Local`` (in any case), no spaces, and known
to the database (checked with Python's ``zoneinfo``). On update it is checked only when it
changed, as the API server does.

Why: HTTP 422 on create (``unknown time zone Europe/Berln``); a wrong zone is easy to type and
only the API server notices.

Example::

    spec:
      timeZone: "Europe/Paris "      # unknown time zone Europe/Paris  (trailing space)

Fix: none automatic; use the exact IANA name (``timedatectl list-timezones`` lists them).
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.kubernetes.timezones import time_zone_errors
from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_object, invalid
from jobguard.rules.base import NoOptions

CODE = "JG013"
NAME = "api-cronjob-time-zone"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
KINDS = ("CronJob",)
SUMMARY = "CronJob timeZone values that are not IANA time zone names"
REMEDIATION = "Use an IANA time zone name such as Europe/Berlin or Etc/UTC, exactly as the database spells it."


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    spec = api_object(view, subject).obj.get("spec")
    if not isinstance(spec, dict):
        return
    zone = spec.get("timeZone")
    if not isinstance(zone, str):
        return
    if subject.is_update and isinstance(subject.old_object, dict):
        old_spec = subject.old_object.get("spec")
        if isinstance(old_spec, dict) and old_spec.get("timeZone") == zone:
            return  # only a changed timeZone is validated on update
    errors = time_zone_errors(zone)
    if errors:
        yield Violation(("spec", "timeZone"), "; ".join(invalid(zone, e) for e in errors))
