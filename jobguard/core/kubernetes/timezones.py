"""Time zone names as the API server checks a CronJob's ``spec.timeZone``.

``validateTimeZone`` in the Kubernetes batch validation: ``""`` is invalid; every ``/``-separated
part must match ``^[A-Za-z.\\-_0-9+]{1,14}$`` and not be ``.``/``..`` or start with ``-``;
``Local`` in any case is refused; then Go's ``time.LoadLocation`` must find the zone in the IANA
database. The database here is Python's (the system's, or the ``tzdata`` package), which follows
the same IANA releases as Go's embedded copy.
"""

from __future__ import annotations

import functools
import re

_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")
IANA_NOTE = "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"


@functools.lru_cache(maxsize=512)
def load_location_error(name: str) -> str | None:
    """Go's ``time.LoadLocation(name)`` error text, or None when it loads."""
    if name in ("", "UTC", "Local"):
        return None
    import zoneinfo  # a module of the standard library, imported on first use

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        return f"unknown time zone {name}"
    return None


def time_zone_errors(name: str) -> list[str]:
    """The API server's messages for ``spec.timeZone: name`` (empty when valid)."""
    if not name:
        return ["timeZone must be nil or non-empty string"]
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not _PART.match(part):
            return [f"unknown time zone {name}"]
    errors = []
    if name.lower() == "local":
        errors.append(IANA_NOTE)
    error = load_location_error(name)
    if error:
        errors.append(error)
    return errors
