"""Hostile manifests and policies that YAML itself makes possible, through the whole linter.

test_linter_inputs.py throws random bytes, text, JSON and wrong types at ``lint_bytes``; this
module covers what only YAML's own features produce, and the output side: values JSON cannot hold
(timestamps, binary, sets, ``.nan``, keys that are not strings) at every field of a Job and a
CronJob; merge-key (``<<``) bombs, which grew tenfold per level before the loader kept only the
last merged pair of each key, and merges read exactly as PyYAML reads them; value alias bombs of
several shapes with good documents before them; streams mixing good and bad documents, counted
exactly; lone surrogates and file names that are not UTF-8 through every output format of the
command (both once ended in a traceback); and hostile policy files, refused with PolicyError
problems that name the file, line and column.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import RULE_NAMES
from jobguard.core.engine import bounded
from jobguard.lint.linter import lint_paths
from jobguard.policy.loader import PolicyError, PolicyProblem, load_policy
from tests.reliability.documents import (
    POLICY,
    FieldPath,
    check_well_formed,
    field_paths,
    lint,
    replaced,
)
from tests.webhook.support import fixture_object

JOB = fixture_object("001-mutate-Job-CREATE-pi.json")
CRONJOB = fixture_object("010-mutate-CronJob-CREATE-nightly-report.json")
PROPERTIES = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ALIAS_REFUSAL = "document expands to more than 1,000,000 nodes through YAML aliases; refusing it"

MARKER = "HOSTILE-VALUE-GOES-HERE"
#: YAML text for values a JSON manifest cannot hold, which kubectl still turns into JSON (dates
#: and impossible dates are strings, binary and sets become what sigs.k8s.io/yaml sends).
NATIVE_VALUES = (
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-02-30",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1, b: 2]",
    "!!pairs [a: 1, a: 2]",
    "0o17",
    "{1: x, true: z, 2.5: w}",
    "[*anchored, *anchored]",
)
#: Values the safe constructor refuses, or kubectl cannot send as JSON (NaN and infinities, a
#: null mapping key): the document is one input problem. ``.nan`` as a resource quantity once
#: made api-pod-template raise (Decimal NaN comparisons), reported as an internal error.
UNCONSTRUCTIBLE = ("{? [1, 2] : unhashable}", ".nan", ".inf", "-.inf", "{null: y}")


def native_template(obj: dict[str, Any], path: FieldPath) -> str:
    """The object as YAML with a marker where the value at ``path`` goes (written once per
    field: PyYAML's emitter costs more than linting the result)."""
    document = yaml.safe_dump(replaced(obj, path, MARKER), sort_keys=False)
    assert document.count(MARKER) == 1
    return "x-anchor: &anchored {k: v}\n" + document


def with_native(obj: dict[str, Any], path: FieldPath, text: str, template: str = "") -> bytes:
    return (template or native_template(obj, path)).replace(MARKER, text).encode()


def native_cases() -> list[tuple[dict[str, Any], FieldPath]]:
    return [(obj, path) for obj in (JOB, CRONJOB) for path in field_paths(obj)]


def test_values_only_yaml_can_spell_are_judged_at_every_field() -> None:
    """Exhaustive: each field of a Job and a CronJob, each value; one object, judged."""
    checked = 0
    for obj, path in native_cases():
        template = native_template(obj, path)
        for text in NATIVE_VALUES:
            result = lint(with_native(obj, path, text, template))
            assert not result.problems, (path, text, result.problems)
            assert len(result.objects) + result.skipped == 1, (path, text)
            if path != ("kind",):
                assert len(result.objects) == 1, (path, text)
            checked += 1
    assert checked == len(native_cases()) * len(NATIVE_VALUES) > 1000


@pytest.mark.parametrize("text", UNCONSTRUCTIBLE)
def test_values_the_safe_loader_refuses_are_one_input_problem(text: str) -> None:
    for obj, path in native_cases()[::7]:
        result = lint(with_native(obj, path, text))
        assert result.objects == ()
        assert len(result.problems) == 1
        assert result.problems[0].message.startswith(("invalid YAML: ", "invalid YAML value: "))


# -- merge keys --------------------------------------------------------------------------------


def merge_bomb(levels: int, style: str) -> str:
    """Each level merges the previous one ten times: as a list, or as ten ``<<`` keys."""
    lines = ["m0: &m0 {k: v, j: w}"]
    for i in range(1, levels + 1):
        if style == "list":
            lines.append(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}")
        else:
            lines.append(f"m{i}: &m{i} {{{', '.join([f'<<: *m{i - 1}'] * 10)}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("style", ["list", "repeated-keys"])
def test_a_merge_key_bomb_is_read_in_linear_time(style: str) -> None:
    """Nine levels were 10^9 copied pairs (7 levels took 11 s); now each level keeps two."""
    job = yaml.safe_dump(JOB, sort_keys=False).replace("\nspec:\n", "\nspec:\n  <<: *m9\n", 1)
    text = merge_bomb(9, style) + job
    started = time.monotonic()
    result = lint(text.encode())
    elapsed = time.monotonic() - started
    print(f"\nmerge-key bomb of 9 levels ({style}) linted in {elapsed * 1000:.0f} ms")
    assert elapsed < 2
    assert len(result.objects) == 1 and not result.problems


#: Number keys become strings, as in kubectl's JSON. No null key (kubectl refuses it) and no
#: ``true`` beside ``1`` (PyYAML, the oracle here, folds True and 1 into one Python key).
KEYS = st.sampled_from(["a", "b", "c", "1", "2"])
MAPPINGS = st.lists(
    st.tuples(
        st.dictionaries(KEYS, st.integers(0, 9), max_size=3),
        st.lists(st.integers(0, 10), max_size=4),
        st.sampled_from(["single", "list", "repeated"]),
    ),
    min_size=1,
    max_size=6,
)


def merging_document(mappings: list[tuple[dict[str, int], list[int], str]]) -> str:
    """m0..mN, each with its own keys and merges of earlier ones in one of three spellings."""
    lines = []
    for i, (own, merges, style) in enumerate(mappings):
        sources = [f"*m{j % i}" for j in merges] if i else []
        entries = [f"{key}: {value}" for key, value in own.items()]
        if sources and style == "single":
            entries.insert(0, f"<<: {sources[0]}")
        elif sources and style == "list":
            entries.insert(0, f"<<: [{', '.join(sources)}]")
        elif sources:
            entries[:0] = [f"<<: {source}" for source in sources]
        lines.append(f"m{i}: &m{i} {{{', '.join(entries)}}}")
    return "\n".join(lines) + "\n"


@PROPERTIES
@given(MAPPINGS)
def test_merges_read_exactly_as_pyyaml_reads_them(
    mappings: list[tuple[dict[str, int], list[int], str]],
) -> None:
    from jobguard.yamlsource import parse_stream

    text = merging_document(mappings)
    stream = parse_stream(text.encode())
    assert not stream.errors
    assert stream.documents[0].data == merged_as_pyyaml_reads_one_level(mappings)


def merged_as_pyyaml_reads_one_level(
    mappings: list[tuple[dict[str, int], list[int], str]],
) -> dict[str, Any]:
    """What each mapping reads as, by PyYAML, one merge level at a time: the mappings a line
    merges are written out flat with what they read as, so PyYAML never merges a mapping that
    merges others itself. There PyYAML reads a merged mapping's merged keys over its own
    (``m1: {<<: *m0, a: 1}`` then ``m2: {<<: *m1}`` gives m2 ``a: 0``), unlike go-yaml, which
    merges what the merged mapping decodes to (``a: 1``), as kubectl reads it."""
    full = merging_document(mappings).splitlines()
    read: dict[str, Any] = {}
    for i, line in enumerate(full):
        flat = [
            f"m{j}: &m{j} {{{', '.join(f'{k}: {v}' for k, v in read[f'm{j}'].items())}}}"
            for j in range(i)
        ]
        doc = json_keys(yaml.load("\n".join([*flat, line]) + "\n", Loader=yaml.SafeLoader))
        read[f"m{i}"] = doc[f"m{i}"]
    return read


def test_a_merged_mapping_contributes_what_it_reads_as() -> None:
    from jobguard.yamlsource import parse_stream

    text = "m0: &m0 {a: 0}\nm1: &m1 {<<: *m0, a: 1}\nm2: &m2 {<<: *m1}\n"
    assert parse_stream(text.encode()).documents[0].data == {
        "m0": {"a": 0},
        "m1": {"a": 1},
        "m2": {"a": 1},
    }
    mappings = [({"a": 0}, [], "single"), ({"a": 1}, [0], "single"), ({}, [1], "single")]
    assert merging_document(mappings) == text
    assert merged_as_pyyaml_reads_one_level(mappings)["m2"] == {"a": 1}


def json_keys(value: Any) -> Any:
    """PyYAML's reading with mapping keys spelt as kubectl's JSON spells them."""
    if isinstance(value, dict):
        return {
            (str(k).lower() if isinstance(k, bool) else str(k)): json_keys(v)
            for k, v in value.items()
        }
    return value


# -- value alias bombs -------------------------------------------------------------------------


def alias_bomb(levels: int, shape: str) -> str:
    lines = ["b0: &b0 [x]"]
    for i in range(1, levels + 1):
        refs = [f"*b{i - 1}"] * 10
        if shape == "mapping":
            lines.append(f"b{i}: &b{i} {{{', '.join(f'k{n}: {r}' for n, r in enumerate(refs))}}}")
        elif shape == "block":
            lines.append(f"b{i}: &b{i}\n" + "".join(f"  - {r}\n" for r in refs).rstrip("\n"))
        else:
            lines.append(f"b{i}: &b{i} [{', '.join(refs)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shape", ["flow", "mapping", "block"])
def test_alias_bombs_after_a_good_document_are_refused_and_the_document_kept(shape: str) -> None:
    good = yaml.safe_dump(JOB, sort_keys=False)
    bomb = alias_bomb(12, shape) + "kind: Job\nspec: *b12\n"
    started = time.monotonic()
    result = lint(f"{good}---\n{bomb}".encode())
    elapsed = time.monotonic() - started
    print(f"\nalias bomb of 10^12 nodes ({shape}) refused in {elapsed * 1000:.0f} ms")
    assert elapsed < 5
    assert [o.name for o in result.objects] == [JOB["metadata"]["name"]]
    assert [(p.message, p.line) for p in result.problems] == [(ALIAS_REFUSAL, good.count("\n") + 2)]


def test_an_alias_bomb_in_a_list_of_items_is_refused() -> None:
    bomb = alias_bomb(12, "flow") + "kind: List\nitems: [{kind: Job, spec: *b12}]\n"
    result = lint(bomb.encode())
    assert result.objects == ()
    assert [p.message for p in result.problems] == [ALIAS_REFUSAL]


# -- streams mixing good and bad documents ------------------------------------------------------

#: (document text, Jobs/CronJobs it holds, input problems it causes, documents skipped)
DOCUMENTS = {
    "job": (yaml.safe_dump(JOB), 1, 0, 0),
    "cronjob": (yaml.safe_dump(CRONJOB), 1, 0, 0),
    "wrong-types": (yaml.safe_dump(replaced(JOB, ("spec",), [1, "x", None])), 1, 0, 0),
    "native-values": (with_native(JOB, ("spec", "backoffLimit"), "!!set {a}").decode(), 1, 0, 0),
    "configmap": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", 0, 0, 1),
    "scalar": ("just a string\n", 0, 1, 0),
    "list": ("- 1\n- 2\n", 0, 1, 0),
    "empty": ("", 0, 0, 0),
    "job-list": (yaml.safe_dump({"kind": "List", "items": [JOB, 7, CRONJOB]}), 2, 1, 0),
}


@PROPERTIES
@given(st.lists(st.sampled_from(sorted(DOCUMENTS)), min_size=1, max_size=8))
def test_every_good_document_of_a_mixed_stream_is_linted(names: list[str]) -> None:
    stream = "---\n".join(DOCUMENTS[name][0] for name in names)
    result = lint(stream.encode())
    documents = [DOCUMENTS[name] for name in names]
    assert len(result.objects) == sum(d[1] for d in documents)
    assert result.skipped == sum(d[3] for d in documents)
    problems = sum(d[2] for d in documents)
    if problems or any(d[1] or d[3] for d in documents):
        assert len(result.problems) == problems
    else:  # nothing but empty documents
        assert [p.message for p in result.problems] == ["empty file: no documents to lint"]


@PROPERTIES
@given(st.lists(st.sampled_from(["job", "cronjob", "scalar"]), max_size=5))
def test_documents_before_a_syntax_error_are_linted(names: list[str]) -> None:
    before = "---\n".join(DOCUMENTS[name][0] for name in names)
    broken = "kind: Job\nspec: {backoffLimit: [unclosed\n"
    text = f"{before}---\n{broken}" if names else broken
    result = lint(text.encode())
    assert len(result.objects) == sum(DOCUMENTS[name][1] for name in names)
    syntax = [p for p in result.problems if p.message.startswith("invalid YAML: ")]
    assert len(syntax) == 1 and syntax[0].line > text.count("\n") - 2
    assert len(result.problems) - 1 == sum(DOCUMENTS[name][2] for name in names)


# -- a hostile directory, in-process and through the command -----------------------------------

SURROGATE_JOB = json.dumps(replaced(JOB, ("metadata", "name"), "pi-\ud800")).encode()


def hostile_directory(root: Path) -> dict[str, int]:
    """Good files beside hostile ones; returns the Jobs/CronJobs each file holds."""
    expected = {}
    for i in range(3):
        (root / f"good-{i}.yaml").write_text(yaml.safe_dump(JOB))
        expected[f"good-{i}.yaml"] = 1
    (root / "lone-surrogate.json").write_bytes(SURROGATE_JOB)
    expected["lone-surrogate.json"] = 1
    (root / "merge-bomb.yaml").write_text(merge_bomb(9, "list") + yaml.safe_dump(CRONJOB))
    expected["merge-bomb.yaml"] = 1
    not_utf8 = os.fsdecode(b"\xff-not-utf8-name.yaml")  # the byte as a surrogate escape
    (root / not_utf8).write_text(yaml.safe_dump(CRONJOB))
    expected[not_utf8] = 1
    (root / "junk.yaml").write_bytes(b"\x00\xff\xfe binary")
    (root / "bomb.yaml").write_text(alias_bomb(12, "flow") + "kind: Job\nspec: *b12\n")
    return expected


def test_a_hostile_directory_is_linted_file_by_file(tmp_path: Path) -> None:
    expected = hostile_directory(tmp_path)
    result = lint_paths([str(tmp_path)], POLICY, jobs=2)
    linted = {Path(f.file).name: len(f.objects) for f in result.files if f.objects}
    assert linted == expected
    assert sorted((Path(p.file).name, p.message) for p in result.problems) == [
        ("bomb.yaml", ALIAS_REFUSAL),
        ("junk.yaml", "not a text file (it contains NUL bytes)"),
    ]
    for file in result.files:
        check_well_formed(file)
    names = [o.name for o in result.objects if Path(o.file).name == "lone-surrogate.json"]
    assert names == ["pi-\ufffd"]  # as the API server's JSON decoder reads it


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_the_command_reports_a_hostile_directory_in_every_format(tmp_path: Path, fmt: str) -> None:
    """Lone surrogates and file names that are not UTF-8 once ended the output in a traceback
    (UnicodeEncodeError); input problems make the exit code 2."""
    hostile_directory(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "jobguard", "lint", "--format", fmt, "-j", "1", str(tmp_path)],
        capture_output=True,
        timeout=60,
    )
    output = (run.stdout + run.stderr).decode("utf-8", "replace")
    assert "Traceback" not in output
    assert run.returncode == 2, output[-2000:]
    assert "junk.yaml" in output and "bomb.yaml" in output
    assert "lone-surrogate.json" in output or fmt == "github"


def test_the_command_names_a_hostile_file_and_exits_2(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(12, "mapping") + "kind: Job\nspec: *b12\n")
    run = subprocess.run(
        [sys.executable, "-m", "jobguard", "lint", "--format", "json", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    assert [(p["file"], p["message"]) for p in report["problems"]] == [(str(bomb), ALIAS_REFUSAL)]


# -- hostile policy files ----------------------------------------------------------------------

POLICY_HEAD = "apiVersion: jobguard.dev/v1\nkind: Policy\n"
HOSTILE_POLICIES = {
    "merge-bomb": merge_bomb(9, "list") + POLICY_HEAD,
    "alias-bomb": alias_bomb(12, "flow") + POLICY_HEAD + "rules: {restart-policy: *b12}\n",
    "nul-bytes": POLICY_HEAD + "rules: {}\n\x00\x00",
    "deep-flow": POLICY_HEAD + "rules: " + "[" * 2000 + "]" * 2000 + "\n",
    "timestamp-action": POLICY_HEAD + "rules:\n  restart-policy: {action: 2001-12-14}\n",
    "set-rules": POLICY_HEAD + "rules: !!set {restart-policy}\n",
    "binary-option": POLICY_HEAD + "rules:\n  backoff-limit: {max: !!binary aGk=}\n",
    "nan-option": POLICY_HEAD + "rules:\n  backoff-limit: {max: .nan}\n",
    "unhashable-key": POLICY_HEAD + "rules: {? [a] : b}\n",
    "bad-date": POLICY_HEAD + "rules:\n  resources: {action: 2001-02-30}\n",
    "int-keys": POLICY_HEAD + "rules: {1: {action: deny}}\n",
    "surrogate-json": json.dumps({"apiVersion": "jobguard.dev/v1", "kind": "Policy", "x\ud800": 1}),
    "not-utf8": POLICY_HEAD + "rules: {restart-policy: {action: \xff}}\n",
    "scalar": "just words\n",
    "two-documents": POLICY_HEAD + "---\n" + POLICY_HEAD,
}
PROBLEM = re.compile(r"(?P<file>.+?)(?::(?P<line>\d+):(?P<column>\d+))?: \S.*")
#: Problems of the whole file, or of a value PyYAML cannot place, have no line (none printed).
WITHOUT_LINE = ("not a text file", "not UTF-8 text", "invalid YAML value: ")


def check_problem(problem: PolicyProblem, path: Path) -> None:
    found = PROBLEM.fullmatch(str(problem).splitlines()[0])
    assert found is not None, str(problem)
    assert found["file"] == str(path)
    assert problem.line >= 1 or problem.message.startswith(WITHOUT_LINE), str(problem)


@pytest.mark.parametrize("name", sorted(HOSTILE_POLICIES))
def test_a_hostile_policy_is_a_policy_error_naming_file_and_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / "policy.yaml"
    text = HOSTILE_POLICIES[name]
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    started = time.monotonic()
    with pytest.raises(PolicyError) as raised:
        load_policy([str(path)])
    assert time.monotonic() - started < 2
    assert raised.value.problems
    for problem in raised.value.problems:
        check_problem(problem, path)


OPTION_VALUES = st.sampled_from([*NATIVE_VALUES[:-1], *UNCONSTRUCTIBLE, "~", "[]", "{}", "-1"])


@PROPERTIES
@given(
    rule=st.sampled_from(sorted(RULE_NAMES)),
    option=st.sampled_from(["action", "max", "min", "default", "allowed", "scope", "nope"]),
    value=OPTION_VALUES,
)
def test_any_yaml_value_for_a_rule_option_loads_or_is_a_policy_error(
    tmp_path_factory: pytest.TempPathFactory, rule: str, option: str, value: str
) -> None:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(f"{POLICY_HEAD}rules:\n  {rule}:\n    {option}: {value}\n")
    try:
        load_policy([str(path)])
    except PolicyError as exc:
        for problem in exc.problems:
            check_problem(problem, path)


def test_a_huge_value_is_quoted_in_part_and_the_message_says_how_much_was_left_out() -> None:
    """api-cronjob-schedule quotes the schedule as the API server does (twice: the value and
    the parser's list of fields); a 600 kB schedule made a 1.2 MB message."""
    schedule = "0 " * 300_000
    raw = json.dumps(replaced(CRONJOB, ("spec", "schedule"), schedule)).encode()
    findings = [lf.finding for obj in lint(raw).objects for lf in obj.findings]
    [finding] = [f for f in findings if f.rule == "api-cronjob-schedule"]
    assert finding.field == "spec.schedule"
    assert finding.message.startswith('Invalid value: "0 0 0 ')
    whole = f'Invalid value: "{schedule}": '
    left_out = re.search(r"… \[([\d,]+) characters left out\] …", finding.message)
    assert left_out is not None
    assert len(finding.message) < 1100
    # What is shown and what was left out cover at least the quoted value and its detail.
    shown = len(finding.message) - len(left_out.group(0))
    assert shown + int(left_out.group(1).replace(",", "")) > len(whole)
    assert all(len(f.message) <= 1100 for f in findings)


def test_a_message_is_cut_in_the_middle_past_a_thousand_characters() -> None:
    assert bounded("a" * 1000) == "a" * 1000
    long = "a" * 800 + "b" * 1000 + "c" * 200
    assert bounded(long) == "a" * 800 + "… [1,000 characters left out] …" + "c" * 200
