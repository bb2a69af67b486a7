#!/usr/bin/env python3
"""Benchmark the api rules (JG001-JG031) beside baselines measured in the same run.

    python bench/api_rules.py [--runs 15] [--objects 2000]

Prints:

* cold start: median wall time of ``jobguard lint one-file.yaml`` (a real subprocess, interpreter
  start-up included) with the bundled default policy, beside the same command with every api rule
  switched off by a policy file, and beside ``python -c "import yaml; ..."`` parsing the same file.
  Target: well under 200 ms in total;
* the one-time cost of loading the generated schema (``jobguard/data/batch_v1_schema.json``);
* per object, in process: the api rules alone vs. the policy rules alone over the same objects.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ONE_FILE = ROOT / "examples" / "good" / "indexed-render.yaml"
#: mounts, resources, env, annotations, hostnameOverride, timestamps
NEWER_POD_RULES = frozenset(f"JG0{n}" for n in range(23, 29))


def _wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cold_start(runs: int) -> None:
    from jobguard.core.model import Category
    from jobguard.rules import ALL_RULES

    api_rules = [r.name for r in ALL_RULES if r.category is Category.API]
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "no-api.yaml"
        policy.write_text(
            "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
            + "".join(f"  {name}: {{action: off}}\n" for name in api_rules)
        )
        lint = [sys.executable, "-m", "jobguard", "lint", str(ONE_FILE)]
        with_api = _wall(lint, runs)
        without_api = _wall([*lint, "--policy", str(policy)], runs)
    baseline = _wall(
        [
            sys.executable,
            "-c",
            f"import yaml; yaml.load(open({str(ONE_FILE)!r}), yaml.CSafeLoader)",
        ],
        runs,
    )
    print(f"cold start, median of {runs} runs (`jobguard lint {ONE_FILE.relative_to(ROOT)}`):")
    print(f"  jobguard lint, default policy (api rules on): {with_api:7.1f} ms")
    print(f"  jobguard lint, api rules off:                 {without_api:7.1f} ms")
    print(f"  baseline: python + PyYAML parsing the file:   {baseline:7.1f} ms")


def schema_load() -> None:
    code = (
        "import time; t=time.perf_counter(); from jobguard.core.kubernetes.schema import load_schema; "
        "load_schema(); print((time.perf_counter()-t)*1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(f"schema load (import + JSON parse, once per process): {float(out.stdout):.2f} ms")


def per_object(objects: int) -> None:
    import yaml

    from jobguard.core.engine import evaluate
    from jobguard.core.model import Category
    from jobguard.core.subject import Subject
    from jobguard.policy.model import builtin_defaults
    from jobguard.rules import REGISTRY

    docs = [
        d
        for p in sorted((ROOT / "examples").rglob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())
        if isinstance(d, dict)
    ]
    policy = builtin_defaults()
    groups = {
        "api rules": REGISTRY.where(lambda r: r.category is Category.API),
        # the cost of the pod rules JG023-JG028 is the difference with the line above
        "api w/o JG023-028": REGISTRY.where(
            lambda r: r.category is Category.API and r.code not in NEWER_POD_RULES
        ),
        "policy rules": REGISTRY.where(lambda r: r.category is Category.POLICY),
    }
    print(f"per object, in process ({objects} evaluations over the examples):")
    for doc in docs:  # warm-up: schema load and caches, paid by no group
        subject = Subject.manifest(doc)
        if subject is not None:
            evaluate(subject, policy, rules=REGISTRY.where(lambda r: True))
    # Rounds interleave the groups so that load from elsewhere on the machine hits all of
    # them alike; the best round of each group is reported, in CPU time of this process
    # (time.process_time: waiting for a core shared with others does not count).
    best = dict.fromkeys(groups, float("inf"))
    rounds = 5
    for _ in range(rounds):
        for label, rules in groups.items():
            start = time.process_time()
            for i in range(objects // rounds):
                subject = Subject.manifest(docs[i % len(docs)])
                assert subject is not None
                evaluate(subject, policy, rules=rules)
            took = (time.process_time() - start) / (objects // rounds) * 1e6
            best[label] = min(best[label], took)
    for label, rules in groups.items():
        print(f"  {label:17} ({len(rules.rules):2} rules): {best[label]:7.1f} us/object")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    cold_start(args.runs)
    schema_load()
    per_object(args.objects)


if __name__ == "__main__":
    main()
