#!/usr/bin/env python3
"""Measure `jobguard lint` and `--fix` on manifests written by other projects.

    python bench/realworld.py [--kubernetes-version 1.36] [--policy FILE ...]

Reads ``../shared/corpus/realworld`` beside the project (one Job or CronJob a file, with
``SOURCES.tsv``: each file's origin and what a real kube-apiserver answered to
``kubectl create --dry-run=server --validate=strict -f`` of it) and prints:

* api verdict agreement: a file is rejected by jobguard when it has an input problem of error
  severity or an ``api`` finding of error severity; the server's verdict is SOURCES.tsv's column;
* field paths: of the server rejections whose message names field paths, the share where
  jobguard reports every one of them (a jobguard path equal to, or inside, the server's);
* findings per object by rule, errors and warnings per object (what the text report lists;
  goal under 3.0 with the default policy), and the share of clean objects (no error or warning);
* ``--fix``: files whose unified diff touches original lines that none of their safe fixes
  needs (goal 0), and files that a second ``--fix`` would change again (goal 0).

The Kubernetes version defaults to the one of SOURCES.tsv's verdict column. Without the corpus
the script says so and exits 0. Everything runs in this process; no file is written.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from jobguard.core.kubernetes.versions import Version
from jobguard.core.model import Category, Edit, RemoveValue, Severity
from jobguard.core.paths import segment_name
from jobguard.lint.fix import plan_fix
from jobguard.lint.linter import FileResult, lint_bytes
from jobguard.policy import PolicyError, load_policy
from jobguard.policy.model import Policy
from jobguard.rules import ALL_RULES
from jobguard.yamlsource import parse_stream

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "realworld"
#: Errors and warnings per object the default policy may give this corpus: above it, the
#: findings a reviewer must act on drown in the rest.
NOISE_GOAL = 3.0
VERDICT_COLUMN = re.compile(r"^apiserver_(\d+)\.(\d+)$")

#: ``spec.template.spec.containers: Required value`` and its kin in the server's messages.
_PATH_WITH_REASON = re.compile(
    r"(?:^|is invalid: |\* )"
    r"([A-Za-z][\w\-]*(?:\[[^\]]*\])*(?:\.[\w\-]+(?:\[[^\]]*\])*)*)"
    r": (?:Required|Invalid|Unsupported|Forbidden|Duplicate|Too |Not )"
)
_UNKNOWN_FIELD = re.compile(r'unknown field "([^"]+)"')
_GO_STRUCT_FIELD = re.compile(r"Go struct field \w+\.([\w.\[\]]+) of type")


@dataclass(frozen=True)
class Sample:
    file: str
    server_rejects: bool
    server_error: str


@dataclass
class Tally:
    files: int = 0
    objects: int = 0
    agree: int = 0
    false_reject: list[str] = field(default_factory=list)
    missed_reject: list[str] = field(default_factory=list)
    with_paths: int = 0
    paths_all: int = 0
    paths_some: int = 0
    missed_paths: list[str] = field(default_factory=list)
    by_rule: Counter[tuple[str, str]] = field(default_factory=Counter)
    clean: int = 0
    no_findings: int = 0
    fixable: int = 0
    fixed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    noisy: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)


def read_sources(corpus: Path) -> tuple[tuple[int, int], list[Sample]]:
    lines = (corpus / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    column = next(i for i, name in enumerate(header) if VERDICT_COLUMN.match(name))
    match = VERDICT_COLUMN.match(header[column])
    assert match is not None
    version = (int(match.group(1)), int(match.group(2)))
    samples = []
    for line in lines[1:]:
        cells = line.split("\t")
        cells += [""] * (len(header) - len(cells))
        error = cells[column + 1] if column + 1 < len(cells) else ""
        samples.append(Sample(cells[0], cells[column] == "reject", error))
    return version, samples


def server_paths(error: str) -> set[str]:
    """The field paths a server rejection names (none for YAML or discovery errors)."""
    found = set()
    for part in error.split(" | "):
        found.update(_PATH_WITH_REASON.findall(part))
        found.update(_UNKNOWN_FIELD.findall(part))
        found.update(_GO_STRUCT_FIELD.findall(part))
    return found


def names_path(reported: Iterable[str], wanted: str) -> bool:
    return any(p == wanted or p.startswith((wanted + ".", wanted + "[")) for p in reported)


def _api_verdict_rules() -> frozenset[str]:
    """Rules whose error findings are an API rejection: the api rules, and the policy rules
    that stand in for one when both report a field (restart-policy for api-restart-policy)."""
    api = {r.name for r in ALL_RULES if r.category is Category.API}
    return frozenset(api | {r.name for r in ALL_RULES if r.subsumes & api})


def jobguard_rejects(result: FileResult) -> bool:
    if any(p.severity is Severity.ERROR for p in result.problems):
        return True
    judges = _api_verdict_rules()
    return any(
        lf.finding.rule in judges and lf.finding.severity is Severity.ERROR
        for obj in result.objects
        for lf in obj.findings
    )


# -- which original lines a fix may touch -------------------------------------------------------


def _lines_of(node: yaml.Node) -> range:
    """0-based lines a node spans (a block collection's end mark sits on the next line)."""
    end = node.end_mark.line
    if end > node.start_mark.line and node.end_mark.column == 0:
        end -= 1
    return range(node.start_mark.line, end + 1)


def edit_lines(root: yaml.Node, edit: Edit) -> set[int]:
    """Original lines that writing ``edit`` may have to change; every other line stays.

    An existing value: its key and value lines. A missing one: nothing in a block parent (the
    new lines are inserted), the whole parent when it is a flow collection or a null scalar
    (the text must change there). A removal may also rewrite its parent's key line (``{}``).
    """
    node, key = root, None
    parent_key: yaml.Node | None = None
    for seg in edit.path:
        raw = segment_name(seg)
        child: tuple[yaml.Node | None, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode):
            child = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == raw
                ),
                None,
            )
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(raw, int)
            and 0 <= raw < len(node.value)
        ):
            child = (None, node.value[raw])
        if child is None:
            break
        parent_key, (key, node) = key, child
    else:
        lines = set(_lines_of(node))
        if key is not None:
            lines.add(key.start_mark.line)
        if isinstance(edit, RemoveValue) and parent_key is not None:
            lines.add(parent_key.start_mark.line)
        return lines
    if isinstance(edit, RemoveValue):
        return set()
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        lines = set(_lines_of(node))
        if key is not None:
            lines.add(key.start_mark.line)
        return lines
    return set()


def touched_lines(original: str, fixed: str) -> set[int]:
    """0-based original lines that the unified diff of the fix removes or replaces."""
    old, new = original.splitlines(keepends=True), fixed.splitlines(keepends=True)
    touched: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            touched.update(range(i1, i2))
    return touched


def needless_lines(result: FileResult, original: str, fixed: str) -> set[int]:
    """Lines the diff touches that no safe fix of the file needs (any planner's choice of them)."""
    stream = parse_stream(original)
    allowed: set[int] = set()
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        allowed.add(len(lines) - 1)  # appending after it must add the missing newline
    for obj in result.objects:
        if obj.document >= len(stream.documents):
            continue
        root = stream.documents[obj.document].node
        if root is None:
            continue
        for lf in obj.findings:
            fix = lf.finding.fix
            if fix is not None and fix.safe:
                for edit in fix.edits:
                    allowed |= edit_lines(root, edit)
    return touched_lines(original, fixed) - allowed


# -- the run ------------------------------------------------------------------------------------


def measure(corpus: Path, samples: list[Sample], policy: Policy, version: Version) -> Tally:
    tally = Tally()
    for sample in samples:
        path = corpus / sample.file
        raw = path.read_bytes()
        result = lint_bytes(sample.file, raw, policy, version)
        tally.files += 1
        rejects = jobguard_rejects(result)
        if rejects == sample.server_rejects:
            tally.agree += 1
        elif rejects:
            tally.false_reject.append(sample.file)
        else:
            tally.missed_reject.append(sample.file)
        wanted = server_paths(sample.server_error) if sample.server_rejects else set()
        if wanted:
            reported = [lf.finding.field for o in result.objects for lf in o.findings]
            named = [w for w in wanted if names_path(reported, w)]
            tally.with_paths += 1
            tally.paths_all += len(named) == len(wanted)
            tally.paths_some += bool(named)
            if len(named) != len(wanted):
                missing = sorted(set(wanted) - set(named))
                tally.missed_paths.append(f"{sample.file}: {', '.join(missing)}")
        for obj in result.objects:
            tally.objects += 1
            tally.by_rule.update(
                (lf.finding.rule, lf.finding.severity.value) for lf in obj.findings
            )
            severities = {lf.finding.severity for lf in obj.findings}
            tally.clean += not severities & {Severity.ERROR, Severity.WARNING}
            tally.no_findings += not obj.findings
        measure_fix(tally, sample.file, raw, result, policy, version)
    return tally


def measure_fix(
    tally: Tally, file: str, raw: bytes, result: FileResult, policy: Policy, version: Version
) -> None:
    has_safe_fix = any(
        lf.finding.fix is not None and lf.finding.fix.safe
        for obj in result.objects
        for lf in obj.findings
    )
    if not has_safe_fix:
        return
    tally.fixable += 1
    first = plan_fix(result, raw)
    if first.refused:
        tally.refused[first.refused] += 1
        return
    if not first.changed:
        return
    tally.fixed += 1
    if needless_lines(result, first.original, first.fixed):
        tally.noisy.append(file)
    again = lint_bytes(file, first.fixed.encode("utf-8"), policy, version)
    second = plan_fix(again, first.fixed.encode("utf-8"))
    if second.changed:
        tally.unstable.append(file)


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"


def report(tally: Tally, version: tuple[int, int], policy_label: str) -> None:
    v = f"{version[0]}.{version[1]}"
    print(
        f"corpus: {tally.files} files, {tally.objects} objects; kubernetes {v}; policy {policy_label}"
    )
    print()
    print(f"api verdict agreement with kube-apiserver {v}: {share(tally.agree, tally.files)}")
    print(f"  jobguard rejects, server accepts: {len(tally.false_reject)}")
    for name in tally.false_reject:
        print(f"    {name}")
    print(f"  server rejects, jobguard accepts: {len(tally.missed_reject)}")
    for name in tally.missed_reject:
        print(f"    {name}")
    print(
        f"server rejections naming field paths: {tally.with_paths}; jobguard names all of them: "
        f"{share(tally.paths_all, tally.with_paths)}; at least one: "
        f"{share(tally.paths_some, tally.with_paths)}"
    )
    for line in tally.missed_paths:
        print(f"    not named: {line}")
    print()
    total = sum(tally.by_rule.values())
    per_object = total / tally.objects if tally.objects else 0.0
    print(f"findings per object: {per_object:.2f} ({total} findings)")
    shown = sum(n for (_, severity), n in tally.by_rule.items() if severity != Severity.INFO.value)
    print(
        f"errors and warnings per object (what the text report lists): "
        f"{shown / tally.objects if tally.objects else 0.0:.2f} ({shown}; goal under {NOISE_GOAL})"
    )
    rules = sorted({rule for rule, _ in tally.by_rule})
    print(f"  {'rule':<30}{'per object':>11}{'error':>8}{'warning':>9}{'info':>6}")
    for rule in rules:
        counts = [tally.by_rule[(rule, s.value)] for s in Severity]
        print(
            f"  {rule:<30}{sum(counts) / tally.objects:>11.2f}"
            f"{counts[0]:>8}{counts[1]:>9}{counts[2]:>6}"
        )
    print(f"clean objects (no error or warning): {share(tally.clean, tally.objects)}")
    print(f"objects without any finding: {share(tally.no_findings, tally.objects)}")
    print()
    print(
        f"--fix: {tally.fixable} files with safe fixes; {tally.fixed} rewritten; "
        f"{sum(tally.refused.values())} left alone"
    )
    for reason, count in sorted(tally.refused.items()):
        print(f"    {count:>4} {reason}")
    print(
        f"files whose --fix diff touches lines its fixes do not need (goal 0): {len(tally.noisy)}"
    )
    for name in tally.noisy:
        print(f"    {name}")
    print(
        f"second --fix changes nothing: {'yes' if not tally.unstable else 'no'} "
        f"({len(tally.unstable)} files change again)"
    )
    for name in tally.unstable:
        print(f"    {name}")


def parse_version(text: str) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in text.lstrip("v").split(".")[:2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MAJOR.MINOR") from None
    return major, minor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--kubernetes-version",
        type=parse_version,
        default=None,
        help="MAJOR.MINOR (default: the version of SOURCES.tsv's verdict column)",
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="policy file; repeat to layer (default: the bundled default policy)",
    )
    args = parser.parse_args(argv)
    if not (CORPUS / "SOURCES.tsv").is_file():
        print(f"skipped: no corpus at {CORPUS} (it lives beside the project, in shared/)")
        return 0
    corpus_version, samples = read_sources(CORPUS)
    version = args.kubernetes_version or corpus_version
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    label = ", ".join(args.policy) if args.policy else "default"
    tally = measure(CORPUS, samples, policy, version)
    report(tally, version, label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
