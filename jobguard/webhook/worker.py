"""The gunicorn worker of ``jobguard serve``: gunicorn 27's ``gthread`` worker, changed so that a
request costs a thread only once it has arrived in full, and must arrive within a deadline.

Stock gthread hands a connection to a thread, which then reads the request with blocking reads:
a client that trickles (one header byte every 2 s) holds that thread for as long as it likes,
since each read is bounded but the request is not, and a few such clients starve every other
request. Here the worker's event loop reads every request itself, without waiting on any
socket, as its bytes arrive: the TLS handshake, the request line and headers, the body
(:mod:`jobguard.webhook.framing` says when it is whole). A thread gets the connection only then,
parses the request from the bytes received and answers it. A request that is not whole within
the deadline (``Settings.request_deadline``, from its first byte; a new connection's handshake
from its accept) is dropped, counted and logged. Idle keep-alive connections wait in the event
loop as before, costing no thread.

The metrics listener is served the same way without TLS (gunicorn would apply its TLS settings
to every listener); which listener it is comes from the application's settings.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
import ssl
import time
from functools import partial
from typing import Any

from gunicorn import http  # type: ignore[import-untyped]
from gunicorn import sock as gunicorn_sock
from gunicorn.workers import gthread  # type: ignore[import-untyped]

from jobguard.webhook.framing import Framing
from jobguard.webhook.settings import Settings
from jobguard.webhook.tls import STALL_TIMEOUT

#: What one non-blocking read asks for. A TLS read returns one record at most (16 KiB); Python
#: allocates the whole size first, and a block past glibc's mmap threshold (128 KiB) costs a
#: mmap and a munmap per read.
RECV_BYTES = 64 * 1024
#: How often (seconds) a worker logs the connections it dropped meanwhile, as one line.
DROP_REPORT_INTERVAL = 10.0

# What reading a connection came to.
WHOLE, MORE, IDLE, GONE = "whole", "more", "idle", "gone"
#: A thread's answer for a connection whose next request has not arrived yet (pipelined bytes
#: left over by the previous one): the event loop reads it first.
_READ_MORE = object()


class StallLimitedPlainSocket(socket.socket):
    """A plain socket whose blocking mode waits at most :data:`STALL_TIMEOUT` per read or write
    (gunicorn makes a connection blocking before each request, which clears a timeout): the
    plain-HTTP twin of :class:`jobguard.webhook.tls.StallLimitedSocket`."""

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(STALL_TIMEOUT)
        else:
            super().setblocking(False)


def stall_limited(sock: socket.socket) -> StallLimitedPlainSocket:
    return StallLimitedPlainSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())


class Connection(gthread.TConn):  # type: ignore[misc]
    """A client connection whose requests are received by the event loop, never waiting."""

    sock: Any
    parser: Any
    initialized: bool
    data_ready: bool

    def __init__(
        self,
        cfg: Any,
        sock: socket.socket,
        client: Any,
        server: Any,
        *,
        limits: tuple[int, int],
        tls: ssl.SSLContext | None,
    ):
        super().__init__(cfg, sock, client, server)  # makes the socket non-blocking
        if tls is not None:
            self.sock = tls.wrap_socket(
                sock,
                server_side=True,
                do_handshake_on_connect=False,
                suppress_ragged_eofs=cfg.suppress_ragged_eofs,
            )
            self.sock.setblocking(False)
        self.handshaken = tls is None
        self.limits = limits
        self.received = bytearray()
        self.framing = Framing(*limits)
        self.deadline = 0.0
        #: a whole request is in ``received``, for a thread to serve
        self.ready = False
        self.continued = False

    def begin_request(self, deadline: float) -> None:
        """Start receiving the next request: bytes the parser read ahead are its start."""
        ahead = self.parser.unreader.take_buffered() if self.parser is not None else b""
        self.received = bytearray(ahead)
        self.framing = Framing(*self.limits)
        self.deadline = deadline
        self.continued = False

    def receive(self) -> str:
        """Take in what has arrived, never waiting: :data:`WHOLE` (a thread can serve it),
        :data:`MORE` (wait for the socket), :data:`IDLE` (handshake done, no request yet: a
        kept-alive connection) or :data:`GONE` (closed before a request began). Raises
        OSError or ssl.SSLError on a broken connection."""
        fresh = not self.handshaken
        if fresh:
            try:
                self.sock.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return MORE
            self.handshaken = True
        ended = False
        while not (self.received and self.framing.check(self.received)):
            try:
                chunk = self.sock.recv(RECV_BYTES)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                break
            if not chunk:
                ended = True
                break
            self.received += chunk
        else:
            self.ready = True
            return WHOLE
        if ended:
            # A request cut short by a half-close is answered from what came (the parser
            # meets the end at once); a connection closed between requests just goes.
            self.ready = bool(self.received)
            return WHOLE if self.received else GONE
        if fresh and not self.received:
            return IDLE
        self._continue_if_expected()
        return MORE

    def _continue_if_expected(self) -> None:
        """Send "100 Continue" to a client that waits for it before its body (gunicorn sends
        one too when the application starts reading; a client takes several 1xx answers)."""
        if self.framing.expects_continue and not self.continued:
            self.continued = True
            with contextlib.suppress(ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                self.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")


def plain_ports(settings: Settings) -> frozenset[int]:
    """The listening ports served without TLS: the metrics port, if there is one."""
    return frozenset({settings.metrics_port}) if settings.metrics_port else frozenset()


class WebhookWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread, receiving each request in the event loop within a deadline (module docstring)."""

    def init_process(self) -> None:
        # Everything the loop needs, before gunicorn's init_process, which runs the loop.
        settings = getattr(self.app, "settings", None)
        self.settings = settings if isinstance(settings, Settings) else Settings()
        from jobguard.webhook.app import DISCARD_LIMIT

        # What the application reads of a body (jobguard.webhook.app.read_body): a declared one
        # up to the limit, or up to DISCARD_LIMIT to drop it; a chunked one up to the limit and
        # one byte, then up to DISCARD_LIMIT and one byte to drop.
        limit = self.settings.max_request_bytes
        self.body_limits = (max(limit, DISCARD_LIMIT), limit + DISCARD_LIMIT + 2)
        ports = plain_ports(self.settings)
        self.plain_listeners = frozenset(
            listener.fileno() for listener in self.sockets if listener.getsockname()[1] in ports
        )
        self.receiving: set[Connection] = set()
        self.deadlines: list[tuple[float, int, Connection]] = []
        self.sequence = itertools.count()
        self.dropped = 0
        self.next_drop_report = time.monotonic() + DROP_REPORT_INTERVAL
        super().init_process()

    # -- new connections and new requests --------------------------------------------------

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        self.nr_conns += 1
        plain = listener.fileno() in self.plain_listeners
        try:
            conn = Connection(
                self.cfg,
                stall_limited(client) if plain else client,
                address,
                listener.getsockname(),
                limits=self.body_limits,
                tls=None if plain else gunicorn_sock.ssl_context(self.cfg),
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            self.log.warning("cannot take a new connection from %s: %s", address, exc)
            self.nr_conns -= 1
            client.close()
            return
        self.receive_request(conn, time.monotonic() + self.settings.request_deadline)

    def on_client_socket_readable(self, conn: Connection, client: Any) -> None:
        """A kept-alive connection speaks: its next request is received within the deadline."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.receive_request(conn, time.monotonic() + self.settings.request_deadline)

    def receive_request(self, conn: Connection, deadline: float) -> None:
        conn.begin_request(deadline)
        self.step(conn)  # the bytes are often there already

    def on_readable(self, conn: Connection, _sock: Any) -> None:
        self.step(conn)

    def step(self, conn: Connection) -> None:
        """Take in what arrived on ``conn`` and act on it."""
        try:
            outcome = conn.receive()
        except (OSError, ssl.SSLError, ValueError) as exc:
            self.log.debug("connection from %s failed before its request: %s", conn.client, exc)
            self.stop_receiving(conn)
            self.close(conn)
            return
        if outcome == MORE:
            if conn not in self.receiving:
                self.receiving.add(conn)
                self.poller.register(
                    conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn)
                )
                heapq.heappush(self.deadlines, (conn.deadline, next(self.sequence), conn))
            return
        self.stop_receiving(conn)
        if outcome == WHOLE:
            self.enqueue_req(conn)
        elif outcome == IDLE:
            self.keep_alive(conn)
        else:
            self.close(conn)

    def stop_receiving(self, conn: Connection) -> None:
        if conn in self.receiving:
            self.receiving.discard(conn)
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)

    def keep_alive(self, conn: Connection) -> None:
        """A connection with no request yet waits like a kept-alive one (the API server's
        client opens spare connections and uses them later)."""
        conn.set_timeout()
        self.keepalived_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )

    def close(self, conn: Connection) -> None:
        self.nr_conns -= 1
        conn.close()

    # -- the deadline ----------------------------------------------------------------------

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.deadlines:
            timeout = max(0.0, min(timeout, self.deadlines[0][0] - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        self.drop_late_requests()

    def drop_late_requests(self) -> None:
        now = time.monotonic()
        while self.deadlines and self.deadlines[0][0] <= now:
            deadline, _, conn = heapq.heappop(self.deadlines)
            if conn in self.receiving and conn.deadline == deadline:
                self.stop_receiving(conn)
                self.close(conn)
                self.dropped += 1
                count = getattr(self.app, "count_dropped_request", None)
                if callable(count):
                    count()
        if now >= self.next_drop_report:
            # One line per interval: under a flood, a line per connection would drown the log.
            self.next_drop_report = now + DROP_REPORT_INTERVAL
            if self.dropped:
                self.log.warning(
                    "dropped %d connection(s) whose request had not arrived in full within "
                    "the %g s request deadline (slow or stalled clients)",
                    self.dropped,
                    self.settings.request_deadline,
                )
                self.dropped = 0

    # -- handing over to a thread ----------------------------------------------------------

    def handle(self, conn: Connection) -> Any:
        """In a thread: serve the request received whole (gunicorn's handle, reading from the
        bytes received, which hold all of it)."""
        if not conn.ready:
            return _READ_MORE
        conn.ready = False
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(conn.received))
        conn.received = bytearray()
        conn.initialized = conn.data_ready = True
        return super().handle(conn)

    def finish_request(self, conn: Connection, fs: Any) -> None:
        if not fs.cancelled() and fs.exception() is None and fs.result() is _READ_MORE:
            if self.alive:
                self.receive_request(conn, time.monotonic() + self.settings.request_deadline)
            else:
                self.close(conn)
            return
        super().finish_request(conn, fs)
