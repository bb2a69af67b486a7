"""Unified diffs of ``--diff`` that stay linear in the size of a file.

``difflib.unified_diff`` matches the whole of both files, and on a stream of thousands of
similar documents its longest-match search is quadratic (500 Jobs, 17,000 lines: 16 s).
``--fix`` knows where it wrote: only inside the lines of the documents it edited. So the two
texts are equal outside those regions and each region is matched on its own; the hunks are then
grouped and printed exactly as ``difflib.unified_diff`` does (same context, same headers).
Where the regions do not describe the texts (their gaps differ), the whole files are matched.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Literal

#: (first line, end line) of an edited region in the original, then in the fixed text.
Region = tuple[int, int, int, int]
Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class _Known(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """A matcher whose opcodes are already known (grouping is difflib's own)."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._known = opcodes

    def get_opcodes(self) -> list[Opcode]:
        return list(self._known)


def _opcodes(a: Sequence[str], b: Sequence[str], regions: Sequence[Region]) -> list[Opcode] | None:
    """The opcodes of ``a`` -> ``b`` with matching limited to ``regions``; None when the texts
    differ outside them."""
    codes: list[Opcode] = []

    def equal(i1: int, i2: int, j1: int, j2: int) -> bool:
        if i2 - i1 != j2 - j1 or i1 > i2 or a[i1:i2] != b[j1:j2]:
            return False
        if i2 > i1:
            if codes and codes[-1][0] == "equal":
                _, p1, _, q1, _ = codes.pop()
                i1, j1 = p1, q1
            codes.append(("equal", i1, i2, j1, j2))
        return True

    i = j = 0
    for i1, i2, j1, j2 in regions:
        if not equal(i, i1, j, j1) or i2 > len(a) or j2 > len(b):
            return None
        for tag, x1, x2, y1, y2 in difflib.SequenceMatcher(
            None, a[i1:i2], b[j1:j2], autojunk=False
        ).get_opcodes():
            if tag == "equal":
                equal(i1 + x1, i1 + x2, j1 + y1, j1 + y2)
            else:
                codes.append((tag, i1 + x1, i1 + x2, j1 + y1, j1 + y2))
        i, j = i2, j2
    if not equal(i, len(a), j, len(b)):
        return None
    return codes


def _range(start: int, stop: int) -> str:
    """A hunk header's range, as difflib spells it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def unified_diff(
    a: Sequence[str], b: Sequence[str], fromfile: str, tofile: str, regions: Sequence[Region] = ()
) -> Iterator[str]:
    """``difflib.unified_diff(a, b, fromfile, tofile)``, matching only inside ``regions`` when
    they are given and describe the texts."""
    codes = _opcodes(a, b, regions) if regions else None
    if codes is None:
        yield from difflib.unified_diff(a, b, fromfile=fromfile, tofile=tofile)
        return
    started = False
    for group in _Known(codes).get_grouped_opcodes(3):
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in b[j1:j2])
