"""Slow and abusive clients do not starve the real webhook.

Each test opens more misbehaving connections than the server has worker threads (2 workers x 32
threads in production) and, while they hang on, checks that an ordinary client still gets right
answers at once (requests are received by each worker's event loop: a misbehaving connection
holds no thread), and that the server lets go of the misbehaving connections on its own, at the
request deadline. The server is the real ``jobguard serve`` (gunicorn, TLS) with its production
thread count.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from jobguard.webhook.settings import DEFAULT_REQUEST_DEADLINE as DEADLINE
from tests.reliability.harness import wait_for, workers
from tests.webhook.support import (
    APISERVER_HEADERS,
    Server,
    SessionCA,
    load_review,
    review_for,
    running_server,
    webhook_policy_paths,
)

pytestmark = pytest.mark.slow

THREADS = 2 * 32
ABUSERS = THREADS + 16
#: What an ordinary request may take while the abuse goes on: no thread is held by an abuser,
#: so this is a loaded machine's scheduling, far below the request deadline.
BUDGET = 2.0
REVIEW = review_for(load_review("002-validate-Job-CREATE-pi.json")["request"]["object"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("abuse")
    ca = SessionCA(directory / "ca")
    (directory / "ca").mkdir()
    with running_server(
        directory / "server", ca, webhook_policy_paths(directory), ("--workers", "2")
    ) as s:
        assert wait_for(lambda: len(workers(s)) == 2, 20)
        yield s


def _client_context(server: Server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_path))


def _ordinary_requests(server: Server, count: int = 5) -> float:
    """``count`` reviews on fresh connections; all answered right. Returns the slowest (s)."""
    slowest = 0.0
    for _ in range(count):
        started = time.monotonic()
        r = requests.post(
            f"{server.url}/validate",
            data=json.dumps(REVIEW),
            headers=APISERVER_HEADERS,
            verify=str(server.ca_path),
            timeout=10,
        )
        slowest = max(slowest, time.monotonic() - started)
        assert r.status_code == 200
        assert r.json()["response"]["uid"] == REVIEW["request"]["uid"]
    return slowest


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _tls(server: Server) -> ssl.SSLSocket:
    return _client_context(server).wrap_socket(_connect(server), server_hostname="127.0.0.1")


def _closed_by_server_after(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Wait for the server to answer or close ``sock``: (seconds waited, what it sent)."""
    sock.settimeout(limit)
    started = time.monotonic()
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    return time.monotonic() - started, received


def _close_all(socks: list[socket.socket]) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def test_connections_that_never_start_tls(server: Server) -> None:
    idle = [_connect(server) for _ in range(ABUSERS)]
    try:
        time.sleep(0.5)
        slowest = _ordinary_requests(server)
        print(f"\n{ABUSERS} silent TCP connections: slowest ordinary request {slowest:.2f} s")
        assert slowest < BUDGET
    finally:
        _close_all(idle)


def _client_hello_only(server: Server) -> socket.socket:
    """A connection that sends its ClientHello and then never finishes the handshake."""
    sock = _connect(server)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = _client_context(server).wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    sock.sendall(outgoing.read())
    return sock


def test_handshakes_that_stall_after_the_client_hello(server: Server) -> None:
    stalled = [_client_hello_only(server) for _ in range(ABUSERS)]
    try:
        slowest = _ordinary_requests(server)
        print(f"\n{ABUSERS} stalled handshakes: slowest ordinary request {slowest:.2f} s")
        assert slowest < BUDGET
        waited, _ = _closed_by_server_after(stalled[-1], DEADLINE + 10)
        assert waited < DEADLINE + 2  # dropped, not kept for the keep-alive time (120 s)
    finally:
        _close_all(stalled)


def _headers(length: int) -> bytes:
    return (
        "POST /validate?timeout=10s HTTP/1.1\r\nHost: jobguard\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _stalled_upload(server: Server, sent: bytes) -> tuple[ssl.SSLSocket, float] | None:
    """A connection that sent ``sent`` and then nothing: (socket, when it stopped sending)."""
    try:
        sock = _tls(server)
    except (TimeoutError, ssl.SSLError, OSError):
        return None  # every thread busy with the others: this one waited its turn and gave up
    sock.sendall(sent)
    return sock, time.monotonic()


@pytest.mark.parametrize(
    "sent",
    [_headers(10_000), _headers(10_000) + b'{"apiVersion": "admission.k8s.io/v1", ' * 3],
    ids=["headers-then-nothing", "body-shorter-than-announced"],
)
def test_requests_that_stall_midway(server: Server, sent: bytes) -> None:
    with ThreadPoolExecutor(ABUSERS) as pool:  # all at once, as a flood would come
        opened = list(pool.map(lambda _: _stalled_upload(server, sent), range(ABUSERS)))
    stalled = [s for s in opened if s is not None]
    try:
        assert len(stalled) == ABUSERS  # a new connection waits for no thread
        slowest = _ordinary_requests(server)
        print(f"\n{len(stalled)} stalled uploads: slowest ordinary request {slowest:.2f} s")
        assert slowest < BUDGET
        # The last one to stall is dropped (closed, no answer) at the request deadline: it
        # never held a thread, and does not hold its connection until the client goes away.
        sock, stopped = max(stalled, key=lambda pair: pair[1])
        _, answer = _closed_by_server_after(sock, DEADLINE + 10)
        assert time.monotonic() - stopped < DEADLINE + 2
        assert answer == b""
    finally:
        _close_all([sock for sock, _ in stalled])


def test_many_idle_keepalive_connections_stay_usable(server: Server) -> None:
    """Kept-alive connections wait in the poller, not in threads: more of them than threads
    take nothing from others, and each can carry its next request later."""
    sessions = [requests.Session() for _ in range(ABUSERS)]
    try:
        for session in sessions:
            r = session.post(
                f"{server.url}/validate",
                data=json.dumps(REVIEW),
                headers=APISERVER_HEADERS,
                verify=str(server.ca_path),
                timeout=10,
            )
            assert r.status_code == 200
        time.sleep(1)
        slowest = _ordinary_requests(server)
        print(f"\n{ABUSERS} idle keep-alive connections: slowest ordinary request {slowest:.2f} s")
        assert slowest < 2
        for session in sessions[:: len(sessions) // 4]:
            r = session.post(
                f"{server.url}/validate",
                data=json.dumps(REVIEW),
                headers=APISERVER_HEADERS,
                verify=str(server.ca_path),
                timeout=10,
            )
            assert r.status_code == 200
    finally:
        for session in sessions:
            session.close()


def test_the_server_survived_every_abuse(server: Server) -> None:
    assert server.process.poll() is None
    assert _ordinary_requests(server, 3) < 2
    log = Path(server.log_path).read_text()
    assert "Worker failed to boot" not in log
