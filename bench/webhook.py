#!/usr/bin/env python3
"""Benchmark `jobguard serve` against a minimal allow-everything webhook, in one run.

    python bench/webhook.py [--duration 10] [--connections 32] [--rate 300] [--update] [--worker-baseline]

Needs `wrk` (Debian: apt-get install -y wrk). Starts, one after the other, on this machine:

* the null webhook: a Flask app that decodes the AdmissionReview and answers ``allowed: true``
  with its uid, under the very same gunicorn settings (config module, workers, threads,
  keep-alive, TLS context) as jobguard;
* `jobguard serve` itself (the real command) with the bundled default policy;
* `jobguard serve` with every rule turned off (what the webhook costs apart from its rules);

and drives each over HTTPS with keep-alive connections, POSTing real captured AdmissionReviews
(tests/fixtures/admission): a defaulted Job without restartPolicy to /mutate (answered with a
patch) and a validated Job to /validate (with ``--update`` also the ``kubectl replace`` of a
CronJob captured from kube-apiserver v1.36 to /mutate, row ``/mutate UPD``: an UPDATE, planned
against its old object and answered with a patch). For each it prints requests/s, p50/p99 latency and
the server's own CPU time per request (arbiter and workers, from /proc) at full load
(``--connections`` connections), then p50/p99 at a fixed ``--rate`` requests/s (paced by wrk's
``delay()``). ``--worker-baseline`` adds the null webhook on gunicorn's stock gthread worker, the
same-run baseline of what jobguard's worker (jobguard.webhook.worker) costs. The client shares the machine with the server, as it does on
every run: compare the columns, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMISSION = ROOT / "tests" / "fixtures" / "admission"
MUTATE_REVIEW = ADMISSION / "003-mutate-Job-CREATE-noname.json"
VALIDATE_REVIEW = ADMISSION / "002-validate-Job-CREATE-pi.json"
#: ``--update``: the replaced CronJob captured from kube-apiserver v1.36 (answered with a patch).
CAPTURED_1_36 = ROOT / "tests" / "fixtures" / "admission-1.36"
UPDATE_REVIEW = CAPTURED_1_36 / "019-mutate-CronJob-UPDATE-nightly-report.json"

NULL_SERVER = """
import sys
sys.path.insert(0, {root!r})
from flask import Flask, Response, request
import json
from jobguard.webhook.server import WebhookServer
from jobguard.webhook.settings import Settings


def null_app():
    app = Flask("null-webhook")

    def allow():
        review = json.loads(request.get_data())
        body = {{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {{"uid": review["request"]["uid"], "allowed": True}}}}
        return Response(json.dumps(body), mimetype="application/json")

    app.add_url_rule("/mutate", "mutate", allow, methods=["POST"])
    app.add_url_rule("/validate", "validate", allow, methods=["POST"])
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app


class NullServer(WebhookServer):
    def load(self):
        return null_app()


NullServer(Settings(), {overrides!r}).run()
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "kube-apiserver-admission"
wrk.headers["Accept-Encoding"] = "gzip"
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
{pacing}
"""

PACING = """
function delay()
  return {interval_ms}
end
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = 0.0  # server CPU time (all its processes) per request
    attempts: int = 1  # full-load runs taken, the last one counted (see measured)


def median(results: list[Result]) -> Result:
    """Each figure's median over the rounds (errors: the total)."""
    return Result(
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
        statistics.median(r.cpu_us for r in results),
        sum(r.attempts for r in results),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(text: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", text, re.M))
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?(\d+) timeout"):
        found = re.search(pattern, text)
        if found:
            errors += int(found.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+)", text)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(rps, to_ms(percentiles["50"]), to_ms(percentiles["99"]), errors)


def run_wrk(
    url: str,
    body: Path,
    workdir: Path,
    duration: int,
    connections: int,
    rate: float | None,
) -> Result:
    pacing = ""
    if rate is not None:
        # Each connection waits this long between requests: connections / interval = rate.
        pacing = PACING.format(interval_ms=int(connections * 1000 / rate))
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT.format(body=body, pacing=pacing))
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency"]
    cmd += ["--timeout", "5s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def server_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time so far of ``pid`` and of each of its children (the gunicorn
    workers), by process id."""
    pids = {pid}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids.update(int(child) for child in f.read().split())
    except OSError:
        return {}
    seconds = {}
    for each in pids:
        try:
            with open(f"/proc/{each}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that exited meanwhile
        seconds[each] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


#: A full-load measurement in which one worker did less than this share of the workers' CPU
#: time is measured again (up to MAX_ATTEMPTS in all), for every server alike. Every worker
#: polls the one listening socket and whichever wakes first accepts: now and then one worker
#: takes all of wrk's keep-alive connections and the other idles for the whole measurement.
#: That halves the server's throughput and doubles its CPU per request (32 connections on one
#: worker's threads), whatever the server does, and, landing at random on one server or the
#: other, it decided the ratio between them more than their code did.
MIN_WORKER_SHARE = 0.25
MAX_ATTEMPTS = 4


def measured(
    process: subprocess.Popen[bytes], url: str, body: Path, workdir: Path, args: Any
) -> Result:
    """A full-load run, with the server's own CPU time per request beside wrk's figures,
    taken again while one worker sat idle through it (see MIN_WORKER_SHARE)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = server_cpu_seconds(process.pid)
        result = run_wrk(url, body, workdir, args.duration, args.connections, None)
        after = server_cpu_seconds(process.pid)
        spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        requests = result.rps * args.duration
        result.cpu_us = sum(spent.values()) / requests * 1e6 if requests else 0.0
        result.attempts = attempt
        workers = [seconds for pid, seconds in spent.items() if pid != process.pid]
        if len(workers) < 2 or min(workers) >= MIN_WORKER_SHARE * sum(workers):
            break
    return result


def wait_ready(port: int, ca: Path, process: subprocess.Popen[bytes]) -> None:
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=context):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def write_body(review_path: Path, workdir: Path) -> Path:
    """The review as the API server sends it (compact JSON), saved for wrk."""
    review: dict[str, Any] = json.loads(review_path.read_text())
    body = workdir / review_path.name
    body.write_text(json.dumps(review, separators=(",", ":")))
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--rate", type=float, default=300.0, help="fixed request rate for latency")
    parser.add_argument("--rate-connections", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--workers", type=int, default=None, help="default: jobguard's")
    parser.add_argument("--threads", type=int, default=None, help="default: jobguard's")
    parser.add_argument(
        "--update", action="store_true", help="also measure /mutate on a CronJob UPDATE"
    )
    parser.add_argument(
        "--worker-baseline",
        action="store_true",
        help="also the null webhook on gunicorn's stock gthread worker (row 'null gthread'): "
        "what jobguard's worker (requests received in the event loop) costs",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    sys.path.insert(0, str(ROOT))
    from jobguard.certs import ensure_dev_certs

    workdir = Path(tempfile.mkdtemp(prefix="jobguard-bench-"))
    try:
        cert, key, ca = ensure_dev_certs(workdir / "certs")
        # label -> (URL path, body)
        bodies = {
            "/mutate": ("/mutate", write_body(MUTATE_REVIEW, workdir)),
            "/validate": ("/validate", write_body(VALIDATE_REVIEW, workdir)),
        }
        if args.update:
            bodies["/mutate UPD"] = ("/mutate", write_body(UPDATE_REVIEW, workdir))
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        tuning = []
        if args.workers:
            tuning += ["--workers", str(args.workers)]
        if args.threads:
            tuning += ["--threads", str(args.threads)]

        # The same server with every rule off: what the webhook itself costs, apart from rules.
        from jobguard.rules import ALL_RULES

        rules_off = workdir / "rules-off.yaml"
        rules_off.write_text(
            "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
            + "".join(f"  {r.name}: {{action: 'off'}}\n" for r in ALL_RULES)
        )
        ports = {"null webhook": free_port(), "jobguard": free_port(), "rules off": free_port()}
        if args.worker_baseline:
            ports["null gthread"] = free_port()
        overrides = {
            "bind": [f"127.0.0.1:{ports['null webhook']}"],
            "certfile": str(cert),
            "keyfile": str(key),
            "workers": args.workers,
            "threads": args.threads,
            "loglevel": "warning",
        }
        servers = {
            "null webhook": [
                sys.executable,
                "-c",
                NULL_SERVER.format(root=str(ROOT), overrides=overrides),
            ],
            "jobguard": [
                sys.executable,
                "-m",
                "jobguard",
                "serve",
                "--cert",
                str(cert),
                "--key",
                str(key),
                "--bind",
                f"127.0.0.1:{ports['jobguard']}",
                "--metrics-port",  # off: two servers cannot share the default port
                "0",
                *tuning,
            ],
            "rules off": [
                sys.executable,
                "-m",
                "jobguard",
                "serve",
                "--cert",
                str(cert),
                "--key",
                str(key),
                "--bind",
                f"127.0.0.1:{ports['rules off']}",
                "--metrics-port",
                "0",
                "--policy",
                str(rules_off),
                *tuning,
            ],
        }
        if args.worker_baseline:
            stock = {**overrides, "bind": [f"127.0.0.1:{ports['null gthread']}"]}
            stock["worker_class"] = "gthread"
            servers["null gthread"] = [
                sys.executable,
                "-c",
                NULL_SERVER.format(root=str(ROOT), overrides=stock),
            ]
        # Both servers run side by side (an idle one costs nothing) and the measurements
        # alternate between them, round after round: load from anything else on the machine
        # hits both columns alike. Each cell is the median over the rounds.
        processes = {}
        try:
            for name, cmd in servers.items():
                with open(workdir / f"{name.replace(' ', '-')}.log", "wb") as log:
                    processes[name] = subprocess.Popen(
                        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
                    )
            for name, process in processes.items():
                wait_ready(ports[name], ca, process)
            samples: dict[tuple[str, str], list[tuple[Result, Result]]] = {}
            for round_ in range(args.rounds):
                for label, (path, body) in bodies.items():
                    for name in servers:
                        url = f"https://127.0.0.1:{ports[name]}{path}"
                        if round_ == 0:
                            run_wrk(url, body, workdir, 2, args.connections, None)  # warm-up
                        full = measured(processes[name], url, body, workdir, args)
                        paced = run_wrk(
                            url, body, workdir, args.duration, args.rate_connections, args.rate
                        )
                        samples.setdefault((name, label), []).append((full, paced))
        finally:
            for process in processes.values():
                stop(process)
        rows = [
            (name, path, median([f for f, _ in runs]), median([p for _, p in runs]))
            for (name, path), runs in samples.items()
        ]
        order = list(servers)
        rows.sort(key=lambda r: (order.index(r[0]), r[1]))

        print(
            f"HTTPS, keep-alive, {os.cpu_count()} CPUs shared by server and wrk; "
            f"{args.duration}s per measurement, median of {args.rounds} alternating rounds"
        )
        header = (
            f"{'server':<14}{'path':<12}"
            f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'cpu us':>8}{'runs':>6}   |"
            f"{'at rate':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        )
        print(
            f"{'':<26}{'full load: ' + str(args.connections) + ' connections':<49}   |"
            f"  fixed rate {args.rate:g} req/s, {args.rate_connections} connections"
        )
        print(header)
        for name, path, full, paced in rows:
            print(
                f"{name:<14}{path:<12}{full.rps:>9.0f}{full.p50_ms:>9.2f}{full.p99_ms:>9.2f}"
                f"{full.errors:>8}{full.cpu_us:>8.0f}{full.attempts:>6}   |{paced.rps:>9.0f}{paced.p50_ms:>9.2f}{paced.p99_ms:>9.2f}"
                f"{paced.errors:>8}"
            )
        print(
            "cpu us: the server's own CPU time (arbiter and workers, user + system) per request "
            "at full load"
        )
        print(
            f"runs: full-load runs taken over the {args.rounds} rounds; more than {args.rounds}: "
            f"runs in which one worker did under {MIN_WORKER_SHARE:.0%} of the work were taken again"
        )
        null = {path: full.rps for name, path, full, _ in rows if name == "null webhook"}
        null_cpu = {path: full.cpu_us for name, path, full, _ in rows if name == "null webhook"}
        for name, path, full, paced in rows:
            if name == "null gthread":
                print(
                    f"null webhook {path} on jobguard's worker: CPU per request "
                    f"{null_cpu[path]:.0f} us against {full.cpu_us:.0f} us on stock gthread "
                    f"({null_cpu[path] / full.cpu_us - 1:+.0%}); throughput "
                    f"{null[path] / full.rps:.0%} of stock gthread's"
                )
            if name == "jobguard":
                print(
                    f"jobguard {path}: {full.rps / null[path]:.0%} of the null webhook's "
                    f"throughput (target >= 70%); p99 at {paced.rps:.0f} req/s: "
                    f"{paced.p99_ms:.2f} ms (target < 20 ms); server CPU per request "
                    f"{full.cpu_us:.0f} us against the null webhook's {null_cpu[path]:.0f} us"
                )
            if name == "rules off":
                print(
                    f"jobguard {path} with every rule off: {full.rps / null[path]:.0%} of the null "
                    f"webhook's throughput ({len(ALL_RULES)} rules registered)"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
