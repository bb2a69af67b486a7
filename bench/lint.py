#!/usr/bin/env python3
"""Benchmark `jobguard lint` against plain PyYAML parsing of the same files, in one run.

    python bench/lint.py [--files 5000] [--repeat 5]
    python bench/lint.py --memory [--unit-mib 4]

Generates a corpus of realistic Job and CronJob manifests (some with findings, some multi-document,
some with other kinds beside them), then prints, side by side:

* throughput: files/s of `jobguard lint --format json DIR` (the real command, start-up included)
  vs. a baseline `python -c "import yaml; ..."` that only parses the same files with the C loader;
* cold start: wall time of `jobguard lint one-file.yaml` vs. the baseline parsing that one file.

``--memory`` instead writes one multi-document file of 1x, 2x and 4x ``--unit-mib`` (4x is the
default 16 MiB file limit) and prints the peak RSS of each command in its own process: the
baseline (the C loader iterating the documents, keeping none), `jobguard lint --format json`,
and `jobguard lint --diff` (which plans every fix).

Ratios matter more than absolute figures on a shared machine: both sides run in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGES = [
    "python:3.12-slim",
    "perl:5.34",
    "busybox:1.36",
    "ghcr.io/acme/etl:2.4.1",
    "registry.local/reports@sha256:" + "a" * 64,
]

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: {team}
  annotations:
    owner: {team}@example.com
spec:
{counts}  backoffLimit: {backoff}
{ttl}  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
{restart}      serviceAccountName: {team}-batch
      containers:
      - name: main
        image: {image}
        command: ["/bin/sh", "-c", "run --input s3://bucket/{name} --shard $(JOB_COMPLETION_INDEX)"]
        env:
        - name: LOG_LEVEL
          value: info
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {{name: {team}-db, key: password}}
{resources}"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
spec:
  schedule: "{schedule}"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: {backoff}
      template:
        spec:
{restart}          containers:
          - name: main
            image: {image}
            args: ["--report", "{name}"]
{resources}"""

RESOURCES = """\
{pad}resources:
{pad}  requests: {{cpu: 100m, memory: 256Mi}}
{pad}  limits: {{memory: 512Mi}}
"""

CONFIGMAP = (
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}-config}}\ndata:\n  key: value\n"
)


def manifest(rng: random.Random, i: int) -> str:
    team = rng.choice(["data", "billing", "search", "ml"])
    name = f"{team}-task-{i}"
    ns = f"{team}-prod"
    image = rng.choice(IMAGES)
    backoff = rng.choice([0, 2, 4, 6])
    if rng.random() < 0.6:
        counts = rng.choice(
            [
                "",
                "  completions: 8\n  parallelism: 2\n",
                "  parallelism: 4\n",
                "  completions: 5\n  parallelism: 5\n  completionMode: Indexed\n",
            ]
        )
        text = JOB.format(
            name=name,
            ns=ns,
            team=team,
            image=image,
            backoff=backoff,
            counts=counts,
            ttl="  ttlSecondsAfterFinished: 3600\n" if rng.random() < 0.7 else "",
            restart="      restartPolicy: Never\n" if rng.random() < 0.9 else "",
            resources=RESOURCES.format(pad="        ") if rng.random() < 0.8 else "",
        )
    else:
        text = CRONJOB.format(
            name=name,
            ns=ns,
            image=image,
            backoff=backoff,
            schedule=rng.choice(["0 3 * * *", "*/15 * * * *", "@hourly", "30 2 * * 1-5"]),
            restart="          restartPolicy: OnFailure\n" if rng.random() < 0.9 else "",
            resources=RESOURCES.format(pad="            ") if rng.random() < 0.8 else "",
        )
    if rng.random() < 0.2:
        text += CONFIGMAP.format(name=name)
    return text


def make_corpus(root: Path, files: int) -> list[Path]:
    rng = random.Random(42)
    if root.exists():
        shutil.rmtree(root)
    paths = []
    for i in range(files):
        sub = root / f"team-{i % 20}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"job-{i}.yaml"
        path.write_text(manifest(rng, i))
        paths.append(path)
    return paths


BASELINE = (
    "import sys, yaml, pathlib\n"
    "files = sorted(p for p in pathlib.Path(sys.argv[1]).rglob('*.yaml')) if pathlib.Path(sys.argv[1]).is_dir() else [pathlib.Path(sys.argv[1])]\n"
    "for f in files:\n"
    "    list(yaml.load_all(f.read_bytes(), Loader=yaml.CSafeLoader))\n"
)


def timed(cmd: list[str], ok_codes: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr}")
    return elapsed


def compile_jobguard() -> None:
    """Write jobguard's bytecode, as pip does on install: with PYTHONDONTWRITEBYTECODE set (or
    a source checkout never imported), every run would compile each module again (about 40 ms
    of a one-file lint)."""
    import jobguard

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(jobguard.__file__).parent)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def jobguard_cmd() -> list[str]:
    exe = shutil.which("jobguard")
    return [exe] if exe else [sys.executable, "-m", "jobguard"]


MEMORY_BASELINE = (
    "import sys, yaml\n"
    "for _ in yaml.load_all(open(sys.argv[1], 'rb').read(), Loader=yaml.CSafeLoader):\n"
    "    pass\n"
)
MIB = 1024 * 1024


def stream_file(path: Path, size: int) -> int:
    """Write a multi-document stream of at most ``size`` bytes; the number of documents."""
    rng = random.Random(7)
    written = documents = 0
    with path.open("w") as fh:
        while True:
            text = "---\n" + manifest(rng, documents)
            if written + len(text) > size:
                return documents
            fh.write(text)
            written += len(text)
            documents += 1


def peak_rss(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of ``cmd`` run in its own process."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {stderr}")
    return usage.ru_maxrss / 1024, elapsed  # ru_maxrss is in KiB on Linux


def memory(unit_mib: float) -> None:
    lint = [*jobguard_cmd(), "lint"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="jobguard-bench-") as tmp:
        for factor in (1, 2, 4):
            path = Path(tmp) / f"stream-{factor}x.yaml"
            documents = stream_file(path, int(factor * unit_mib * MIB))
            size = path.stat().st_size
            cells = [
                peak_rss(cmd)
                for cmd in (
                    [sys.executable, "-c", MEMORY_BASELINE, str(path)],
                    [*lint, "--format", "json", str(path)],
                    [*lint, "--diff", str(path)],
                )
            ]
            rows.append((f"{factor}x", size / MIB, documents, cells))
    print("peak RSS (MiB) and wall time (s), each command in its own process")
    header = ["size", "MiB", "documents", "baseline", "lint --format json", "lint --diff"]
    print(
        f"{header[0]:<6}{header[1]:>6}{header[2]:>11}{header[3]:>18}{header[4]:>22}{header[5]:>18}"
    )
    for label, mib, documents, cells in rows:
        shown = [f"{rss:.0f} MiB {wall:.1f} s" for rss, wall in cells]
        print(f"{label:<6}{mib:>6.1f}{documents:>11}{shown[0]:>18}{shown[1]:>22}{shown[2]:>18}")
    growth = rows[-1][3][1][0] - rows[0][3][1][0]
    print(
        f"lint --format json grows {growth:.0f} MiB from 1x to 4x; "
        "target: under 150 MiB peak for a 16 MiB file"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="peak RSS on one large file")
    parser.add_argument("--unit-mib", type=float, default=4.0, help="--memory: the 1x size")
    args = parser.parse_args()
    if args.memory:
        compile_jobguard()
        memory(args.unit_mib)
        return

    compile_jobguard()
    with tempfile.TemporaryDirectory(prefix="jobguard-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        paths = make_corpus(corpus, args.files)
        one = paths[0]
        baseline = [sys.executable, "-c", BASELINE]
        lint = [*jobguard_cmd(), "lint", "--format", "json"]

        rows = []
        for label, cmd in (
            ("baseline: yaml.load_all (CSafeLoader)", [*baseline, str(corpus)]),
            ("jobguard lint", [*lint, str(corpus)]),
        ):
            times = [timed(cmd) for _ in range(max(1, args.repeat // 2))]
            best = min(times)
            rows.append((label, args.files / best, best))
        print(
            f"corpus: {args.files} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB, {os.cpu_count()} CPUs"
        )
        print(f"{'throughput':<42}{'files/s':>10}{'wall s':>10}")
        for label, rate, wall in rows:
            print(f"{label:<42}{rate:>10.0f}{wall:>10.2f}")
        print(f"{'ratio jobguard / baseline':<42}{rows[1][1] / rows[0][1]:>10.2f}")

        print()
        cold = []
        for label, cmd in (
            ("baseline: python -c 'import yaml; ...'", [*baseline, str(one)]),
            ("jobguard lint one-file.yaml", [*lint, str(one)]),
        ):
            times = [timed(cmd) for _ in range(args.repeat)]
            cold.append((label, statistics.median(times) * 1000, min(times) * 1000))
        print(f"{'cold start (one file)':<42}{'median ms':>10}{'best ms':>10}")
        for label, median, best in cold:
            print(f"{label:<42}{median:>10.0f}{best:>10.0f}")
        print(f"{'difference jobguard - baseline':<42}{cold[1][1] - cold[0][1]:>10.0f}")
        print()
        print(
            "targets: throughput 1.0x the baseline (about what kubeconform's takes); "
            "one-file lint < 100 ms wall"
        )


if __name__ == "__main__":
    main()
