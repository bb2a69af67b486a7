"""A bounded, paced admission load, run as a separate process so that the client does not share
the test process (and its GIL) with anything else:

    python -m tests.reliability.traffic --url https://127.0.0.1:8443 --ca ca.crt \
        --rate 200 --duration 20 [--connections 32]

Open loop: request ``i`` is due at ``i / rate`` seconds, whatever happened to the others, and its
latency is counted from when it was due. A server that stalls shows up as latency (and as
requests still waiting), not as a politely lower rate. Requests alternate between ``/mutate``
and ``/validate`` and cycle through captured Jobs and CronJobs (tests/fixtures/admission), each
with a fresh uid, over keep-alive TLS connections, one per sender thread, as the API server
keeps them. Nothing is retried: the API server does not retry a webhook call either.

Prints one JSON summary on stdout: counts, latency percentiles, and every failure with its
time offset, so that a test can line failures up with the fault it injected.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

ADMISSION = Path(__file__).resolve().parent.parent / "fixtures" / "admission"
#: Captured CREATE requests of both kinds, with and without findings under the test policy.
REQUESTS = (
    "002-validate-Job-CREATE-pi.json",
    "003-mutate-Job-CREATE-noname.json",
    "005-validate-Job-CREATE-primes-xrmf7.json",
    "007-validate-Job-CREATE-indexed-render.json",
    "010-mutate-CronJob-CREATE-nightly-report.json",
    "011-validate-CronJob-CREATE-nightly-report.json",
    "021-mutate-Job-CREATE-from-cron.json",
    "025-mutate-CronJob-CREATE-cleanup-tmp.json",
)
PATHS = ("/mutate?timeout=10s", "/validate?timeout=10s")
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, */*",
    "User-Agent": "kube-apiserver-admission",
}


@dataclass
class Outcome:
    """One request: when it was due (s after start), how long it took from then, and how it ended."""

    due: float
    latency: float
    path: str
    status: int | None = None  # HTTP status; None when the transport failed
    error: str | None = None  # exception class name, or a description of a bad answer


@dataclass
class Summary:
    sent: int
    ok: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def review_bodies() -> list[dict[str, Any]]:
    return [json.loads((ADMISSION / name).read_text()) for name in REQUESTS]


def check_answer(response: requests.Response, uid: str) -> str | None:
    """None when the answer is a well-formed AdmissionReview for ``uid``, else what is wrong."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        answer = response.json()
        reply = answer["response"]
    except (ValueError, KeyError, TypeError):
        return "not an AdmissionReview"
    if answer.get("kind") != "AdmissionReview" or reply.get("uid") != uid:
        return "uid not echoed"
    if not isinstance(reply.get("allowed"), bool):
        return "no decision"
    return None


def send(
    session: requests.Session, url: str, ca: str, review: dict[str, Any]
) -> tuple[int | None, str | None]:
    uid = str(uuid.uuid4())
    review = {**review, "request": {**review["request"], "uid": uid}}
    try:
        response = session.post(
            url, data=json.dumps(review), headers=HEADERS, verify=ca, timeout=10
        )
    except requests.RequestException as exc:
        # The underlying cause names the failure best (ConnectionResetError, ReadTimeout...).
        cause = exc.__context__ or exc
        return None, type(exc).__name__ + ":" + type(cause).__name__
    return response.status_code, check_answer(response, uid)


def run(url: str, ca: str, rate: float, duration: float, connections: int) -> Summary:
    reviews = review_bodies()
    total = int(rate * duration)
    due: queue.Queue[int | None] = queue.Queue()
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def sender() -> None:
        with requests.Session() as session:
            while True:
                i = due.get()
                if i is None:
                    return
                at = start + i / rate
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                path = PATHS[i % len(PATHS)]
                status, error = send(session, url + path, ca, reviews[i % len(reviews)])
                outcome = Outcome(at - start, time.monotonic() - at, path, status, error)
                with lock:
                    outcomes.append(outcome)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for i in range(total):
        due.put(i)
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    elapsed = max(o.due + o.latency for o in outcomes) if outcomes else 0.0
    return summarise(outcomes, elapsed)


def summarise(outcomes: list[Outcome], elapsed: float) -> Summary:
    latencies = sorted(o.latency for o in outcomes)

    def percentile(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    statuses: dict[str, int] = {}
    for o in outcomes:
        key = str(o.status) if o.status is not None else "transport error"
        statuses[key] = statuses.get(key, 0) + 1
    failures = [asdict(o) for o in sorted(outcomes, key=lambda o: o.due) if o.error is not None]
    return Summary(
        sent=len(outcomes),
        ok=len(outcomes) - len(failures),
        rate=len(outcomes) / elapsed if elapsed else 0.0,
        p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99_ms=percentile(0.99),
        max_ms=latencies[-1] * 1000 if latencies else 0.0,
        statuses=statuses,
        failures=failures,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    summary = run(args.url.rstrip("/"), args.ca, args.rate, args.duration, args.connections)
    json.dump(asdict(summary), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
