"""Hostile input to the linter: it reports and goes on, never raises, never hangs.

Property tests (hypothesis, derandomized so CI runs the same examples every time) over
``lint_bytes`` and ``lint_paths``, the ``jobguard lint`` command, and the policy loader: random
bytes, YAML and JSON; a wrong type at every field of a Job and a CronJob; deep nesting; huge
strings and unicode names; alias bombs; a 10 MB document; streams mixing good and bad documents.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import policy as policy_target
from jobguard.lint.linter import lint_paths
from tests.reliability.documents import POLICY, field_paths, lint, replaced

PROPERTIES = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": "batch", "labels": {"app": "pi"}},
    "spec": {
        "backoffLimit": 4,
        "ttlSecondsAfterFinished": 3600,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "pi",
                        "image": "perl:5.34",
                        "command": ["perl", "-e", "print 1"],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    }
                ],
            }
        },
    },
}
CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "nightly", "namespace": "batch"},
    "spec": {
        "schedule": "0 3 * * *",
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {"spec": JOB["spec"]},
    },
}
WRONG_VALUES: list[Any] = ["six", 10**30, -1, 1.5, True, None, [], [1, "x"], {"a": {"b": 1}}]


def dump(obj: Any) -> bytes:
    return yaml.safe_dump(obj, sort_keys=False).encode()


# -- random input -------------------------------------------------------------------------------


@PROPERTIES
@given(st.binary(max_size=2000))
def test_random_bytes_are_reported_not_raised(raw: bytes) -> None:
    lint(raw)


YAML_TOKENS = [*"abcdeKJ:-[]{},&*!|>'\"#%@`? \n\t0123456789.", "kind: Job\n", "spec:\n  "]
YAMLISH = st.lists(st.sampled_from(YAML_TOKENS), max_size=200).map("".join)


@PROPERTIES
@given(YAMLISH)
def test_random_yaml_text_is_reported_not_raised(text: str) -> None:
    lint(text.encode())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)


@PROPERTIES
@given(JSON_VALUES)
def test_random_json_documents_are_reported_not_raised(value: Any) -> None:
    result = lint(json.dumps(value).encode())
    if not isinstance(value, dict) and value is not None:
        assert result.problems  # a document that is not a mapping is said to be one


@PROPERTIES
@given(
    st.sampled_from([JOB, CRONJOB]),
    st.data(),
    st.sampled_from(WRONG_VALUES),
)
def test_a_wrong_type_anywhere_in_a_job_is_reported_not_raised(
    obj: dict[str, Any], data: st.DataObject, wrong: Any
) -> None:
    path = data.draw(st.sampled_from([p for p in field_paths(obj) if p != ("kind",)]))
    lint(dump(replaced(obj, path, wrong)))


def test_every_field_of_a_job_and_a_cronjob_takes_every_wrong_type() -> None:
    """Exhaustively, not sampled: each field path times each wrong value."""
    checked = 0
    for obj in (JOB, CRONJOB):
        for path in field_paths(obj):
            if path == ("kind",):
                continue
            for wrong in WRONG_VALUES:
                result = lint(dump(replaced(obj, path, wrong)))
                assert len(result.objects) + len(result.problems) >= 1
                checked += 1
    assert checked > 400


UNICODE_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=300
)


@PROPERTIES
@given(UNICODE_NAMES)
def test_unicode_names_are_judged(name: str) -> None:
    obj = replaced(JOB, ("metadata", "name"), name)
    result = lint(json.dumps(obj).encode())
    assert len(result.objects) == 1


# -- size, depth, aliases -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 999, 1001, 50_000])
def test_deep_flow_nesting(depth: int) -> None:
    raw = b"kind: Job\nspec: " + b"[" * depth + b"]" * depth + b"\n"
    started = time.monotonic()
    result = lint(raw)
    assert time.monotonic() - started < 5
    if depth > 1000:
        assert [p.message for p in result.problems] == [
            "nesting deeper than 1000 levels; refusing to parse"
        ]


@pytest.mark.parametrize("depth", [100, 900, 3000])
def test_deep_block_nesting(depth: int) -> None:
    raw = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: deep}\nspec:\n"
    raw += "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))
    started = time.monotonic()
    result = lint(raw.encode())
    assert time.monotonic() - started < 10
    assert result.objects or result.problems


@pytest.mark.parametrize("width", [9, 20])
def test_alias_bombs_are_refused_quickly(width: int) -> None:
    lines = ["a0: &a0 [x]"]
    for i in range(1, width + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"kind: Job\nspec: *a{width}")
    started = time.monotonic()
    result = lint("\n".join(lines).encode())
    elapsed = time.monotonic() - started
    print(f"\nalias bomb of 10^{width} nodes refused in {elapsed * 1000:.0f} ms")
    assert elapsed < 5
    assert any("through YAML aliases" in p.message for p in result.problems)


def test_a_10_mb_document_is_linted_in_bounded_time() -> None:
    obj = json.loads(json.dumps(JOB))
    obj["metadata"]["annotations"] = {"blob": "x" * (10 * 1024 * 1024)}
    # libyaml's emitter: PyYAML's own took 11 s to write the 10 MB value (the lint: 0.3 s)
    raw = yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False).encode()
    assert len(raw) > 10 * 1024 * 1024
    started = time.monotonic()
    result = lint(raw)
    elapsed = time.monotonic() - started
    print(f"\n10 MB document linted in {elapsed:.2f} s")
    assert elapsed < 30
    assert [
        f.finding.rule for f in result.objects[0].findings if f.finding.rule == "api-object-meta"
    ]


def test_good_documents_around_bad_ones_are_still_linted() -> None:
    good = dump(JOB).decode()
    bad_type = "kind: Job\nspec: 5\n"
    stream = "---\n".join([good, "just a string\n", good, "- 1\n- 2\n", bad_type, good])
    result = lint(stream.encode())
    assert [o.document for o in result.objects] == [0, 2, 4, 5]
    assert [p.message for p in result.problems] == [
        "document 2 is a str, not a Kubernetes object",
        "document 4 is a list, not a Kubernetes object",
    ]


def test_a_syntax_error_ends_the_stream_but_keeps_what_came_before() -> None:
    # YAML cannot resume after a syntax error, so documents after it are lost (as with kubectl);
    # the ones before it are still linted and the error names its line.
    good = dump(JOB).decode()
    result = lint("---\n".join([good, good, "kind: [unclosed\n", good]).encode())
    assert [o.document for o in result.objects] == [0, 1]
    assert len(result.problems) == 1
    assert result.problems[0].message.startswith("invalid YAML: ")
    # The unclosed "[" is on line 2n + 3; YAML notices it at the start of the next line.
    assert result.problems[0].line == 2 * good.count("\n") + 4


def test_a_bad_file_among_good_ones_is_reported_and_the_rest_linted(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"good-{i}.yaml").write_bytes(dump(JOB))
    (tmp_path / "bad.yaml").write_bytes(b"\x00\x01 not yaml \xff")
    (tmp_path / "bomb.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else '*a'] * 10)}]\n" for i in range(8)
        )
    )
    result = lint_paths([str(tmp_path)], POLICY)
    assert len(result.objects) == 3
    assert sorted(Path(p.file).name for p in result.problems) == ["bad.yaml", "bomb.yaml"]


def test_the_command_reports_a_hostile_file_and_exits_2(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_bytes(b"kind: Job\nspec: " + b"[" * 5000)
    run = subprocess.run(
        [sys.executable, "-m", "jobguard", "lint", str(hostile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert str(hostile) in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr


# -- policy files -------------------------------------------------------------------------------

POLICY_TEXT = st.one_of(
    YAMLISH,
    st.builds(
        lambda rules: yaml.safe_dump(
            {"apiVersion": "jobguard.dev/v1", "kind": "Policy", "rules": rules}
        ),
        st.dictionaries(
            st.sampled_from(
                ["restart-policy", "backoff-limit", "resources", "nope", "ttl-after-finished"]
            ),
            st.dictionaries(
                st.sampled_from(["action", "default", "max", "min", "allowed", "scope", "x"]),
                JSON_VALUES,
                max_size=3,
            ),
            max_size=3,
        ),
    ),
)


@PROPERTIES
@given(POLICY_TEXT)
def test_a_hostile_policy_file_fails_only_with_a_policy_error(text: str) -> None:
    policy_target(text.encode())
