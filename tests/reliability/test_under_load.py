"""The real webhook under a steady admission load, and under the faults a cluster brings.

Each test starts its own ``jobguard serve`` (gunicorn, TLS, two workers with the production
thread count) and drives it from a second process (:mod:`tests.reliability.traffic`: paced,
open loop, keep-alive connections, no retries, as the API server calls a webhook). The faults
are the real ones: SIGKILL of a worker, SIGHUP of the arbiter, a broken policy file published
the way the kubelet updates a ConfigMap volume, certificate files replaced by a rotation.
"""

from __future__ import annotations

import hashlib
import os
import signal
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.reliability.harness import (
    describe,
    finish_traffic,
    start_traffic,
    wait_for,
    workers,
)
from tests.webhook.support import (
    Server,
    SessionCA,
    all_rules_off,
    load_review,
    running_server,
    webhook_policy_paths,
)
from tests.webhook.test_policy_reload import (
    BROKEN,
    DENY_ONFAILURE,
    ONFAILURE_JOB,
    ConfigMapVolume,
)

pytestmark = pytest.mark.slow

#: Production process settings (threads come from jobguard's gunicorn defaults).
SERVE = ("--workers", "2")
PRODUCTION_THREADS = 32


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> SessionCA:
    return SessionCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def server(tmp_path: Path, ca: SessionCA) -> Iterator[Server]:
    with running_server(tmp_path / "server", ca, webhook_policy_paths(tmp_path), SERVE) as s:
        assert wait_for(lambda: len(workers(s)) == 2, 20)  # ready means one worker is up
        yield s


def _failures(summary: dict[str, Any]) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = summary["failures"]
    return failures


def test_steady_load_gets_every_answer_right(
    server: Server, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """200 requests/s for 20 s, mixed /mutate and /validate over Jobs and CronJobs."""
    summary = finish_traffic(start_traffic(server, rate=200, duration=20))
    with capsys.disabled():
        print(f"\nsteady load: {describe(summary)}")
    for key in ("rate", "p50_ms", "p99_ms", "max_ms"):
        record_property(key, round(summary[key], 1))
    assert _failures(summary) == []
    assert summary["statuses"] == {"200": 4000}
    assert summary["rate"] > 180  # the server kept up: nothing queued behind a slow answer
    assert summary["p99_ms"] < 1000  # the API server's webhook timeout is 10 s by default


def test_a_killed_worker_costs_at_most_its_requests_in_flight(server: Server) -> None:
    before = workers(server)
    assert len(before) == 2
    traffic = start_traffic(server, rate=150, duration=10)
    time.sleep(4)
    victim = min(before)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    # The arbiter notices and forks a replacement on its own.
    assert wait_for(
        lambda: len(workers(server) - before) == 1 and victim not in workers(server), 15
    )
    recovered_in = time.monotonic() - killed_at
    summary = finish_traffic(traffic)
    failures = _failures(summary)
    print(f"\nworker kill: {describe(summary)}; replacement up after {recovered_in:.2f} s")
    # Only connections that worker held can fail, and only as broken connections: never a
    # wrong answer or an error status.
    assert len(failures) <= PRODUCTION_THREADS
    assert all(f["status"] is None for f in failures), failures
    # Every failure was due around the kill; later requests all succeeded.
    assert all(3.0 <= f["due"] <= 4.0 + recovered_in + 1.0 for f in failures), failures
    assert summary["ok"] >= summary["sent"] - len(failures)
    assert server.get("/healthz", fresh=True).status_code == 200


def test_a_graceful_reload_under_load_fails_no_request(server: Server) -> None:
    before = workers(server)
    traffic = start_traffic(server, rate=150, duration=10)
    time.sleep(4)
    server.process.send_signal(signal.SIGHUP)
    # New workers replace the old ones, which finish what they were doing first.
    assert wait_for(lambda: len(workers(server)) == 2 and not workers(server) & before, 20)
    summary = finish_traffic(traffic)
    print(f"\nSIGHUP: {describe(summary)}")
    assert _failures(summary) == []
    assert summary["statuses"] == {"200": summary["sent"]}


def test_a_broken_policy_published_under_load_changes_nothing(
    tmp_path: Path, ca: SessionCA
) -> None:
    volume = ConfigMapVolume(tmp_path / "config")
    volume.publish(DENY_ONFAILURE)
    policies = [str(all_rules_off(tmp_path)), str(volume.policy)]
    with running_server(tmp_path / "server", ca, policies, SERVE) as server:
        assert _onfailure_allowed(server) is False
        traffic = start_traffic(server, rate=150, duration=8)
        time.sleep(3)
        volume.publish(BROKEN)
        summary = finish_traffic(traffic)
        print(f"\nbroken policy: {describe(summary)}")
        assert _failures(summary) == []
        # Both workers saw the broken file, refused it and kept the last good policy.
        assert wait_for(
            lambda: server.metric("jobguard_policy_reloads_total", result="rejected") >= 2, 10
        )
        ready = server.get("/readyz", fresh=True)
        assert ready.status_code == 200  # still serving the last good policy
        assert ready.json()["policy"]["stale"] is True
        assert "defualt" in ready.json()["policy"]["rejected_error"]
        assert _onfailure_allowed(server) is False


def _onfailure_allowed(server: Server) -> bool:
    review = load_review(ONFAILURE_JOB)
    r = requests.post(f"{server.url}/validate", json=review, verify=str(server.ca_path), timeout=10)
    assert r.status_code == 200
    allowed: bool = r.json()["response"]["allowed"]
    return allowed


def _served_fingerprint(server: Server) -> str:
    pem = ssl.get_server_certificate(("127.0.0.1", server.port), timeout=5)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_a_certificate_rotated_under_load_fails_no_request(server: Server, ca: SessionCA) -> None:
    old = _served_fingerprint(server)
    traffic = start_traffic(server, rate=150, duration=8)
    time.sleep(3)
    pair = ca.issue(server.cert_path, server.key_path)
    new = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pair.certificate_pem().decode())).hexdigest()
    summary = finish_traffic(traffic)
    print(f"\ncertificate rotation: {describe(summary)}")
    assert _failures(summary) == []
    assert new != old
    assert wait_for(lambda: _served_fingerprint(server) == new, 10)
