"""Running load against a real ``jobguard serve`` and poking at its processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.webhook.support import Server

ROOT = Path(__file__).resolve().parent.parent.parent


def start_traffic(
    server: Server, rate: float, duration: float, connections: int = 32
) -> subprocess.Popen[str]:
    """The paced load of :mod:`tests.reliability.traffic`, in its own process."""
    cmd = [sys.executable, "-m", "tests.reliability.traffic", "--url", server.url]
    cmd += ["--ca", str(server.ca_path), "--rate", str(rate), "--duration", str(duration)]
    cmd += ["--connections", str(connections)]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_traffic(process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the load generator did not finish in time") from None
    assert process.returncode == 0, err
    summary: dict[str, Any] = json.loads(out)
    return summary


def workers(server: Server) -> set[int]:
    """PIDs of the gunicorn workers: the children of the arbiter (the serve process)."""
    pid = server.process.pid
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found.update(int(child) for child in f.read().split())
    return found


def cpu_seconds(server: Server) -> float:
    """CPU time (user + system) the serve process and its current workers have used so far.

    CPU time, unlike wall time, does not grow when other processes hold the machine's cores,
    so a bound on it holds on a loaded machine and still catches work that grew."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in (server.process.pid, *workers(server)):
        with open(f"/proc/{pid}/stat") as f:
            # Fields after the parenthesised command name; utime and stime are fields 14, 15.
            fields = f.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_for(condition: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def describe(summary: dict[str, Any]) -> str:
    """One line for the test output: what the load achieved."""
    return (
        f"sent {summary['sent']} at {summary['rate']:.0f} req/s, ok {summary['ok']}, "
        f"p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
        f"max {summary['max_ms']:.1f} ms, statuses {summary['statuses']}"
    )
