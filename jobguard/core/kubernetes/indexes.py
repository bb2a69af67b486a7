"""Index lists of Indexed Jobs (``successPolicy.rules[].succeededIndexes``, ``completedIndexes``).

The grammar the API server validates (``validateIndexesFormat``): comma-separated items, each a
number ``a`` or an interval ``a-b``; every number below ``completions``; ``a < b`` inside an
interval and strictly increasing across items; no spaces. The empty string is valid (no index).
Error texts are the API server's.
"""

from __future__ import annotations

import re

INT32_MAX = 2**31 - 1
_GO_INT = re.compile(r"[+-]?[0-9]+")


class IndexListError(ValueError):
    """The list does not parse; the message is the API server's."""


def _parse_index(text: str) -> int:
    # strconv.ParseInt(text, 10, 32): optional sign, decimal digits, int32 range. More than 10
    # significant digits is out of range; checked first, as Python refuses to convert a
    # string of over 4300 digits (a 64 KiB succeededIndexes of one number).
    significant = text.lstrip("+-").lstrip("0")
    if (
        not _GO_INT.fullmatch(text)
        or len(significant) > 10
        or not -(2**31) <= int(text) <= INT32_MAX
    ):
        raise IndexListError(f'cannot convert string to integer for index: "{text}"')
    return int(text)


def count_indexes(text: str, completions: int) -> int:
    """The number of indexes ``text`` lists; raises :class:`IndexListError`."""
    if not text:
        return 0
    last: int | None = None
    total = 0
    for interval in text.split(","):
        limits = interval.split("-")
        if len(limits) > 2:
            raise IndexListError(
                f'the fragment "{interval}" violates the requirement that an index interval '
                "can have at most two parts separated by '-'"
            )
        low = _parse_index(limits[0])
        if low >= completions:
            raise IndexListError(f'too large index: "{limits[0]}"')
        if last is not None and last >= low:
            raise IndexListError(f"non-increasing order, previous: {last}, current: {low}")
        total += 1
        last = low
        if len(limits) > 1:
            high = _parse_index(limits[1])
            if high >= completions:
                raise IndexListError(f'too large index: "{limits[1]}"')
            if last >= high:
                raise IndexListError(f"non-increasing order, previous: {last}, current: {high}")
            total += high - low
            last = high
    return total
