"""Connection abuse against the real webhook (gunicorn, TLS) with the tests' thread count.

The server runs 2 workers x 8 threads and a 3 s keep-alive. Abusers: requests that stall
(headers announcing a 10,000-byte body and none or 100 bytes of it, half a request line),
handshakes that stall after the ClientHello, uploads cut short by a half-close, connections that
never start TLS, and idle keep-alive connections, up to three times as many as there are
threads. While each abuse goes on, an ordinary client (fresh connections and a kept-alive one,
as the API server uses) must get right answers to /validate at once: requests are received by
the worker's event loop, so an abuser holds no thread. The server must let go of each abuser
within a bound that follows from its settings: the request deadline
(``jobguard.webhook.settings.DEFAULT_REQUEST_DEADLINE``) for a connection stuck in its handshake
or mid-request, the keep-alive time for one that says nothing after a request. Bounds are
measured from the abuser's last byte. Finally the log must hold no traceback, and the metrics
must count every dropped request.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from jobguard.webhook.settings import DEFAULT_REQUEST_DEADLINE
from tests.webhook.support import (
    APISERVER_HEADERS,
    Server,
    SessionCA,
    load_review,
    running_server,
    webhook_policy_paths,
)

pytestmark = pytest.mark.slow

WORKERS, THREADS = 2, 8
KEEPALIVE = 3
ABUSERS = WORKERS * THREADS + 8
DEADLINE = DEFAULT_REQUEST_DEADLINE
#: An ordinary request while abusers wait in the event loop, holding no thread.
FAST = 2.0
#: Stalled clients that leave a worker some threads even if they all land on that worker.
FEW = THREADS - 2
#: The server checks deadlines as they fall due; the rest is scheduling on a busy machine.
SLACK = 2.0
REVIEW = load_review("002-validate-Job-CREATE-pi.json")
BODY = json.dumps(REVIEW).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("connections")
    ca = SessionCA(directory)
    extra = ["--workers", str(WORKERS), "--threads", str(THREADS), "--keep-alive", str(KEEPALIVE)]
    with running_server(directory / "server", ca, webhook_policy_paths(directory), extra) as s:
        yield s


# -- the ordinary client ----------------------------------------------------------------------


def check_answer(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    answer = response.json()["response"]
    assert answer["uid"] == REVIEW["request"]["uid"]
    assert answer["allowed"] is True


def ordinary_requests(server: Server, count: int = 3) -> float:
    """``count`` reviews on fresh connections and ``count`` on one kept-alive connection, all
    answered right; returns the slowest (seconds)."""
    slowest = 0.0
    with requests.Session() as kept_alive:
        for client in [requests] * count + [kept_alive] * count:
            started = time.monotonic()
            response = client.post(
                server.url + "/validate",
                data=BODY,
                headers=APISERVER_HEADERS,
                verify=str(server.ca_path),
                timeout=10,
            )
            slowest = max(slowest, time.monotonic() - started)
            check_answer(response)
    return slowest


# -- abusive clients --------------------------------------------------------------------------


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=15)


def client_context(server: Server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_path))


def tls_connect(server: Server) -> ssl.SSLSocket:
    return client_context(server).wrap_socket(connect(server), server_hostname="127.0.0.1")


@dataclass
class Reply:
    data: bytes
    answered: float  #: seconds from the abuser's last byte to the server's first (or its close)
    closed: float  #: seconds from the abuser's last byte to the server's close


def read_until_closed(sock: socket.socket, last_byte_at: float, limit: float) -> Reply:
    sock.settimeout(limit)
    received = b""
    answered = None
    with contextlib.suppress(ConnectionResetError, ssl.SSLError):
        while chunk := sock.recv(65536):
            received += chunk
            answered = answered or time.monotonic() - last_byte_at
    closed = time.monotonic() - last_byte_at
    return Reply(received, answered if answered is not None else closed, closed)


class HalfClosingClient:
    """TLS over memory buffers, so the client can half-close the TLS way: send close_notify
    and a TCP FIN, then go on reading the answer (``SSLSocket`` cannot read after either)."""

    def __init__(self, server: Server):
        self.sock = connect(server)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = client_context(server).wrap_bio(
            self.incoming, self.outgoing, server_hostname="127.0.0.1"
        )
        self._pump(self.tls.do_handshake)

    def _flush(self) -> None:
        if self.outgoing.pending:
            self.sock.sendall(self.outgoing.read())

    def _pump(self, step: Callable[[], Any]) -> Any:
        while True:
            try:
                result = step()
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                self.incoming.write(data) if data else self.incoming.write_eof()
                continue
            self._flush()
            return result

    def send_and_half_close(self, data: bytes) -> None:
        self.tls.write(data)
        with contextlib.suppress(ssl.SSLWantReadError):  # it would wait for the server's
            self.tls.unwrap()
        self._flush()
        self.sock.shutdown(socket.SHUT_WR)

    def read_until_closed(self, last_byte_at: float) -> Reply:
        received = b""
        with contextlib.suppress(ssl.SSLError, ConnectionResetError):
            while chunk := self._pump(lambda: self.tls.read(65536)):
                received += chunk
        closed = time.monotonic() - last_byte_at
        return Reply(received, closed, closed)


def stalled_upload(server: Server, sent: bytes, limit: float) -> Reply:
    """Send ``sent`` (an incomplete request) and wait for the server to give up on it."""
    with tls_connect(server) as sock:
        sock.sendall(sent)
        return read_until_closed(sock, time.monotonic(), limit)


def half_closed_upload(server: Server, sent: bytes, limit: float) -> Reply:
    client = HalfClosingClient(server)
    client.sock.settimeout(limit)
    try:
        client.send_and_half_close(sent)
        return client.read_until_closed(time.monotonic())
    finally:
        client.sock.close()


def stalled_handshake(server: Server, limit: float) -> Reply:
    """Send a ClientHello, then nothing: the server's reply to it arrives, then its close."""
    with connect(server) as sock:
        outgoing = ssl.MemoryBIO()
        tls = client_context(server).wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="x")
        with contextlib.suppress(ssl.SSLWantReadError):
            tls.do_handshake()
        sock.sendall(outgoing.read())
        reply = read_until_closed(sock, time.monotonic(), limit)
        return Reply(reply.data, reply.closed, reply.closed)  # timed to the close


def silent_connection(server: Server, limit: float) -> Reply:
    with connect(server) as sock:
        return read_until_closed(sock, time.monotonic(), limit)


def abuse_and_probe(
    server: Server, abuse: Callable[[], Reply], count: int = ABUSERS, settle: float = 0.5
) -> tuple[list[Reply], float]:
    """Run ``count`` abusers at once, as a flood would come, and after ``settle`` seconds send
    ordinary requests until the server is done with all of them: (their replies, the slowest
    ordinary request)."""
    slowest = 0.0
    with ThreadPoolExecutor(count) as pool:
        abusers = [pool.submit(abuse) for _ in range(count)]
        time.sleep(settle)
        while True:
            slowest = max(slowest, ordinary_requests(server, count=1))
            if all(a.done() for a in abusers):
                break
            time.sleep(0.1)
        return [a.result() for a in abusers], slowest


def idle_after_one_request(server: Server, limit: float) -> Reply:
    """One review on a raw TLS connection, answered; then the connection is left idle until
    the server closes it (timed from the end of the answer)."""
    with tls_connect(server) as sock:
        sock.sendall(head(len(BODY)) + BODY)
        answer = read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert b"Connection: close" not in answer
        return read_until_closed(sock, time.monotonic(), limit)


def read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer with a Content-Length body (jobguard's are)."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(65536)
        assert chunk, reply
        reply += chunk
    header, _, body = reply.partition(b"\r\n\r\n")
    length = int(header.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, reply
        body += chunk
    return header + b"\r\n\r\n" + body


def head(content_length: int) -> bytes:
    return (
        "POST /validate?timeout=10s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    ).encode()


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f} s"


# -- the tests --------------------------------------------------------------------------------


#: Abusers dropped at the request deadline, by the tests that ran (each counted in the metrics).
DROPPED: list[int] = []


@pytest.mark.parametrize(
    ("sent", "count"),
    [
        (head(10_000), FEW),
        (head(10_000) + b" " * 100, FEW),
        (head(10_000)[:30], FEW),
        (head(10_000), 3 * WORKERS * THREADS),
    ],
    ids=["few-headers-only", "few-100-of-10000-bytes", "few-half-a-request-line", "3x-threads"],
)
def test_requests_that_stall(server: Server, sent: bytes, count: int) -> None:
    """Each abuser sends part of a request (headers announcing a 10,000-byte body and none or
    100 bytes of it, or half a request line) and waits. The request is never whole, so no
    thread ever takes it: ordinary requests are untouched however many abusers there are,
    and each abuser is dropped (closed, no answer) at the request deadline."""
    replies, slowest = abuse_and_probe(
        server, lambda: stalled_upload(server, sent, DEADLINE + 15), count
    )
    DROPPED.append(count)
    closed = [r.closed for r in replies]
    print(
        f"\n{count} x {sent[-16:]!r} stalled: slowest ordinary request {slowest:.2f} s; "
        f"dropped after {spread(closed)}"
    )
    assert slowest < FAST
    assert {r.data for r in replies} == {b""}
    assert min(closed) > DEADLINE - 0.5
    assert max(closed) < DEADLINE + SLACK


def test_handshakes_that_stall_after_the_client_hello(server: Server) -> None:
    replies, slowest = abuse_and_probe(
        server, lambda: stalled_handshake(server, DEADLINE + 15), ABUSERS
    )
    DROPPED.append(ABUSERS)
    closed = [r.closed for r in replies]
    print(
        f"\n{ABUSERS} handshakes stalled after the ClientHello: slowest ordinary request "
        f"{slowest:.2f} s, closed after {spread(closed)}"
    )
    assert slowest < FAST
    assert min(closed) > DEADLINE - 0.5
    assert max(closed) < DEADLINE + SLACK


def test_uploads_that_half_close_short(server: Server) -> None:
    """Each abuser sends 100 of the 10,000 bytes it announced, then half-closes (TLS
    close_notify and TCP FIN) and reads. The body ended there: it is judged at once (400, not
    JSON), without waiting for the deadline."""
    sent = head(10_000) + b" " * 100
    replies, slowest = abuse_and_probe(
        server, lambda: half_closed_upload(server, sent, DEADLINE + 15)
    )
    closed = [r.closed for r in replies]
    print(
        f"\n{ABUSERS} half-closed short uploads: slowest ordinary request {slowest:.2f} s; "
        f"answered and closed after {spread(closed)}"
    )
    assert slowest < FAST
    for reply in replies:
        assert reply.data.startswith(b"HTTP/1.1 400 "), reply.data[:200]
        assert b'"message":"request body is not valid JSON: ' in reply.data
    assert max(closed) < FAST


def test_connections_that_never_start_tls(server: Server) -> None:
    """Silent TCP connections hold no thread; their handshake is not done by the request
    deadline, so the server closes them then."""
    replies, slowest = abuse_and_probe(server, lambda: silent_connection(server, DEADLINE + 15))
    DROPPED.append(ABUSERS)
    closed = [r.closed for r in replies]
    print(
        f"\n{ABUSERS} silent TCP connections: slowest ordinary request {slowest:.2f} s, "
        f"closed after {spread(closed)}"
    )
    assert slowest < FAST
    assert {r.data for r in replies} == {b""}
    assert min(closed) > DEADLINE - 0.5
    assert max(closed) < DEADLINE + SLACK


def test_idle_keepalive_connections(server: Server) -> None:
    """Twice as many idle kept-alive connections as threads: they wait in the poller, hold no
    thread, and the server closes them after the keep-alive time."""
    replies, slowest = abuse_and_probe(
        server,
        lambda: idle_after_one_request(server, KEEPALIVE + 15),
        count=2 * WORKERS * THREADS,
    )
    closed = [r.closed for r in replies]
    print(
        f"\n{len(replies)} idle keep-alive connections: slowest ordinary request "
        f"{slowest:.2f} s, closed after {spread(closed)}"
    )
    assert slowest < FAST
    assert {r.data for r in replies} == {b""}
    assert min(closed) > KEEPALIVE - 0.5
    assert max(closed) < KEEPALIVE + SLACK


def test_an_idle_keepalive_connection_carries_a_request_before_the_keepalive_time(
    server: Server,
) -> None:
    with tls_connect(server) as sock:
        for _ in range(2):
            sock.sendall(head(len(BODY)) + BODY)
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(KEEPALIVE - 1.5)


def test_the_server_survived_and_logged_no_traceback(server: Server) -> None:
    assert server.process.poll() is None
    assert ordinary_requests(server) < FAST
    log = server.log_path.read_text()
    assert "Traceback" not in log
    # Every abuser that was dropped at the deadline, and only those, is counted.
    assert server.metric("jobguard_requests_dropped_total") == sum(DROPPED)
