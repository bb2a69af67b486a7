"""The ``jobguard serve`` command itself: the development certificate it creates when none is
given, and the gunicorn settings it runs with."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gunicorn.workers import gthread  # type: ignore[import-untyped]

from jobguard.webhook.server import WebhookServer
from jobguard.webhook.settings import Settings
from tests.webhook.support import free_port, free_ports, load_review


def test_without_a_certificate_it_creates_a_dev_ca_in_certs_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    outside = ("PROMETHEUS_MULTIPROC_DIR", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
    env = {k: v for k, v in os.environ.items() if k not in outside}
    cmd = [sys.executable, "-m", "jobguard", "serve", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--metrics-port", "0"]
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
        # --metrics-port 0: the admission port is the only listener
        [listening] = [line for line in log.read_text().splitlines() if "Listening at:" in line]
        assert f"Listening at: https://127.0.0.1:{port} (" in listening
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
        "jobguard.webhook.worker.WebhookWorker",
        2,
        32,
        120,
    )
    assert issubclass(cfg.worker_class, gthread.ThreadWorker)
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


def _serve_until_exit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``jobguard serve`` with a real certificate (the dev one) and ``args``; it must exit
    by itself within a minute."""
    return subprocess.run(
        [sys.executable, "-m", "jobguard", "serve", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
    )


@pytest.mark.parametrize("which", ["admission", "metrics"])
def test_a_taken_port_stops_serve_with_exit_2_and_says_which(tmp_path: Path, which: str) -> None:
    admission, metrics = free_ports(2)
    with socket.socket() as holder:  # another process's listener, as far as serve can tell
        holder.bind(("127.0.0.1", admission if which == "admission" else metrics))
        holder.listen()
        result = _serve_until_exit(
            tmp_path, "--bind", f"127.0.0.1:{admission}", "--metrics-port", str(metrics)
        )
    taken = f"127.0.0.1:{admission}" if which == "admission" else f"127.0.0.1:{metrics}"
    flag = "--bind" if which == "admission" else "--metrics-port"
    assert result.returncode == 2, result.stderr
    assert (
        f"error: cannot listen on {taken} ({which} port): the port is taken by another "
        f"process; stop it or choose another port with {flag}"
    ) in result.stderr
    assert "Traceback" not in result.stderr and "gunicorn" not in result.stderr.lower()


def test_metrics_on_the_admission_port_is_a_usage_error(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    result = _serve_until_exit(tmp_path, "--bind", f"127.0.0.1:{port}", "--metrics-port", str(port))
    assert result.returncode == 2
    assert f"{port} is the admission port (--bind); give metrics a port of their own" in (
        result.stderr
    )


def test_options_are_resolved_once_into_a_frozen_object_with_every_default() -> None:
    from jobguard.cli.serve import ServeOptions, resolve_options
    from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION
    from jobguard.webhook import settings

    given = dict(
        cert=None,
        key=None,
        bind="[::]:8443",
        metrics_port=9090,
        policies=("p.yaml",),
        workers=None,
        threads=None,
        keepalive=None,
        max_request_bytes=None,
        request_deadline=None,
        kubernetes_version=None,
    )
    options = resolve_options(**given)  # type: ignore[arg-type]
    assert options == ServeOptions(
        host="[::]",
        port=8443,
        metrics_port=9090,
        cert=None,
        key=None,
        policies=("p.yaml",),
        workers=settings.DEFAULT_WORKERS,
        threads=settings.DEFAULT_THREADS,
        keepalive=settings.DEFAULT_KEEPALIVE,
        max_request_bytes=settings.DEFAULT_MAX_REQUEST_BYTES,
        request_deadline=settings.DEFAULT_REQUEST_DEADLINE,
        kubernetes_version=DEFAULT_KUBERNETES_VERSION,
    )
    assert (options.bind, options.metrics_bind) == ("[::]:8443", "[::]:9090")
    auto = resolve_options(**{**given, "kubernetes_version": "auto", "workers": 4})  # type: ignore[arg-type]
    assert (auto.kubernetes_version, auto.workers) == (None, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.port = 1  # type: ignore[misc]
