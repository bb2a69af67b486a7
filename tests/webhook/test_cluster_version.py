"""`jobguard serve --kubernetes-version auto`: the real kubernetes client, in-cluster
configuration, against a local HTTPS server.

No kube-apiserver can run here: `_VersionServer` stands in for one. It serves `/version` over
TLS with a certificate for 127.0.0.1 from a CA the service-account directory holds, checks the
bearer token as the API server does (401 otherwise), and answers what a test tells it: the
body a v1.36 API server sends, a managed service's `"36+"`, garbage, an error status, or
nothing at all (a hang).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from jobguard.certs.pki import SubjectNames, generate_ca, issue_serving_certificate
from jobguard.webhook.cluster_version import (
    ClusterVersionError,
    ask_cluster_version,
    in_cluster_configuration,
    target_version,
    version_from_info,
)

TOKEN = "service-account-token"

# The shape of GET /version from a v1.36 API server (kube-apiserver's version.Info).
V1_36 = {
    "major": "1",
    "minor": "36",
    "emulationMajor": "1",
    "emulationMinor": "36",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "35",
    "gitVersion": "v1.36.2",
    "gitCommit": "0123456789abcdef0123456789abcdef01234567",
    "gitTreeState": "clean",
    "buildDate": "2026-10-14T12:00:00Z",
    "goVersion": "go1.25.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass
class Answer:
    status: int = 200
    body: bytes = json.dumps(V1_36).encode()
    delay: float = 0.0
    requests: list[tuple[str, str | None]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    answer: Answer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.answer.requests.append((self.path, self.headers.get("Authorization")))
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token != TOKEN:  # the scheme is case-insensitive
            body, status = b'{"kind":"Status","code":401,"reason":"Unauthorized"}', 401
        elif self.path != "/version/":
            body, status = b'{"kind":"Status","code":404}', 404
        else:
            time.sleep(self.answer.delay)
            body, status = self.answer.body, self.answer.status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def version_server(tmp_path: Path, answer: Answer) -> Iterator[tuple[dict[str, str], Path]]:
    """(pod environment, service-account directory) of a running stand-in API server."""
    ca = generate_ca()
    serving = issue_serving_certificate(
        ca, SubjectNames(ip_addresses=(ipaddress.ip_address("127.0.0.1"),))
    )
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_bytes(ca.certificate_pem())
    (tmp_path / "tls.crt").write_bytes(serving.certificate_pem())
    (tmp_path / "tls.key").write_bytes(serving.private_key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    handler = type("Handler", (_Handler,), {"answer": answer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(server.server_port),
    }
    try:
        yield env, account
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _ask(env: dict[str, str], account: Path, timeout: float = 5.0) -> tuple[tuple[int, int], str]:
    return ask_cluster_version(in_cluster_configuration(env, str(account)), timeout=timeout)


def test_the_cluster_version_is_read_with_the_service_account(tmp_path: Path) -> None:
    answer = Answer()
    with version_server(tmp_path, answer) as (env, account):
        assert _ask(env, account) == ((1, 36), "v1.36.2")
    assert answer.requests == [("/version/", f"bearer {TOKEN}")]


def test_a_managed_service_minor_with_a_plus_is_read(tmp_path: Path) -> None:
    eks = {**V1_36, "minor": "35+", "gitVersion": "v1.35.4-eks-5d4a308"}
    with version_server(tmp_path, Answer(body=json.dumps(eks).encode())) as (env, account):
        assert _ask(env, account) == ((1, 35), "v1.35.4-eks-5d4a308")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            Answer(body=b"<html>gateway</html>"),
            "GET /version answered something that is not JSON: b'<html>gateway</html>'",
        ),
        (Answer(body=b"[1, 36]"), "GET /version answered list, not an object"),
        (
            Answer(body=b'{"major": "one", "minor": "", "gitVersion": "unknown"}'),
            "the answer names no Kubernetes release: {'major': 'one', 'minor': '', 'gitVersion': 'unknown'}",
        ),
        (
            Answer(status=500, body=b'{"kind":"Status","code":500}'),
            "GET /version: HTTP 500 Internal Server Error",
        ),
        (
            Answer(status=403, body=b'{"kind":"Status","code":403}'),
            "GET /version: HTTP 403 Forbidden",
        ),
    ],
)
def test_garbage_and_error_answers_are_errors_that_say_what_came(
    tmp_path: Path, answer: Answer, reason: str
) -> None:
    with (
        version_server(tmp_path, answer) as (env, account),
        pytest.raises(ClusterVersionError) as exc,
    ):
        _ask(env, account)
    assert str(exc.value) == reason


def test_a_wrong_token_is_reported_as_unauthorized(tmp_path: Path) -> None:
    with version_server(tmp_path, Answer()) as (env, account):
        (account / "token").write_text("stolen")
        with pytest.raises(ClusterVersionError, match=r"^GET /version: HTTP 401 Unauthorized$"):
            _ask(env, account)


def test_a_server_that_does_not_answer_times_out(tmp_path: Path) -> None:
    with version_server(tmp_path, Answer(delay=3.0)) as (env, account):
        started = time.monotonic()
        with pytest.raises(ClusterVersionError, match=r"^GET /version: .*(?i:timed? ?out)"):
            _ask(env, account, timeout=0.5)
        assert time.monotonic() - started < 2.5


def test_an_unreachable_server_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with version_server(tmp_path, Answer()) as (env, account):
        env = {**env, "KUBERNETES_SERVICE_PORT": str(port)}
        with pytest.raises(ClusterVersionError, match=r"^GET /version: "):
            _ask(env, account, timeout=2.0)


def test_outside_a_cluster_there_is_no_configuration(tmp_path: Path) -> None:
    with pytest.raises(
        ClusterVersionError, match=r"^not running in a cluster \(Service host/port is not set\.\)$"
    ):
        in_cluster_configuration({}, str(tmp_path))


def _target(ask: Any) -> tuple[tuple[int, int], list[str]]:
    lines: list[str] = []
    return target_version(None, lines.append, ask), lines


def test_auto_uses_and_logs_the_cluster_version(tmp_path: Path) -> None:
    with version_server(tmp_path, Answer()) as (env, account):
        version, lines = _target(lambda: _ask(env, account))
    assert version == (1, 36)
    assert lines == [
        "the API server runs Kubernetes 1.36 (v1.36.2); version-dependent rules target 1.36"
    ]


def test_auto_falls_back_to_the_default_with_a_warning(tmp_path: Path) -> None:
    with version_server(tmp_path, Answer(body=b"garbage")) as (env, account):
        version, lines = _target(lambda: _ask(env, account))
    assert version == (1, 37)
    assert lines == [
        "warning: cannot learn the cluster's Kubernetes version: GET /version answered something "
        "that is not JSON: b'garbage'; version-dependent rules target the default, Kubernetes 1.37"
    ]


@pytest.mark.parametrize(("minor", "target"), [("24", (1, 25)), ("40", (1, 37))])
def test_a_release_outside_the_range_is_clamped_with_a_warning(
    tmp_path: Path, minor: str, target: tuple[int, int]
) -> None:
    body = json.dumps({**V1_36, "minor": minor, "gitVersion": f"v1.{minor}.0"}).encode()
    with version_server(tmp_path, Answer(body=body)) as (env, account):
        version, lines = _target(lambda: _ask(env, account))
    assert version == target
    assert lines == [
        f"warning: the API server runs Kubernetes 1.{minor} (v1.{minor}.0), outside the supported "
        f"1.25 to 1.37; version-dependent rules target {target[0]}.{target[1]}"
    ]


def test_an_explicit_version_is_not_asked_for() -> None:
    lines: list[str] = []

    def never() -> tuple[tuple[int, int], str]:
        raise AssertionError("asked the cluster")

    assert target_version((1, 33), lines.append, never) == (1, 33)
    assert lines == ["version-dependent rules target Kubernetes 1.33 (--kubernetes-version)"]


@pytest.mark.parametrize(
    ("info", "version"),
    [
        ({"major": "1", "minor": "36"}, (1, 36)),
        ({"major": "1", "minor": "36+"}, (1, 36)),
        ({"major": "", "minor": "", "gitVersion": "v1.34.1-gke.1234"}, (1, 34)),
        ({"gitVersion": "v1.33.0"}, (1, 33)),
    ],
)
def test_version_from_info(info: dict[str, str], version: tuple[int, int]) -> None:
    assert version_from_info(info) == version
