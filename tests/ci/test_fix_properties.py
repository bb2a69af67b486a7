"""Properties of ``--fix`` over generated manifests in the common styles.

For every generated file: the fix is applied (never refused), the result lints clean of the
fixable findings, a second fix changes nothing, and the diff only inserts lines of fixed fields
or replaces a ``restartPolicy`` line: every other line (comments included) stays byte for byte.
"""

from __future__ import annotations

import difflib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobguard.lint.fix import plan_fix
from jobguard.lint.linter import lint_bytes
from tests.ci.conftest import FIX_FIXTURES
from tests.ci.test_fix import POLICY, fixable_pairs, only_fixable

FIXED_KEYS = {
    "restartPolicy",
    "completions",
    "parallelism",
    "backoffLimit",
    "ttlSecondsAfterFinished",
}


@st.composite
def manifests(draw: st.DrawFn) -> str:
    mapping = draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from([0, 2]))  # kubectl: dashes at the key's indent; helm: indented
    kind = draw(st.sampled_from(["Job", "CronJob"]))

    def ind(level: int) -> str:
        return " " * (mapping * level)

    lines = ["apiVersion: batch/v1", f"kind: {kind}", "metadata:", f"{ind(1)}name: gen"]
    lines.append("spec:")
    depth = 1
    if kind == "CronJob":
        lines += [f'{ind(1)}schedule: "0 3 * * *"', f"{ind(1)}jobTemplate:", f"{ind(2)}spec:"]
        depth = 3
    for key, value in [
        ("backoffLimit", 3),
        ("completions", 2),
        ("parallelism", 2),
        ("ttlSecondsAfterFinished", 60),
    ]:
        if draw(st.booleans()):
            lines.append(f"{ind(depth)}{key}: {value}")
    lines += [f"{ind(depth)}template:", f"{ind(depth + 1)}spec:"]
    restart = draw(st.sampled_from([None, "Always", "Never", "OnFailure", '""']))
    containers = [
        f"{ind(depth + 2)}containers:",
        f"{ind(depth + 2)}{' ' * dash}- name: main",
        f"{ind(depth + 2)}{' ' * dash}  image: busybox",
    ]
    body = [f"{ind(depth + 2)}restartPolicy: {restart}"] if restart else []
    lines += (body + containers) if draw(st.booleans()) else (containers + body)
    # comments: whole-line comments after any line, trailing comments on some lines
    out: list[str] = []
    for line in lines:
        if draw(st.integers(0, 4)) == 0 and not line.endswith(":"):
            line += "   # note"
        out.append(line)
        if draw(st.integers(0, 5)) == 0:
            out.append(" " * draw(st.integers(0, 8)) + "# a comment")
    text = "\n".join(out) + "\n"
    if draw(st.booleans()):
        text = (
            "# header\n---\n" + text + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
        )
    return text


def key_of(line: str) -> str:
    return line.strip().lstrip("- ").split(":", 1)[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
def test_fix_only_touches_the_fixed_fields_and_converges(text: str) -> None:
    result = only_fixable(lint_bytes("gen.yaml", text.encode(), POLICY))
    planned = plan_fix(result, text.encode())
    assert planned.refused is None
    fixed = planned.fixed
    assert fixable_pairs(only_fixable(lint_bytes("gen.yaml", fixed.encode(), POLICY))) == []
    again = plan_fix(only_fixable(lint_bytes("gen.yaml", fixed.encode(), POLICY)), fixed.encode())
    assert again.fixed == fixed

    old, new = text.splitlines(), fixed.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old, new, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        assert tag in ("insert", "replace"), (tag, old[i1:i2], new[j1:j2])
        assert all(key_of(line) == "restartPolicy" for line in old[i1:i2]), old[i1:i2]
        assert all(key_of(line) in FIXED_KEYS for line in new[j1:j2]), new[j1:j2]


SEEDS = sorted(p.read_text() for p in FIX_FIXTURES.glob("*.yaml"))
NOISE = [
    *":-[]{}#&*!|>'\"\n \t,?%@`~\\\r",
    "---\n",
    "...\n",
    "- ",
    "\ufeff",
    "é",
    "\u2028",
    "k: v\n",
]


@st.composite
def damaged(draw: st.DrawFn) -> str:
    chars = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(chars) - 1))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            chars.insert(i, draw(st.sampled_from(NOISE)))
        elif action == "delete":
            del chars[i]
        else:
            chars[i] = draw(st.sampled_from(NOISE))
    return "".join(chars)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_fix_never_raises_and_whatever_it_writes_reads_back_fixed(text: str) -> None:
    raw = text.encode()
    planned = plan_fix(lint_bytes("f.yaml", raw, POLICY), raw)
    if planned.refused is not None or not planned.changed:
        assert planned.fixed == planned.original
        return
    after = lint_bytes("f.yaml", planned.fixed.encode(), POLICY)
    # The same input problems, though maybe lower down: fixes above them add lines.
    before = lint_bytes("f.yaml", raw, POLICY).problems
    assert [(p.message, p.severity) for p in after.problems] == [
        (p.message, p.severity) for p in before
    ]
    assert fixable_pairs(only_fixable(after)) == []
