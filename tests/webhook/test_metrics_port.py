"""Metrics on a port of their own: plain HTTP, ``GET /metrics`` only, no side effect; and the
admission port no longer serves them. Against the real ``jobguard serve`` (gunicorn, 2 workers).
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from pathlib import Path

import pytest
import requests

from tests.webhook.support import (
    Server,
    SessionCA,
    fixture_object,
    metric_value,
    review_for,
    running_server,
    write_policy,
)

REVIEW = review_for(fixture_object("002-validate-Job-CREATE-pi.json"))


def test_metrics_are_plain_http_on_the_metrics_port(server: Server) -> None:
    server.review("validate", REVIEW)
    response = requests.get(server.metrics_url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert metric_value(response.text, "jobguard_policy_loaded_timestamp_seconds") > 0
    assert metric_value(response.text, "jobguard_certificate_expiry_timestamp_seconds") > 0


def test_the_admission_port_no_longer_serves_metrics(server: Server) -> None:
    response = server.get("/metrics", fresh=True)
    assert response.status_code == 404
    assert response.json()["response"]["status"]["message"] == "GET /metrics: Not Found"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/validate", 404),
        ("POST", "/mutate", 404),
        ("GET", "/healthz", 404),
        ("GET", "/", 404),
        ("POST", "/metrics", 405),
    ],
)
def test_the_metrics_port_serves_nothing_but_metrics(
    server: Server, method: str, path: str, status: int
) -> None:
    url = f"http://127.0.0.1:{server.metrics_port}{path}"
    body = json.dumps(REVIEW) if method == "POST" else None
    response = requests.request(
        method, url, data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == status
    assert "AdmissionReview" not in response.text  # never an admission answer


def test_the_metrics_port_does_not_speak_tls(server: Server) -> None:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with (
        socket.create_connection(("127.0.0.1", server.metrics_port), timeout=5) as raw,
        pytest.raises((ssl.SSLError, ConnectionError)),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_a_scrape_does_not_check_the_policy_files(tmp_path: Path) -> None:
    """A scrape used to run the policy reload check; now only a review (or a readiness probe)
    notices a changed file, and the scrape shows what the worker last saw."""
    policy = write_policy(tmp_path / "policy.yaml", {"backoff-limit": {"action": "warn"}})
    ca = SessionCA(tmp_path / "ca")
    (tmp_path / "ca").mkdir()
    with running_server(tmp_path / "server", ca, [str(policy)], ("--workers", "1")) as server:
        policy.write_text("rules: [this is not a policy\n")
        time.sleep(1.5)  # past the one-second check interval
        for _ in range(5):
            scraped = server.scrape().text
        assert metric_value(scraped, "jobguard_policy_reloads_total", result="rejected") == 0
        assert metric_value(scraped, "jobguard_policy_stale") == 0

        server.review("validate", REVIEW)  # a review checks the files: the change is seen
        assert server.metric("jobguard_policy_reloads_total", result="rejected") == 1
        assert server.metric("jobguard_policy_stale") == 1
