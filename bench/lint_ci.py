#!/usr/bin/env python3
"""Cost of the CI features of `jobguard lint` against plain linting of the same files, in one run.

    python bench/lint_ci.py [--files 500] [--repeat 3]

Generates commented, multi-document manifests that all have safe fixes, then times in-process
(start-up excluded, one worker):

* baseline: lint_paths (what `jobguard lint` does before rendering);
* sarif / junit / github: lint plus rendering each format;
* baseline file: lint plus matching every finding against a baseline of all of them;
* diff: lint plus planning every file's fixes (`--diff`: minimal text edits, read-back check).

Ratios matter more than absolute figures on a shared machine: every row runs in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jobguard.lint import baseline
from jobguard.lint.fix import plan_fix
from jobguard.lint.linter import LintResult, lint_paths
from jobguard.policy import load_policy
from jobguard.render import github, junit, sarif
from jobguard.rules import ALL_RULES

DOC = """\
# {name}: nightly work for team {team}
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: team-{team}
  labels: {{app: {name}, team: '{team}'}}
spec:
  template:
    spec:
      containers:
      - name: main
        image: "registry.example.com/{team}/{name}:1.{i}"   # pinned
        args: ["--shard", "{i}"]
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
          limits: {{memory: 128Mi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}-config}}
data:
  settings: |
    retries=3
"""


def corpus(root: Path, files: int) -> None:
    for i in range(files):
        (root / f"job-{i:05d}.yaml").write_text(DOC.format(name=f"job-{i}", team=f"t{i % 7}", i=i))


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: imports and caches are not what is measured
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    policy = load_policy()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "k8s").mkdir()
        corpus(root / "k8s", args.files)
        paths = [str(root / "k8s")]
        result = lint_paths(paths, policy, jobs=1)
        base_file = str(root / "baseline.json")
        baseline.write(result, base_file)
        entries = baseline.load(base_file)
        raw = {fr.file: Path(fr.file).read_bytes() for fr in result.files}

        def lint() -> LintResult:
            return lint_paths(paths, policy, jobs=1)

        rows = {
            "baseline: lint only": lint,
            "lint + sarif": lambda: sarif.render(lint(), policy, ALL_RULES, base=root),
            "lint + junit": lambda: junit.render(lint()),
            "lint + github": lambda: github.render(lint()),
            "lint + --baseline": lambda: baseline.apply(lint(), entries, base_file),
            "lint + --diff (plan fixes)": lambda: [
                plan_fix(fr, raw[fr.file]) for fr in lint_paths(paths, policy, jobs=1).files
            ],
        }
        findings = len(result.findings)
        print(f"{args.files} files, {findings} findings, median of {args.repeat} runs, 1 worker")
        reference = None
        for label, fn in rows.items():
            seconds = timed(fn, args.repeat)
            reference = reference or seconds
            print(
                f"{label:30s} {seconds * 1000:8.0f} ms  {args.files / seconds:8.0f} files/s"
                f"  x{seconds / reference:.2f}"
            )


if __name__ == "__main__":
    main()
