"""gunicorn settings for ``jobguard serve`` (a config module: names are gunicorn setting names).

Chosen by measurement on a 2-core machine with real AdmissionReviews over TLS (docs/webhook.md):

* ``gthread``: the sync worker answers ``Connection: close`` on every response, so the API
  server would pay a TLS handshake per call (4-5x less throughput, 2-3x the p99).
* many threads per worker: chosen when stock gthread gave a fresh connection a thread until its
  first request arrived (the API server's Go client opens spare connections), and real requests
  queued behind idle ones. jobguard's worker (jobguard.webhook.worker) gives a thread only a
  request that has arrived, so threads now bound concurrent judging only; 32 is kept.
* ``keepalive`` above the Go client's 90 s idle timeout: the client, not the server, closes an
  idle connection, so a request never races a server-side close (gunicorn's default is 2 s).

``jobguard serve --workers/--threads/--keep-alive`` override these.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.workers import gthread as _gthread  # type: ignore[import-untyped]

from jobguard.webhook.metrics import mark_worker_dead
from jobguard.webhook.settings import DEFAULT_KEEPALIVE, DEFAULT_THREADS, DEFAULT_WORKERS
from jobguard.webhook.tls import STALL_TIMEOUT, gunicorn_ssl_context, warm_up

# gthread waits this long (5 s in gunicorn 27) in a thread for a new connection's first bytes,
# and for the rest of a body the application left unread after answering. jobguard's worker
# hands a thread only connections whose request has arrived (the first wait never happens);
# the drain of a body left unread is bounded by it, and the body is in memory already.
if hasattr(_gthread, "DEFAULT_WORKER_DATA_TIMEOUT"):
    _gthread.DEFAULT_WORKER_DATA_TIMEOUT = 0.5

# A connection answered with "Connection: close" is closed by the worker's main thread, which
# lingers up to 2 s for the client to close first. A client that never does (a stalled upload
# dropped after STALL_TIMEOUT) then holds the main loop that long, and a few dozen of them
# starved the worker's heartbeat until the arbiter killed it with every request in flight. The
# linger stays, shorter: what the client had already sent is still drained before the close.
_CLOSE_LINGER = 0.1
_close_graceful = _gthread.util.close_graceful


def _close_with_short_linger(sock: Any, timeout: float = 2.0, max_drain: int = 65536) -> None:
    _close_graceful(sock, timeout=min(timeout, _CLOSE_LINGER), max_drain=max_drain)


_gthread.util.close_graceful = _close_with_short_linger

# gthread, receiving requests in its event loop within a deadline, with the plain-HTTP metrics
# listener (jobguard.webhook.worker)
worker_class = "jobguard.webhook.worker.WebhookWorker"
workers = DEFAULT_WORKERS
threads = DEFAULT_THREADS
keepalive = DEFAULT_KEEPALIVE
# A request takes about a millisecond; a worker silent for this long is stuck and is replaced.
timeout = 30
graceful_timeout = 20
proc_name = "jobguard"
accesslog = None  # jobguard writes its own JSON line per admission request
errorlog = "-"
loglevel = "info"
# Leave the key pair to the reloading context (see jobguard.webhook.tls).
ssl_context = gunicorn_ssl_context
do_handshake_on_connect = True
# gunicorn 25+ opens a control socket in $HOME by default; a webhook pod has no use for it.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    mark_worker_dead(worker.pid)


class StalledClientLog(logging.Filter):
    """gunicorn logs a connection dropped by the stall timeout before the app saw a request
    (a stalled handshake or request line) as "Socket error processing request." with a
    traceback, as if jobguard had failed: make it one warning line saying what happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TimeoutError):
            record.msg = "client sent nothing for %s s in the middle of a request: closed"
            record.args = (STALL_TIMEOUT,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def post_worker_init(worker: Any) -> None:
    logging.getLogger("gunicorn.error").addFilter(StalledClientLog())
    if worker.cfg.is_ssl:
        warm_up(worker.cfg)
