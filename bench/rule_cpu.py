#!/usr/bin/env python3
"""CPU of the whole lint and of each rule, in one process, over the corpus of ``bench/lint.py``.

    python bench/rule_cpu.py [--files 1000] [--repeat 5] [--top 15] [--jobguard CHECKOUT]

Wall time on a shared machine moves with the load; CPU time (``time.process_time``) in one
process, best of ``--repeat``, moves far less, so two versions of the code compare in one
session: ``--jobguard`` imports jobguard from another checkout (e.g. ``git worktree add
/tmp/old <commit>``), and running old and new alternately shows the difference.

Prints the CPU of ``lint_bytes`` (read, parse, every rule, positions; no report) per 1,000
files, the findings (they must not change), then per rule its CPU with the API server
simulation computed beforehand (so no rule is charged for it) and, apart, the simulation's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def best_cpu_ms(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--jobguard", type=Path, help="a checkout to import jobguard from")
    args = parser.parse_args()
    if args.jobguard:
        sys.path.insert(0, str(args.jobguard.resolve()))
    sys.path.insert(0, str(BENCH))
    from lint import make_corpus  # bench/lint.py: the same generated files

    import jobguard
    from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION
    from jobguard.core.subject import Subject
    from jobguard.lint.linter import lint_bytes
    from jobguard.policy import load_policy
    from jobguard.rules import REGISTRY
    from jobguard.rules._api import api_object
    from jobguard.yamlsource import SourceError, objects_of, read_documents

    policy = load_policy()
    with tempfile.TemporaryDirectory(prefix="jobguard-bench-") as tmp:
        paths = make_corpus(Path(tmp) / "corpus", args.files)
        files = [(str(p), p.read_bytes()) for p in paths]
    per_1000 = 1000 / args.files

    def lint_all() -> int:
        findings = 0
        for name, raw in files:
            result = lint_bytes(name, raw, policy)
            findings += sum(len(o.findings) for o in result.objects)
        return findings

    findings = lint_all()
    whole = best_cpu_ms(lint_all, args.repeat) * per_1000
    print(f"jobguard from {Path(jobguard.__file__).parent.parent}")
    print(f"lint_bytes over {args.files} files: {whole:.0f} ms CPU per 1,000 files")
    print(f"findings: {findings}")

    subjects: list[Any] = []
    for _, raw in files:
        for document in read_documents(raw):
            if isinstance(document, SourceError):
                continue
            for src in objects_of(document):
                if isinstance(src.data, dict):
                    subject = Subject.manifest(src.data, DEFAULT_KUBERNETES_VERSION)
                    if subject is not None:
                        subjects.append(subject)

    def simulate_all() -> None:
        for subject in subjects:
            subject.view.memo.clear()
            api_object(subject.view, subject)

    simulation = best_cpu_ms(simulate_all, args.repeat) * per_1000
    rows = []
    for rule in REGISTRY.rules:
        runs = [
            (subject, settings)
            for subject in subjects
            for active, settings in policy.active_rules(REGISTRY.rules, subject.view.kind)
            if active is rule
        ]

        def run_rule(rule: Any = rule, runs: Any = runs) -> None:
            for subject, settings in runs:
                list(rule.check(subject.view, settings.options, subject))

        if runs:
            rows.append((best_cpu_ms(run_rule, args.repeat) * per_1000, len(runs), rule.name))
    rows.sort(reverse=True)
    total = sum(ms for ms, _, _ in rows)
    print(f"API server simulation (once per object): {simulation:.1f} ms per 1,000 files")
    print(f"rules' own checks: {total:.0f} ms per 1,000 files, {sum(n for _, n, _ in rows)} calls")
    print(f"{'rule':<34}{'ms/1,000 files':>16}{'us/call':>10}")
    for ms, calls, name in rows[: args.top]:
        print(f"{name:<34}{ms:>16.1f}{ms / per_1000 / calls * 1000:>10.1f}")


if __name__ == "__main__":
    main()
