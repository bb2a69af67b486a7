"""Properties of the value grammars the newer api rules reproduce from Kubernetes and Go.

Each is checked against an independent statement of the same rule: Python's own date-time
parsing for RFC 3339 (``metav1.Time``), integer bounds for the pod deletion cost
(``GetDeletionCostFromPodAnnotations``), quantity values for resource divisors
(``validateContainerResourceDivisor``) and Go's ``strconv.ParseInt`` range for index lists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobguard.core.kubernetes.indexes import IndexListError, count_indexes
from jobguard.rules.api_pod_annotations import deletion_cost_valid
from jobguard.rules.api_pod_env import divisor_error, split_subscripted
from jobguard.rules.api_timestamps import rfc3339_valid

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.sampled_from(["Z", "+00:00", "-07:30", "+14:00"]),
    st.booleans(),
)
def test_every_rfc3339_rendering_of_a_real_time_is_accepted(
    when: dt.datetime, zone: str, fraction: bool
) -> None:
    text = when.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    if fraction:
        text += f".{when.microsecond:06d}"
    assert rfc3339_valid(text + zone)


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_date_only_space_separated_lower_case_and_zone_less_times_are_refused(
    when: dt.datetime,
) -> None:
    full = when.strftime("%Y-%m-%dT%H:%M:%S")
    for text in (
        full[:10],
        full.replace("T", " ") + "Z",
        full.replace("T", "t") + "Z",
        full,
        full + "z",
    ):
        assert not rfc3339_valid(text), text


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00+24:00",
        "",
    ],
)
def test_times_out_of_range_are_refused(text: str) -> None:
    assert not rfc3339_valid(text)


@given(INT32)
def test_a_plain_int32_is_a_valid_deletion_cost(value: int) -> None:
    assert deletion_cost_valid(str(value))


@given(st.one_of(st.integers(max_value=-(2**31) - 1), st.integers(min_value=2**31)))
def test_an_integer_outside_int32_is_not(value: int) -> None:
    assert not deletion_cost_valid(str(value))


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_a_plus_sign_or_leading_zero_is_refused(value: int) -> None:
    assert not deletion_cost_valid(f"+{value}")
    assert not deletion_cost_valid(f"0{value}")


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3))
def test_a_cpu_divisor_is_accepted_exactly_when_its_value_is_1_or_1m(value: Decimal) -> None:
    accepted = divisor_error("limits.cpu", str(value)) is None
    assert accepted == (value in (Decimal(1), Decimal("0.001")))


@given(st.integers(min_value=0, max_value=6), st.sampled_from(["", "k", "M", "G", "T", "P", "E"]))
def test_memory_divisors_in_canonical_form(power: int, suffix: str) -> None:
    binary = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power]
    assert divisor_error("limits.memory", f"1{binary}") is None
    assert divisor_error("limits.memory", f"1{suffix}") is None
    # 2 of anything is not a canonical unit
    assert divisor_error("limits.memory", f"2{suffix}") is not None


@given(
    st.integers(min_value=1, max_value=9),
    st.text(alphabet="0123456789", min_size=10, max_size=70000),
)
def test_an_index_of_more_than_ten_digits_is_out_of_int32_range(first: int, rest: str) -> None:
    # Go's strconv.ParseInt refuses it; Python's int() refuses strings over 4300 digits, which
    # once crashed the rule on a 64 KiB succeededIndexes
    with pytest.raises(IndexListError, match="cannot convert string to integer for index"):
        count_indexes(f"{first}{rest}", 5)


@given(st.text(min_size=1), st.text())
def test_subscripted_paths_split_as_go_does(base: str, key: str) -> None:
    """``fieldpath.SplitMaybeSubscriptedPath``: ``<path>['<key>']``, the path before the first
    ``['``, the key up to the final ``']``; anything not ending in ``']`` is no subscript."""
    if "['" in base:
        return
    assert split_subscripted(f"{base}['{key}']") == (base, key)
    if not base.endswith("']"):
        assert split_subscripted(base) is None
