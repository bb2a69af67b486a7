"""jobguard.core.kubernetes.cron: robfig/cron v3 semantics for CronJob schedules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.core.kubernetes.cron import (
    CronSchedule,
    CronSyntaxError,
    parse_go_duration,
    parse_schedule,
)


def test_fields_ranges_steps_and_names_expand_to_the_values_robfig_uses() -> None:
    s = parse_schedule("*/15 9-17/4 1,15 JAN-mar mon-FRI")
    assert s.minutes == {0, 15, 30, 45}
    assert s.hours == {9, 13, 17}
    assert s.days_of_month == {1, 15}
    assert s.months == {1, 2, 3}
    assert s.days_of_week == {1, 2, 3, 4, 5}
    assert (s.dom_star, s.dow_star) == (False, False)


def test_n_slash_step_means_n_to_max() -> None:
    assert parse_schedule("50/3 * * * *").minutes == {50, 53, 56, 59}


def test_star_and_question_mark_are_star_fields_unless_stepped_above_one() -> None:
    assert parse_schedule("0 0 * * ?").dow_star
    assert parse_schedule("0 0 */1 * *").dom_star
    assert not parse_schedule("0 0 */2 * *").dom_star
    assert parse_schedule("0 0 1,* * *").dom_star  # robfig ORs the star bit of each list item


def test_day_fields_and_when_one_is_a_star_field_or_otherwise() -> None:
    friday_13th_only_or = parse_schedule("0 0 13 * 5")  # neither is a star field: OR
    assert friday_13th_only_or.fires_on(dt.date(2026, 11, 13))  # a Friday and the 13th
    assert friday_13th_only_or.fires_on(dt.date(2026, 11, 6))  # a Friday
    assert friday_13th_only_or.fires_on(dt.date(2026, 10, 13))  # a Tuesday, the 13th
    assert not friday_13th_only_or.fires_on(dt.date(2026, 11, 7))
    odd_days = parse_schedule("0 0 */2 * *")  # day-of-week is a star field: AND with all days
    assert odd_days.fires_on(dt.date(2026, 11, 1))
    assert not odd_days.fires_on(dt.date(2026, 11, 2))
    stepped_dow = parse_schedule("0 0 13 * */2")  # */2 is no star field: OR again
    assert stepped_dow.fires_on(dt.date(2026, 11, 1))  # a Sunday (0)
    assert stepped_dow.fires_on(dt.date(2026, 11, 13))


@pytest.mark.parametrize(
    ("schedule", "never"),
    [
        ("0 0 30 2 *", True),
        ("0 0 31 2,4,6,9,11 ?", True),
        ("59 23 31 2 *", True),
        ("0 0 29 2 *", False),  # leap years
        ("0 0 30 2 1", False),  # OR: Mondays in February
        ("0 0 31 * *", False),
        ("@every 1h", False),
        ("@yearly", False),
    ],
)
def test_schedules_that_match_no_real_day_never_fire(schedule: str, never: bool) -> None:
    assert parse_schedule(schedule).never_fires() is never


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [
        ("* * * * *", 60),
        ("*/5 * * * *", 300),
        ("*/10 9-17 * * MON-FRI", 600),
        ("0,55 0,23 * * *", 300),  # 23:55 -> 00:00 across midnight
        ("0 0,23 * * 1", 23 * 3600),  # Monday 00:00 -> 23:00; 23:00 -> next Monday is longer
        ("0 0 13 * 5", 86400),  # Thursday 13th, Friday 14th
        ("0 3 * * *", 86400),
        ("@weekly", 7 * 86400),
        ("0 0 1 * *", 28 * 86400),  # February
        ("@every 1h30m", 5400),
        ("@every 500ms", 1),  # robfig never goes below one second
        ("0 0 30 2 *", None),
    ],
)
def test_the_shortest_gap_between_runs(schedule: str, seconds: int | None) -> None:
    assert parse_schedule(schedule).min_interval_seconds() == seconds


@pytest.mark.parametrize(
    ("schedule", "pinned"),
    [
        ("*/15 * * * *", False),
        ("@hourly", False),
        ("@every 2h", False),
        ("0 * 1-31 * *", False),
        ("0 3 * * *", True),
        ("0 * * * MON-FRI", True),
        ("0 * * JAN *", True),
        ("@daily", True),
    ],
)
def test_only_schedules_that_pin_an_hour_day_or_month_depend_on_the_time_zone(
    schedule: str, pinned: bool
) -> None:
    assert parse_schedule(schedule).depends_on_time_zone is pinned


def test_a_time_zone_prefix_is_read_and_stripped() -> None:
    s = parse_schedule("CRON_TZ=Europe/Berlin 0 3 * * *")
    assert s.time_zone == "Europe/Berlin"
    assert s.hours == {3}


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("", "empty spec string"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("L * * * *", 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
    ],
)
def test_syntax_errors_carry_robfig_style_messages(schedule: str, message: str) -> None:
    with pytest.raises(CronSyntaxError) as info:
        parse_schedule(schedule)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("90s", 90.0),
        ("500ms", 0.5),
        ("0", 0.0),
        ("-1m", -60.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == seconds


# -- the cheap interval check agrees with brute force -------------------------------------------


def _brute_force_min_gap(schedule: CronSchedule) -> int | None:
    """Every run over eight years, one by one: the slow, obvious answer (in seconds)."""
    start = dt.datetime(2024, 1, 1)
    runs = [
        start + dt.timedelta(days=day, minutes=minute)
        for day in range(366 * 8)
        if schedule.fires_on((start + dt.timedelta(days=day)).date())
        for minute in schedule.times_of_day
    ]
    gaps = [int((b - a).total_seconds()) for a, b in itertools.pairwise(runs)]
    return min(gaps, default=None)


_field = st.lists(st.integers(0, 59), min_size=1, max_size=3).map(lambda v: ",".join(map(str, v)))
_hours = st.one_of(
    st.just("*"),
    st.lists(st.integers(0, 23), min_size=1, max_size=3).map(lambda v: ",".join(map(str, v))),
)
_doms = st.sampled_from(["*", "1", "13", "28-31", "30", "*/2", "1,15"])
_months = st.sampled_from(["*", "2", "1,7", "4,6,9,11", "*/3"])
_dows = st.sampled_from(["*", "?", "1", "5", "0,6", "*/2", "1-5"])


@settings(max_examples=40, deadline=None)
@given(_field, _hours, _doms, _months, _dows, st.sampled_from([120, 3600, 4 * 3600, 86400 * 2]))
def test_min_interval_below_matches_brute_force(
    minutes: str, hours: str, dom: str, month: str, dow: str, limit: int
) -> None:
    schedule = parse_schedule(f"{minutes} {hours} {dom} {month} {dow}")
    exact = None if schedule.never_fires() else _brute_force_min_gap(schedule)
    assert schedule.min_interval_seconds() == exact
    expected_below = exact if exact is not None and exact < limit else None
    assert schedule.min_interval_below(limit) == expected_below


def test_short_schedules_are_parsed_once_and_huge_ones_are_not_kept() -> None:
    assert parse_schedule("0 3 * * *") is parse_schedule("0 3 * * *")
    huge = ",".join(["0"] * 2000) + " * * * *"
    parsed = parse_schedule(huge)
    assert parsed == parse_schedule("0 * * * *")
    assert parsed is not parse_schedule(huge)
