"""The listening sockets of ``jobguard serve`` and which application each one reaches.

Imports nothing heavy: ``jobguard serve`` binds its ports before prometheus_client is imported
(the Prometheus multiprocess directory must be set first).
"""

from __future__ import annotations

import socket
from typing import Any

#: Pending connections the kernel queues per listener (gunicorn's default backlog).
BACKLOG = 2048


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (``[::]`` style hosts allowed), with
    SO_REUSEADDR as gunicorn sets it (a port in TIME_WAIT can be taken; one that another
    process listens on cannot). Raises OSError: EADDRINUSE when the port is taken."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def by_port(admission: Any, metrics: Any, metrics_port: int) -> Any:
    """WSGI dispatch by the listener a request came in on (``SERVER_PORT`` is the listening
    socket's own port, not the client's Host header): the metrics port reaches only the
    metrics application, every other port only the admission application."""
    if not metrics_port:
        return admission
    port = str(metrics_port)

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        app = metrics if environ.get("SERVER_PORT") == port else admission
        return app(environ, start_response)

    return dispatch
