"""jobguard.core.kubernetes.quantity: Kubernetes resource quantities as exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobguard.core.kubernetes.quantity import parse_quantity


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        (0.5, Decimal("0.5")),
        ("1.5", Decimal("1.5")),
        ("2Gi", Decimal(2 * 2**30)),
        ("123Mi", Decimal(128974848)),
        ("129M", Decimal(129000000)),
        ("129e6", Decimal(129000000)),
        ("1E-3", Decimal("0.001")),
        ("100k", Decimal(100000)),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("250n", Decimal("0.00000025")),
    ],
)
def test_quantities_parse_to_base_units(value: Any, expected: Decimal) -> None:
    assert parse_quantity(value) == expected


def test_equal_quantities_written_differently_compare_equal() -> None:
    assert parse_quantity("0.1") == parse_quantity("100m")
    assert parse_quantity("4Gi") == parse_quantity("4096Mi")


@pytest.mark.parametrize("value", ["", "abc", "1Gb", "1 Gi", "1e100", "--1", None, True, [], {}])
def test_anything_else_is_not_a_quantity(value: Any) -> None:
    assert parse_quantity(value) is None
