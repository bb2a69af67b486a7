"""``--fix`` and ``--diff`` on streams of many documents: each document's edits are written into
its own lines, memory and time stay linear, and the diff is the one difflib gives for the whole
file (it matches only the edited documents' lines, but prints the same hunks)."""

from __future__ import annotations

import difflib

import pytest

from jobguard.lint.fix import plan_fix
from jobguard.lint.unified_diff import _opcodes
from tests.helpers import lint_text

FIXABLE = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job-{i}\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: main\n        image: busybox:1.36\n"
)
CLEAN = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i}\ndata:\n"
    "  a: '1'\n  b: '2'\n  c: '3'\n  d: '4'\n"
)

STREAMS = {
    "one document": FIXABLE.format(i=0),
    "comment before the first document": "# rendered by a tool\n" + FIXABLE.format(i=0),
    "fixable documents side by side": "---\n".join(FIXABLE.format(i=i) for i in range(6)),
    "fixable and clean documents interleaved": "---\n".join(
        (FIXABLE if i % 3 == 0 else CLEAN).format(i=i) for i in range(9)
    ),
    "explicit document ends": "".join(f"---\n{FIXABLE.format(i=i)}...\n" for i in range(3)),
    "no final newline": "---\n".join(FIXABLE.format(i=i) for i in range(3)).rstrip("\n"),
    "windows line ends": "---\n".join(FIXABLE.format(i=i) for i in range(3)).replace("\n", "\r\n"),
    "a byte-order mark": "\ufeff" + "---\n".join(FIXABLE.format(i=i) for i in range(2)),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_the_diff_is_difflibs_whole_file_diff(name: str) -> None:
    text = STREAMS[name]
    plan = plan_fix(lint_text(text), text.encode())
    assert plan.refused is None
    assert plan.changed
    whole = difflib.unified_diff(
        plan.original.splitlines(keepends=True),
        plan.fixed.splitlines(keepends=True),
        fromfile=plan._label("a"),
        tofile=plan._label("b"),
    )
    expected = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in whole
    )
    assert plan.diff() == expected
    # ... and it came from matching the edited documents' lines only
    assert _opcodes(plan.original.splitlines(True), plan.fixed.splitlines(True), plan.regions)


def test_every_document_of_a_stream_is_fixed_and_the_others_kept_byte_for_byte() -> None:
    text = "---\n".join((FIXABLE if i % 2 else CLEAN).format(i=i) for i in range(40))
    plan = plan_fix(lint_text(text), text.encode())
    assert plan.refused is None
    one = plan_fix(lint_text(FIXABLE.format(i=0)), FIXABLE.format(i=0).encode()).fixed
    assert one != FIXABLE.format(i=0)
    assert plan.fixed.split("---\n") == [
        one.replace("job-0", f"job-{i}") if i % 2 else CLEAN.format(i=i) for i in range(40)
    ]
    assert (
        plan.applied
        == 20 * plan_fix(lint_text(FIXABLE.format(i=0)), FIXABLE.format(i=0).encode()).applied
    )
