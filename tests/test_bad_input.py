"""Bad input: every case gets a clear message with a position, and the rest of the run goes on."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobguard.lint.linter import lint_bytes, lint_paths
from jobguard.policy.model import builtin_defaults
from jobguard.yamlsource import MAX_EXPANDED_NODES, parse_stream

POLICY = builtin_defaults()

GOOD_JOB = b"""apiVersion: batch/v1
kind: Job
metadata: {name: ok}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""


def problems(raw: bytes) -> list[tuple[str, int, int]]:
    return [(p.message, p.line, p.column) for p in lint_bytes("f.yaml", raw, POLICY).problems]


def test_invalid_yaml_is_reported_with_its_line_and_earlier_documents_are_kept() -> None:
    raw = GOOD_JOB + b"---\nkind: Job\nspec: [unclosed\n"
    result = lint_bytes("f.yaml", raw, POLICY)
    assert [o.name for o in result.objects] == ["ok"]
    ((message, line, column),) = [(p.message, p.line, p.column) for p in result.problems]
    assert message.startswith("invalid YAML: ")
    assert (line, column) == (12, 1)


def test_a_document_that_is_not_a_mapping_is_reported() -> None:
    assert problems(b"- just\n- a list\n") == [
        ("document 1 is a list, not a Kubernetes object", 1, 1)
    ]
    assert problems(b'"a string"\n') == [("document 1 is a str, not a Kubernetes object", 1, 1)]


def test_binary_junk_and_bad_encodings_are_refused_cleanly() -> None:
    assert problems(b"\x7fELF\x02\x01\x01\x00\x00\x00") == [
        ("not a text file (it contains NUL bytes)", 0, 0)
    ]
    assert problems(b"kind: Job\nname: \xff\xfe\n") == [
        ("not UTF-8 text (invalid byte at offset 16)", 0, 0)
    ]


def test_an_empty_file_is_a_warning_not_an_error() -> None:
    result = lint_bytes("empty.yaml", b"", POLICY)
    assert [(p.message, p.severity.value) for p in result.problems] == [
        ("empty file: no documents to lint", "warning")
    ]
    assert (
        lint_bytes("c.yaml", b"# only a comment\n", POLICY).problems[0].severity.value == "warning"
    )


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    layers = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        layers.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = ("\n".join(layers) + "\n").encode()
    start = time.monotonic()
    found = problems(bomb)
    assert time.monotonic() - start < 10
    assert found == [
        (
            f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases; refusing it",
            1,
            1,
        )
    ]


def test_ordinary_anchors_and_aliases_still_work() -> None:
    raw = GOOD_JOB.replace(
        b"metadata: {name: ok}", b"metadata: {name: ok, labels: &l {app: x}, annotations: *l}"
    )
    result = lint_bytes("f.yaml", raw, POLICY)
    assert not result.problems and [o.name for o in result.objects] == ["ok"]


def test_deep_flow_nesting_is_refused_before_it_can_crash_the_parser() -> None:
    # libyaml's composer recurses in C: ~50,000 levels kill the process with SIGSEGV.
    raw = b"[" * 100_000 + b"]" * 100_000
    assert problems(raw) == [("nesting deeper than 1000 levels; refusing to parse", 1, 0)]


def test_json_nested_too_deeply_to_judge_is_a_problem_not_a_rule_failure() -> None:
    # Parseable (under Python's ~1,000 levels) but deeper than a rule's walk can recurse.
    raw = GOOD_JOB.replace(b"spec:\n  template:", b"spec:\n  x: SLOT\n  template:")
    raw = raw.replace(b"SLOT", b"[" * 900 + b"]" * 900)
    result = lint_bytes("f.yaml", raw, POLICY)
    assert [(p.message, p.line) for p in result.problems] == [
        ("object is nested too deeply to be judged", 1)
    ]
    assert result.objects == ()


def test_a_huge_file_is_refused_without_being_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.write(GOOD_JOB)
        fh.write(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    other = tmp_path / "other.yaml"
    other.write_bytes(GOOD_JOB)
    result = lint_paths([str(big), str(other)], POLICY, jobs=1)
    by_file = {f.file: f for f in result.files}
    (problem,) = by_file[str(big)].problems
    assert (
        problem.message
        == f"file is over the 16,777,216-byte limit ({big.stat().st_size:,} bytes); not parsed"
    )
    assert [o.name for o in by_file[str(other)].objects] == ["ok"]


def test_json_with_tab_indentation_falls_back_to_the_json_parser() -> None:
    raw = b'{\n\t"apiVersion": "batch/v1",\n\t"kind": "Job",\n\t"metadata": {"name": "tabbed"},\n\t"spec": {}\n}\n'
    result = lint_bytes("f.json", raw, POLICY)
    assert not result.problems
    assert [o.name for o in result.objects] == ["tabbed"]


def test_invalid_json_gets_line_and_column() -> None:
    raw = b'{\n\t"kind": "Job",\n\t"spec": {,}\n}\n'
    assert problems(raw) == [
        ("invalid JSON: Expecting property name enclosed in double quotes", 3, 11)
    ]


def test_wrong_types_never_crash_a_rule() -> None:
    raw = b"""apiVersion: batch/v1
kind: Job
metadata: [not, a, map]
spec:
  backoffLimit: "six"
  parallelism: true
  template:
    spec: "nope"
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: 42
"""
    result = lint_bytes("f.yaml", raw, POLICY)
    assert not result.problems
    assert all(lf.finding.rule != "internal-error" for o in result.objects for lf in o.findings)


def test_list_kinds_are_unpacked_with_positions_inside_the_list() -> None:
    raw = b"""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
- apiVersion: batch/v1
  kind: Job
  metadata: {name: in-list}
  spec:
    template:
      spec:
        containers: [{name: main, image: busybox:1.36}]
"""
    result = lint_bytes("list.yaml", raw, POLICY)
    assert result.skipped == 1
    ((obj),) = result.objects
    finding = next(lf for lf in obj.findings if lf.finding.rule == "restart-policy")
    assert (finding.line, finding.column) == (11, 7)  # the nearest existing parent: template.spec


def test_nothing_in_the_parser_raises_on_random_bytes() -> None:
    import random

    rng = random.Random(1234)
    alphabet = b"{}[]:,-&*!|>'\"#%@` \n\tab01\x00\xff"
    for _ in range(300):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        parse_stream(raw)
        lint_bytes("r.yaml", raw, POLICY)


@pytest.mark.parametrize("extra", [1, 3 * 1024 * 1024 + 5])
def test_an_oversized_stdin_is_reported_with_its_real_size(extra: int) -> None:
    limit = 1024 * 1024
    data = GOOD_JOB + b"# " + b"x" * (limit + extra - len(GOOD_JOB) - 3) + b"\n"
    run = subprocess.run(
        [sys.executable, "-m", "jobguard", "lint", "--max-file-size", str(limit), "-"],
        input=data,
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert (
        f"<stdin>: error input file is over the 1,048,576-byte limit ({len(data):,} bytes); "
        "not parsed"
    ) in run.stdout.decode()
