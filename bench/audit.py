#!/usr/bin/env python3
"""Benchmark `jobguard audit` over Jobs served by the local stand-in API server, beside
`jobguard lint` over the same objects written as files, in the same run.

    python bench/audit.py [--jobs 10000] [--large 100000] [--page-size 500]

The stand-in (tests/audit/standin.py, not a cluster) runs in this process and serves
--jobs Jobs made from the captured stored objects of tests/fixtures/audit (names and namespaces
varied; a third finished, half without a TTL) plus their CronJob. Then, each in a subprocess of
its own whose peak RSS comes from wait4():

* `jobguard audit --format json` (pages of --page-size objects, the real kubernetes client);
* `jobguard audit --cleanup --format json` (also lists the pods of finished Jobs);
* `jobguard audit` at a tenth of the Jobs and at --large Jobs (0 to skip), to show how memory
  grows with the object count (the output streams page by page, so it should grow far less
  than the object count);
* `jobguard lint --format json -j 1 DIR` over the same objects, one JSON file each.

Ratios matter more than absolute figures on a shared machine: both sides run in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.audit import objects  # noqa: E402
from tests.audit.standin import StandIn, running  # noqa: E402

BASES = ("job-ssa-job", "job-primes-b9bl7", "job-indexed-render", "job-pi")


def make_jobs(count: int) -> list[dict[str, Any]]:
    bases = [objects.stored(name) for name in BASES]
    jobs = []
    for i in range(count):
        job = objects.renamed(bases[i % len(bases)], f"batch-{i:06d}", f"team-{i % 20:02d}")
        if i % 2:
            job = objects.without_ttl(job)
        if i % 3 == 0:
            job = objects.finished(job, "Complete" if i % 6 else "Failed", "2026-11-20T10:00:00Z")
        job["metadata"]["uid"] = f"uid-{i:06d}"
        jobs.append(job)
    return jobs


#: Runs ``python -m jobguard ARGS`` and, at exit, prints its own peak RSS (VmHWM). wait4()'s
#: ru_maxrss would not do: it keeps the high-water mark of the forked parent (this process,
#: holding every served object) across exec.
PEAK = """
import atexit, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KIB " + line.split()[1] + "\\n")
atexit.register(peak)
sys.argv = ["jobguard", *sys.argv[1:]]
runpy.run_module("jobguard", run_name="__main__")
"""


def measured(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of ``python -m jobguard ARGS``."""
    args = cmd[3:]  # after [python, -m, jobguard]
    start = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c", PEAK, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    stderr = process.stderr.decode()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {process.returncode}:\n{stderr}")
    peaks = [line.split()[1] for line in stderr.splitlines() if line.startswith("PEAK_KIB ")]
    return elapsed, int(peaks[-1]) / 1024, process.returncode


def serve(server: StandIn, jobs: list[dict[str, Any]]) -> None:
    server.state.objects.clear()
    server.state.add(objects.stored("cronjob-nightly-report"))
    for job in jobs:
        server.state.add(job)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    jobguard = [sys.executable, "-m", "jobguard"]
    jobs = make_jobs(max(args.jobs, args.large))
    rows: list[tuple[str, float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp, running() as server:
        kubeconfig = server.kubeconfig(Path(tmp) / "kubeconfig")
        audit = [*jobguard, "audit", "--kubeconfig", str(kubeconfig), "--format", "json"]
        audit += ["--page-size", str(args.page_size)]

        serve(server, jobs[: max(1, args.jobs // 10)])
        t, rss, _ = measured(audit)
        rows.append((f"audit, {args.jobs // 10:,} Jobs", t, rss, args.jobs // 10))

        if args.large:
            serve(server, jobs[: args.large])
            t, rss, _ = measured(audit)
            rows.append((f"audit, {args.large:,} Jobs", t, rss, args.large))

        jobs = jobs[: args.jobs]
        serve(server, jobs)
        t, rss, _ = measured(audit)
        rows.append((f"audit, {args.jobs:,} Jobs", t, rss, args.jobs))
        t, rss, _ = measured([*audit, "--cleanup"])
        rows.append((f"audit --cleanup, {args.jobs:,} Jobs", t, rss, args.jobs))

        folder = Path(tmp) / "manifests"
        folder.mkdir()
        for job in jobs:
            meta = job["metadata"]
            path = folder / f"{meta['namespace']}-{meta['name']}.json"
            path.write_text(json.dumps({"apiVersion": "batch/v1", **job}))
        t, rss, _ = measured([*jobguard, "lint", "--format", "json", "-j", "1", str(folder)])
        rows.append((f"lint -j 1, {args.jobs:,} files (baseline)", t, rss, args.jobs))

    baseline = rows[-1]
    print(f"{'run':<42} {'seconds':>8} {'objects/s':>10} {'peak MiB':>9} {'time vs lint':>13}")
    for name, seconds, rss, count in rows:
        print(
            f"{name:<42} {seconds:>8.2f} {count / seconds:>10.0f} {rss:>9.1f} "
            f"{seconds / baseline[1]:>12.2f}x"
        )


if __name__ == "__main__":
    main()
