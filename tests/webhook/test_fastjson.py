"""The webhook's request-path JSON reads and writes exactly what the standard library does,
including on the inputs where orjson alone would not."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.webhook import fastjson

ADMISSION = Path(__file__).resolve().parents[1] / "fixtures" / "admission"

EDGE_CASES = [
    b'{"a": 123456789012345678901234567890}',  # beyond 64 bits: orjson would read a float
    b'{"a": -9223372036854775809}',  # one below int64: also a float in orjson
    b'{"a": 18446744073709551615, "b": 9223372036854775807}',
    b'{"a": "12345678901234567890"}',  # a long digit run in a string
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'{"a": 1e400}',
    b'{"a": "\\ud800"}',  # a lone surrogate escape
    b'{"a": 1, "a": 2}',
    b'{"a": 1.0, "b": 0.1, "c": 1e-05, "d": -0.0}',
    '{"a": "\u00e9\u4e2d"}'.encode("utf-16"),
    b' \n{"a": [true, false, null]} \t',
]
INVALID = [
    b"",
    b"{",
    b'{"a": 1,}',
    b"[1 2]",
    b"\xff\xfe\x00",
    b'{"a": 01}',
    b"[" * 100000,
    b"[" * 1100 + b"]" * 1100,  # deeper than orjson's limit: json's RecursionError, as before
]


@pytest.mark.parametrize(
    "body", EDGE_CASES + [p.read_bytes() for p in sorted(ADMISSION.glob("*.json"))]
)
def test_reads_what_json_reads(body: bytes) -> None:
    expected = json.loads(body)
    got = fastjson.loads(body)
    assert got == expected or (
        isinstance(expected, dict)
        and any(isinstance(v, float) and math.isnan(v) for v in expected.values())
    )
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("body", INVALID)
def test_raises_what_json_raises(body: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)) as expected:
        json.loads(body)
    with pytest.raises(type(expected.value)) as got:
        fastjson.loads(body)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "value",
    [
        {"uid": "a", "allowed": True, "warnings": ["é", "中"], "n": [1, 2.5, None]},
        {"uid": "\ud800"},  # no UTF-8 form: escaped
        {"a": 10**30},
    ],
)
def test_writes_what_json_writes(value: object) -> None:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        expected = text.encode()
    except UnicodeEncodeError:
        expected = json.dumps(value, separators=(",", ":")).encode()
    assert json.loads(fastjson.dumps(value)) == json.loads(expected)
    if "\ud800" not in str(value):
        assert fastjson.dumps(value) == expected


@settings(max_examples=500, derandomize=True, database=None)
@given(st.binary(max_size=80) | st.from_regex(rb"[0-9a\- .e]{0,60}", fullmatch=True))
def test_the_long_digit_run_check_answers_as_the_regular_expression(body: bytes) -> None:
    assert fastjson.has_long_digit_run(body) == (re.search(rb"\d{19}", body) is not None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"1" * 18, False),
        (b"1" * 19, True),
        (b"x" + b"9" * 18 + b"x" + b"9" * 18, False),
        (b"[" + b"0" * 19 + b"]", True),
        ("\u0661" * 19, False),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_the_long_digit_run_check_at_its_edges(body: bytes | str, expected: bool) -> None:
    raw = body.encode() if isinstance(body, str) else body
    assert fastjson.has_long_digit_run(raw) is expected
