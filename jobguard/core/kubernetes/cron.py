"""CronJob schedules as the CronJob controller reads them (robfig/cron v3 ``ParseStandard``).

Only what policy rules need: which minutes, hours, days and months a schedule fires on, whether
it ever fires, the shortest gap between two runs and whether the time zone changes when it runs.
The parser follows robfig/cron v3 closely so that a schedule it accepts means here what it means
to the controller:

* five fields (minute hour day-of-month month day-of-week), or a descriptor: ``@yearly``
  ``@annually`` ``@monthly`` ``@weekly`` ``@daily`` ``@midnight`` ``@hourly`` ``@every <duration>``;
  a ``TZ=<zone>`` / ``CRON_TZ=<zone>`` prefix names the zone;
* each field is a comma list of ``*``, ``?``, ``N``, ``N-M``, each with an optional ``/step``;
  ``N/step`` means ``N-max/step``; month (jan..dec) and weekday (sun..sat) names, any case;
  day-of-week is 0-6 (7 is rejected);
* a field written with ``*`` or ``?`` (and no step above 1) is a "star" field. When day-of-month or
  day-of-week is a star field a day must match both; when neither is, either may match (so
  ``0 0 13 * 5`` runs on every 13th *and* every Friday, like Vixie cron).

Syntax errors raise :class:`CronSyntaxError`; reporting them is the API rules' business (the API
server validates schedules with the same parser), the policy rules skip schedules that do not parse.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from dataclasses import dataclass, replace

MINUTES_PER_DAY = 24 * 60

_MONTH_NAMES = {
    name: i
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# The most days each month can have (February in leap years): whether a day exists at all.
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DOW_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class CronSyntaxError(ValueError):
    """The schedule does not parse (the API server would reject it)."""


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


_MINUTE = _Bounds(0, 59)
_HOUR = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTH = _Bounds(1, 12, _MONTH_NAMES)
_DOW = _Bounds(0, 6, _DOW_NAMES)

_ALL_MINUTES = frozenset(range(60))
_ALL_HOURS = frozenset(range(24))
_ALL_DAYS = frozenset(range(1, 32))
_ALL_MONTHS = frozenset(range(1, 13))
_ALL_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule. ``every_seconds`` is set for ``@every`` schedules (fields unused)."""

    minutes: frozenset[int] = frozenset({0})
    hours: frozenset[int] = frozenset({0})
    days_of_month: frozenset[int] = _ALL_DAYS
    months: frozenset[int] = _ALL_MONTHS
    days_of_week: frozenset[int] = _ALL_WEEKDAYS  # 0 = Sunday
    dom_star: bool = True
    dow_star: bool = True
    every_seconds: int | None = None
    time_zone: str | None = None

    # -- days ----------------------------------------------------------------------------------
    def fires_on(self, day: dt.date) -> bool:
        """Whether the schedule runs at some time of ``day`` (robfig's ``dayMatches``)."""
        if self.every_seconds is not None:
            return True
        if day.month not in self.months:
            return False
        dom_match = day.day in self.days_of_month
        dow_match = (day.isoweekday() % 7) in self.days_of_week
        if self.dom_star or self.dow_star:
            return dom_match and dow_match
        return dom_match or dow_match

    def never_fires(self) -> bool:
        """True for schedules such as ``0 0 30 2 *`` (February 30th) that match no real day."""
        if self.every_seconds is not None:
            return False
        if not (self.minutes and self.hours and self.months):
            return True  # a field such as "," lists no value at all (robfig accepts it)
        if not self.dom_star and not self.dow_star:
            # Either field may match: every month has every weekday, if any weekday is listed.
            if self.days_of_week:
                return False
            return not any(
                d <= _LONGEST_MONTH[m - 1] for m in self.months for d in self.days_of_month
            )
        if self.dom_star:
            return False  # the weekday set is not empty, every month has each weekday
        # Day-of-week is a star field: the day of month alone decides. February has 29 days in
        # leap years, which robfig's five-year search always reaches.
        return not any(d <= _LONGEST_MONTH[m - 1] for m in self.months for d in self.days_of_month)

    # -- times ---------------------------------------------------------------------------------
    @property
    def times_of_day(self) -> tuple[int, ...]:
        """Minutes after midnight at which the schedule runs on a day it fires, ascending."""
        return tuple(sorted(h * 60 + m for h in self.hours for m in self.minutes))

    def min_interval_seconds(self) -> int | None:
        """The shortest time between two consecutive runs; None if it never fires."""
        if self.every_seconds is not None:
            return self.every_seconds
        if self.never_fires():
            return None
        times = self.times_of_day
        within_day = min((b - a for a, b in itertools.pairwise(times)), default=None)
        # Across midnight the gap is at least the wrap-around gap of two consecutive days.
        wrap = MINUTES_PER_DAY - times[-1] + times[0]
        if within_day is not None and within_day <= wrap:
            return within_day * 60
        day_gap = self._min_days_between_firing_days()
        across = day_gap * MINUTES_PER_DAY - times[-1] + times[0] if day_gap else None
        candidates = [g for g in (within_day, across) if g is not None]
        return min(candidates) * 60 if candidates else None

    def min_interval_below(self, limit_seconds: int) -> int | None:
        """The shortest gap between runs if it is below ``limit_seconds``, else None.

        Cheap for the common case: the exact cross-day search only runs when two runs sit near
        both ends of a day (``0 0,23 * * 1``) and that wrap-around gap is below the limit.
        """
        if self.every_seconds is None and not self.never_fires():
            times = self.times_of_day
            within_day = min((b - a for a, b in itertools.pairwise(times)), default=MINUTES_PER_DAY)
            wrap = MINUTES_PER_DAY - times[-1] + times[0]
            if min(within_day, wrap) * 60 >= limit_seconds:
                return None
        found = self.min_interval_seconds()
        return found if found is not None and found < limit_seconds else None

    def _min_days_between_firing_days(self) -> int | None:
        """Fewest days between two days the schedule fires on (see :func:`_min_day_gap`)."""
        if self.months == _ALL_MONTHS and self._fires_every_day():
            return 1
        return _min_day_gap(self)

    @property
    def depends_on_time_zone(self) -> bool:
        """Whether the time zone changes when it runs (it pins an hour, a day or a month).

        ``@every``, ``@hourly`` and ``*/15 * * * *`` run at the same instants in every zone with a
        whole-hour offset; ``0 3 * * *`` runs at 03:00 of whichever zone the controller uses.
        """
        if self.every_seconds is not None:
            return False
        return not (
            self.hours == _ALL_HOURS and self.months == _ALL_MONTHS and self._fires_every_day()
        )

    def _fires_every_day(self) -> bool:
        all_dom = self.days_of_month == _ALL_DAYS
        all_dow = self.days_of_week == _ALL_WEEKDAYS
        if self.dom_star or self.dow_star:
            return all_dom and all_dow
        return all_dom or all_dow


@functools.lru_cache(maxsize=256)
def _min_day_gap(schedule: CronSchedule) -> int | None:
    """Fewest days between two firing days, over an eight-year window (cached: ~3 ms each).

    Eight years starting on a leap year cover every weekday/date/leap combination that matters in
    practice; the window is fixed so that results do not depend on today.
    """
    start = dt.date(2024, 1, 1).toordinal()
    previous: int | None = None
    best: int | None = None
    for offset in range(366 * 8):
        if schedule.fires_on(dt.date.fromordinal(start + offset)):
            if previous is not None:
                gap = offset - previous
                best = gap if best is None else min(best, gap)
                if best == 1:
                    break
            previous = offset
    return best


# -- parsing ---------------------------------------------------------------------------------

_DESCRIPTORS = {
    "@yearly": CronSchedule(days_of_month=frozenset({1}), months=frozenset({1}), dom_star=False),
    "@annually": CronSchedule(days_of_month=frozenset({1}), months=frozenset({1}), dom_star=False),
    "@monthly": CronSchedule(days_of_month=frozenset({1}), dom_star=False),
    "@weekly": CronSchedule(days_of_week=frozenset({0}), dow_star=False),
    "@daily": CronSchedule(),
    "@midnight": CronSchedule(),
    "@hourly": CronSchedule(hours=_ALL_HOURS),
}

_CACHED_LENGTH = 256  # real schedules are short; huge hostile ones are parsed, never kept


def parse_schedule(text: str) -> CronSchedule:
    """Parse a CronJob ``spec.schedule``; raises :class:`CronSyntaxError`.

    Cached: the same few schedules come back in every lint run and admission request, and the
    result is immutable.
    """
    if len(text) <= _CACHED_LENGTH:
        return _parse_cached(text)
    return _parse(text)


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> CronSchedule:
    return _parse(text)


def _parse(text: str) -> CronSchedule:
    if not text:
        raise CronSyntaxError("empty spec string")
    spec = text
    zone = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        # robfig: the zone runs from the first '=' to the first space. Without a space robfig
        # v3.0.1 panics (the API server answers 500); here it is a syntax error.
        space = spec.find(" ")
        if space < 0:
            raise CronSyntaxError(f"a time zone prefix must be followed by a schedule: {text!r}")
        zone = spec[spec.index("=") + 1 : space]
        spec = spec[space:].strip()
    if spec.startswith("@"):
        return _with_zone(_parse_descriptor(spec), zone)
    fields = spec.split()
    if len(fields) != 5:
        # Go prints the slice with %s: [f1 f2 ...]
        raise CronSyntaxError(
            f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
        )
    minutes, _ = _parse_field(fields[0], _MINUTE)
    hours, _ = _parse_field(fields[1], _HOUR)
    dom, dom_star = _parse_field(fields[2], _DOM)
    months, _ = _parse_field(fields[3], _MONTH)
    dow, dow_star = _parse_field(fields[4], _DOW)
    return CronSchedule(minutes, hours, dom, months, dow, dom_star, dow_star, None, zone)


def _with_zone(schedule: CronSchedule, zone: str | None) -> CronSchedule:
    return schedule if zone is None else replace(schedule, time_zone=zone)


def _parse_descriptor(spec: str) -> CronSchedule:
    if spec in _DESCRIPTORS:
        return _DESCRIPTORS[spec]
    if spec.startswith("@every "):
        seconds = parse_go_duration(spec[len("@every ") :])
        # robfig's Every(): rounded down to whole seconds, never below one second.
        return CronSchedule(every_seconds=max(1, int(seconds)))
    raise CronSyntaxError(f"unrecognized descriptor: {spec}")


def _parse_field(field: str, bounds: _Bounds) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in field.split(",") if part):
        part_values, part_star = _parse_range(expr, bounds)
        values |= part_values
        star = star or part_star
    return frozenset(values), star


def _parse_range(expr: str, bounds: _Bounds) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = bounds.low, bounds.high, True
    else:
        start = _parse_int_or_name(low_and_high[0], bounds)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], bounds)
        else:
            raise CronSyntaxError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if len(low_and_high) == 1:
            end = bounds.high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    else:
        raise CronSyntaxError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise CronSyntaxError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise CronSyntaxError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise CronSyntaxError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronSyntaxError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _parse_int_or_name(text: str, bounds: _Bounds) -> int:
    if bounds.names and text.lower() in bounds.names:
        return bounds.names[text.lower()]
    return _parse_int(text)


def _parse_int(text: str) -> int:
    # strconv.Atoi: optional sign, decimal digits, int64 range; its error text is kept.
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise CronSyntaxError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").lstrip("0") or "0"
    # Over 19 digits cannot fit an int64 (and int() refuses strings over 4,300 digits long).
    value = 2**63 if len(digits) > 19 else sign * int(digits)
    if not -(2**63) <= value < 2**63:
        raise CronSyntaxError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": value out of range'
        )
    if value < 0:
        raise CronSyntaxError(f"negative number ({value}) not allowed: {text}")
    return value


# -- Go durations (``@every 1h30m``) ----------------------------------------------------------

_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_MAX_DURATION_NS = 2**63 - 1
_DIGITS = re.compile(r"[0-9]*")


def _go_duration_error(text: str, detail: str) -> CronSyntaxError:
    return CronSyntaxError(f"failed to parse duration @every {text}: time: {detail}")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go ``time.ParseDuration`` string such as ``1h30m`` or ``90s``.

    Follows Go's algorithm and error texts (``invalid duration``, ``missing unit``, ``unknown
    unit``), wrapped as robfig wraps them.
    """
    quoted = f'"{text}"'
    body = text
    sign = 1.0
    if body[:1] in ("+", "-"):
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise _go_duration_error(text, f"invalid duration {quoted}")
    # Walked with an index, not by slicing the rest off each time: a long "1h1h1h..." would
    # make that quadratic (a 400 KB schedule took a second per admission request).
    total_ns = 0.0
    at = 0
    while at < len(body):
        if not (body[at] == "." or "0" <= body[at] <= "9"):
            raise _go_duration_error(text, f"invalid duration {quoted}")
        whole = _DIGITS.match(body, at).group()  # type: ignore[union-attr]
        at += len(whole)
        fraction = ""
        if body.startswith(".", at):
            fraction = _DIGITS.match(body, at + 1).group()  # type: ignore[union-attr]
            at += 1 + len(fraction)
        if not whole and not fraction:
            raise _go_duration_error(text, f"invalid duration {quoted}")
        end = at
        while end < len(body) and body[end] != "." and not "0" <= body[end] <= "9":
            end += 1
        if end == at:
            raise _go_duration_error(text, f"missing unit in duration {quoted}")
        unit = body[at:end]
        at = end
        if unit not in _DURATION_UNITS:
            raise _go_duration_error(text, f'unknown unit "{unit}" in duration {quoted}')
        total_ns += float(f"{whole or 0}.{fraction or 0}") * _DURATION_UNITS[unit] * 1e9
        if total_ns > _MAX_DURATION_NS:
            raise _go_duration_error(text, f"invalid duration {quoted}")
    return sign * total_ns / 1e9
