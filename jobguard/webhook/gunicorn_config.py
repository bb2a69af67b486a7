"""gunicorn settings for ``jobguard serve`` (a config module: names are gunicorn setting names).

Chosen by measurement on a 2-core machine with real AdmissionReviews over TLS (docs/webhook.md):

* ``gthread``: the sync worker answers ``Connection: close`` on every response, so the API
  server would pay a TLS handshake per call (4-5x less throughput, 2-3x the p99).
* many threads per worker: the API server's Go HTTP client opens spare keep-alive connections
  and a fresh connection occupies a thread until its first request arrives; with few threads
  real requests queued behind idle ones.
* ``keepalive`` above the Go client's 90 s idle timeout: the client, not the server, closes an
  idle connection, so a request never races a server-side close (gunicorn's default is 2 s).

``jobguard serve --workers/--threads/--keep-alive`` override these.
"""

from __future__ import annotations

from typing import Any

from jobguard.webhook.metrics import mark_worker_dead
from jobguard.webhook.tls import gunicorn_ssl_context, warm_up

worker_class = "gthread"
workers = 2
threads = 32
keepalive = 120
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


def post_worker_init(worker: Any) -> None:
    if worker.cfg.is_ssl:
        warm_up(worker.cfg)
