"""A trickle attack on the real webhook (``jobguard serve``: gunicorn, TLS, production thread
count) while the API server's traffic goes on.

Before the request deadline, four clients sending one header byte every 2 s kept ordinary
reviews waiting 12 s on ``--workers 1 --threads 4``, and about 128 did so on the default 2 x 32
threads: each read was bounded, the request was not, and each trickler held a thread. Now the
worker's event loop receives requests and a thread only takes a whole one, so tricklers hold no
thread, and each is dropped at the deadline. Two runs, each with a same-run baseline of the
same paced traffic (:mod:`tests.reliability.traffic`) without the attack:

* 200 trickling connections (:mod:`tests.reliability.trickle`: half trickle the headers a byte
  at a time, half the body 64 bytes at a time, one piece every 2 s, reconnecting whenever
  dropped) against the default 2 workers x 32 threads;
* 20 of them against ``--workers 1 --threads 4``, the set-up the attack was first shown on.

Every ordinary review must be answered right and within the request deadline; every trickling
connection must be closed by the server at the deadline, none answered. ``python -m pytest -s``
prints the figures recorded in docs/webhook.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobguard.webhook.settings import DEFAULT_REQUEST_DEADLINE
from tests.reliability.harness import ROOT, describe, finish_traffic, start_traffic
from tests.webhook.support import Server, SessionCA, running_server, webhook_policy_paths

pytestmark = pytest.mark.slow

RATE = 50.0  # ordinary reviews per second
DURATION = 8.0  # seconds of traffic, with and without the attack
INTERVAL = 2.0  # seconds between a trickler's pieces
#: What the server's deadline check may add on a busy machine.
SLACK = 1.5


def start_trickle(server: Server, connections: int, duration: float) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "tests.reliability.trickle", "--port", str(server.port)]
    cmd += ["--ca", str(server.ca_path), "--connections", str(connections)]
    cmd += ["--interval", str(INTERVAL), "--duration", str(duration)]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_trickle(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    summary: dict[str, Any] = json.loads(out)
    return summary


def traffic_under_attack(server: Server, tricklers: int) -> tuple[dict[str, Any], ...]:
    """(traffic alone, traffic under the attack, the attack's summary)."""
    baseline = finish_traffic(start_traffic(server, RATE, DURATION, connections=8))
    # The attack starts first and outlasts the traffic, so the traffic meets it whole.
    attack = start_trickle(server, tricklers, DURATION + 3 * DEFAULT_REQUEST_DEADLINE)
    import time

    time.sleep(DEFAULT_REQUEST_DEADLINE + 1)  # every trickler connected, some already redialled
    attacked = finish_traffic(start_traffic(server, RATE, DURATION, connections=8))
    return baseline, attacked, finish_trickle(attack)


def check(
    server: Server,
    tricklers: int,
    baseline: dict[str, Any],
    attacked: dict[str, Any],
    attack: dict[str, Any],
) -> None:
    print(f"\nwithout the attack: {describe(baseline)}")
    print(f"with {tricklers} trickling connections: {describe(attacked)}")
    print(f"the attack: {attack}")
    for summary in (baseline, attacked):
        assert summary["failures"] == [], summary["failures"][:5]
        assert summary["ok"] == summary["sent"] == int(RATE * DURATION)
    assert attacked["max_ms"] < DEFAULT_REQUEST_DEADLINE * 1000
    assert attack["answered"] == 0  # no trickled request was ever whole
    assert attack["connections"] >= tricklers  # every trickler got in, and was redialling
    assert attack["closed_by_server"] >= tricklers
    assert attack["since_connect_min_s"] >= DEFAULT_REQUEST_DEADLINE - 0.05  # not before it
    assert attack["since_request_max_s"] < DEFAULT_REQUEST_DEADLINE + SLACK
    assert server.metric("jobguard_requests_dropped_total") >= attack["closed_by_server"]


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("trickle-default")
    ca = SessionCA(directory)
    with running_server(directory / "server", ca, webhook_policy_paths(directory), ()) as s:
        yield s


def test_200_trickling_connections_do_not_delay_reviews_on_the_default_server(
    default_server: Server,
) -> None:
    check(default_server, 200, *traffic_under_attack(default_server, 200))


def test_trickling_connections_do_not_starve_a_four_thread_server(tmp_path: Path) -> None:
    ca = SessionCA(tmp_path)
    extra = ("--workers", "1", "--threads", "4")
    with running_server(tmp_path / "server", ca, webhook_policy_paths(tmp_path), extra) as s:
        check(s, 20, *traffic_under_attack(s, 20))
