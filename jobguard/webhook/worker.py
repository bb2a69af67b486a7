"""The gunicorn worker of ``jobguard serve``: gunicorn 27's ``gthread`` worker, with a plain-HTTP
metrics listener beside the TLS admission listener.

gunicorn applies its TLS settings to every listener; the metrics port is served without TLS
(Prometheus scrapes plain HTTP by default, and it carries nothing secret). Which listener is
the metrics one is known from the application's settings (``WebhookServer.settings``).
"""

from __future__ import annotations

import socket
from typing import Any

from gunicorn import http  # type: ignore[import-untyped]
from gunicorn.workers import gthread  # type: ignore[import-untyped]

from jobguard.webhook.tls import STALL_TIMEOUT


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


class PlainConnection(gthread.TConn):  # type: ignore[misc]
    """A connection of the metrics listener: HTTP without TLS."""

    initialized: bool
    parser: Any

    def init(self) -> None:
        if self.initialized:
            return
        self.initialized = True
        self.sock.setblocking(True)
        if self.parser is None:
            self.parser = http.get_parser(self.cfg, self.sock, self.client)


def plain_ports(app: Any) -> frozenset[int]:
    """The listening ports served without TLS: the metrics port, if there is one."""
    settings = getattr(app, "settings", None)
    port = getattr(settings, "metrics_port", 0)
    return frozenset({port}) if port else frozenset()


class WebhookWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread, with plain HTTP on the metrics listener."""

    def init_process(self) -> None:
        ports = plain_ports(self.app)
        self.plain_listeners = frozenset(
            listener.fileno() for listener in self.sockets if listener.getsockname()[1] in ports
        )
        super().init_process()

    def accept(self, listener: Any) -> None:
        if listener.fileno() not in self.plain_listeners:
            super().accept(listener)
            return
        try:
            client, address = listener.accept()
        except BlockingIOError:
            return
        except OSError as exc:
            if isinstance(exc, ConnectionAbortedError):
                return
            raise
        self.nr_conns += 1
        client = stall_limited(client)
        client.setblocking(True)
        self.enqueue_req(PlainConnection(self.cfg, client, address, listener.getsockname()))
