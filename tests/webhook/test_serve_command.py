"""The ``jobguard serve`` command itself: the development certificate it creates when none is
given, and the gunicorn settings it runs with."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from jobguard.webhook.server import WebhookServer
from jobguard.webhook.settings import Settings
from tests.webhook.support import free_port, load_review


def test_without_a_certificate_it_creates_a_dev_ca_in_certs_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    outside = ("PROMETHEUS_MULTIPROC_DIR", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
    env = {k: v for k, v in os.environ.items() if k not in outside}
    cmd = [sys.executable, "-m", "jobguard", "serve", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--kubernetes-version", "auto"]  # no cluster here: falls back to the default
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        ca = tmp_path / "certs" / "ca.crt"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                r = requests.post(
                    f"https://localhost:{port}/validate",
                    json=load_review("002-validate-Job-CREATE-pi.json"),
                    verify=str(ca),
                    timeout=5,
                )
                break
            except (requests.ConnectionError, OSError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["response"]["allowed"] is True
        assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == [
            "ca.crt",
            "ca.key",
            "tls.crt",
            "tls.key",
        ]
        assert (
            "jobguard: no --cert given: serving a development certificate (certs/tls.crt); "
            "clients must trust certs/ca.crt"
        ) in log.read_text()
        assert (
            "jobguard: warning: cannot learn the cluster's Kubernetes version: not running in a "
            "cluster (Service host/port is not set.); version-dependent rules target the "
            "default, Kubernetes 1.37"
        ) in log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_cert_without_key_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobguard", "serve", "--cert", "tls.crt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--cert and --key go together" in result.stderr


def test_gunicorn_runs_gthread_with_many_threads_and_long_keep_alive() -> None:
    server = WebhookServer(Settings(), {"bind": ["127.0.0.1:0"], "workers": None})
    cfg = server.cfg
    assert (cfg.worker_class_str, cfg.workers, cfg.threads, cfg.keepalive) == (
        "gthread",
        2,
        32,
        120,
    )
    assert cfg.accesslog is None and cfg.control_socket_disable is True
    overridden = WebhookServer(Settings(), {"workers": 3, "threads": 64, "keepalive": 200}).cfg
    assert (overridden.workers, overridden.threads, overridden.keepalive) == (3, 64, 200)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("latest", "'latest' is not MAJOR.MINOR (e.g. 1.37)"),
        ("1.24", "Kubernetes 1.24 is not supported: jobguard knows the API of 1.25 to 1.37"),
        ("v1.34", "'v1.34': give the minor release as MAJOR.MINOR, '1.34'"),
    ],
)
def test_bad_kubernetes_version_is_a_usage_error(tmp_path: Path, value: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobguard", "serve", "--kubernetes-version", value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "certs").exists()
