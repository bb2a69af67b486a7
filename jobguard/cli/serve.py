"""``jobguard serve``: the admission webhook over HTTPS (gunicorn, imported lazily).

The command line and the defaults are first resolved into one frozen :class:`ServeOptions`
(every default decided in :mod:`jobguard.webhook.settings`); :func:`run` then acts on it.
"""

from __future__ import annotations

import errno
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

from jobguard.cli.extras import require_extra

# The defaults shown in --help; this module is the one place that decides them (it imports
# neither gunicorn nor Flask, so --help stays light).
from jobguard.webhook.settings import (
    DEFAULT_BIND,
    DEFAULT_KEEPALIVE,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_METRICS_PORT,
    DEFAULT_REQUEST_DEADLINE,
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
)

if TYPE_CHECKING:
    import socket

    from jobguard.core.kubernetes.versions import Version

EXIT_USAGE = 2
DEV_CERT_DIR = "certs"


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``jobguard serve`` acts on, resolved from the command line and the defaults.

    ``cert``/``key`` None: a development certificate is made in :data:`DEV_CERT_DIR`.
    ``kubernetes_version`` None: ``auto``, asked of the cluster at start-up.
    ``metrics_port`` 0: no metrics listener.
    """

    host: str
    port: int
    metrics_port: int
    cert: str | None
    key: str | None
    policies: tuple[str, ...]
    workers: int
    threads: int
    keepalive: int
    max_request_bytes: int
    request_deadline: float
    kubernetes_version: Version | None

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def metrics_bind(self) -> str:
        return f"{self.host}:{self.metrics_port}"


def split_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{bind!r} is not HOST:PORT", param_hint="--bind")
    return host, int(port)


def resolve_options(
    *,
    cert: str | None,
    key: str | None,
    bind: str,
    metrics_port: int,
    policies: tuple[str, ...],
    workers: int | None,
    threads: int | None,
    keepalive: int | None,
    max_request_bytes: int | None,
    request_deadline: float | None,
    kubernetes_version: str | None,
) -> ServeOptions:
    """The options of one run; a usage error (exit 2) for what cannot go together."""
    from jobguard.cli.policy_files import kubernetes_version_option, kubernetes_version_setting

    host, port = split_bind(bind)
    if metrics_port == port:
        raise click.BadParameter(
            f"{metrics_port} is the admission port (--bind); give metrics a port of their own",
            param_hint="--metrics-port",
        )
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    return ServeOptions(
        host=host,
        port=port,
        metrics_port=metrics_port,
        cert=cert,
        key=key,
        policies=policies,
        workers=DEFAULT_WORKERS if workers is None else workers,
        threads=DEFAULT_THREADS if threads is None else threads,
        keepalive=DEFAULT_KEEPALIVE if keepalive is None else keepalive,
        max_request_bytes=max_request_bytes or DEFAULT_MAX_REQUEST_BYTES,
        request_deadline=DEFAULT_REQUEST_DEADLINE if request_deadline is None else request_deadline,
        kubernetes_version=(
            kubernetes_version_option(None)
            if kubernetes_version is None
            else kubernetes_version_setting(kubernetes_version)
        ),
    )


@click.command(short_help="Run the admission webhook server (TLS, /mutate and /validate).")
@click.option(
    "--cert",
    metavar="FILE",
    default=None,
    help=f"Serving certificate (PEM). Default: a development CA and certificate in {DEV_CERT_DIR}/.",
)
@click.option("--key", metavar="FILE", default=None, help="Private key of --cert (PEM).")
@click.option("--bind", default=DEFAULT_BIND, show_default=True, metavar="HOST:PORT")
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=DEFAULT_METRICS_PORT,
    show_default=True,
    metavar="PORT",
    help="Serve GET /metrics (Prometheus, plain HTTP) on this port of the --bind host; 0: off.",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Policy file; repeat to layer, as for lint. Default: the bundled default policy. "
    "Reloaded when the file changes.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help=f"Worker processes (default {DEFAULT_WORKERS}).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help=f"Threads per worker (default {DEFAULT_THREADS}).",
)
@click.option(
    "--keep-alive",
    "keepalive",
    type=click.IntRange(min=1),
    default=None,
    help=f"Seconds an idle keep-alive connection stays open (default {DEFAULT_KEEPALIVE}).",
)
@click.option(
    "--max-request-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help=f"Larger request bodies get HTTP 413 (default {DEFAULT_MAX_REQUEST_BYTES // 1024 // 1024} "
    "MiB: the largest UPDATE review an API server sends for a storable object).",
)
@click.option(
    "--request-deadline",
    type=click.FloatRange(min=0.1, max=60),
    default=None,
    metavar="SECONDS",
    help=f"A request whose headers and body have not all arrived this long after its first byte "
    f"is dropped (default {DEFAULT_REQUEST_DEADLINE:g}; keep it below the webhook timeout).",
)
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR|auto",
    help="API server version for version-dependent rules, as for lint (default: lint's "
    "default). auto asks the API server's /version at start-up (in-cluster service account) "
    "and falls back to the default with a warning.",
)
def serve(**given: Any) -> None:
    """Run the admission webhook: POST /mutate and /validate, GET /healthz and /readyz over
    HTTPS; GET /metrics over plain HTTP on --metrics-port.

    The policy is checked before the server starts: a policy with errors, a certificate that
    does not load, or a port that is taken stops it with exit code 2.
    """
    require_extra("server", "serve")
    options = resolve_options(**given)
    run(options)


def _say(line: str) -> None:
    click.echo(f"jobguard: {line}", err=True)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def listen(options: ServeOptions) -> list[socket.socket]:
    """The admission listener, and the metrics one if any; exit 2 naming the port that cannot
    be had (taken by another process, or an address this host does not have)."""
    from jobguard.webhook.listeners import listening_socket

    wanted = [("admission", options.bind, options.port)]
    if options.metrics_port:
        wanted.append(("metrics", options.metrics_bind, options.metrics_port))
    sockets: list[socket.socket] = []
    for what, address, port in wanted:
        try:
            sockets.append(listening_socket(options.host, port))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            flag = "--bind" if what == "admission" else "--metrics-port"
            if exc.errno == errno.EADDRINUSE:
                _fail(
                    f"cannot listen on {address} ({what} port): the port is taken by another "
                    f"process; stop it or choose another port with {flag}"
                )
            _fail(f"cannot listen on {address} ({what} port): {exc.strerror or exc}")
    return sockets


def run(options: ServeOptions) -> None:
    """Check the policy, the certificate and the ports, then serve until stopped."""
    import os
    import shutil
    import ssl
    import tempfile

    from jobguard.cli.policy_files import load_policy_or_exit

    load_policy_or_exit(options.policies, "the webhook was not started")

    cert, key = options.cert, options.key
    if cert is None or key is None:
        from jobguard.certs import ensure_dev_certs

        cert_path, key_path, ca_path = ensure_dev_certs(DEV_CERT_DIR)
        cert, key = str(cert_path), str(key_path)
        _say(
            f"no --cert given: serving a development certificate ({cert}); clients must trust {ca_path}"
        )

    from jobguard.webhook.cluster_version import target_version
    from jobguard.webhook.tls import build_context

    try:
        build_context(cert, key)
    except (OSError, ssl.SSLError) as exc:
        _fail(f"cannot use certificate {cert} with key {key}: {exc}")
    listeners = listen(options)
    # Asked once, before the workers fork: they all judge for the same version.
    version = target_version(options.kubernetes_version, log=_say)

    # Set before prometheus_client is imported anywhere (workers inherit it): metrics from all
    # workers are merged through files in this directory.
    metrics_dir = tempfile.mkdtemp(prefix="jobguard-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    arbiter = os.getpid()
    try:
        from jobguard.webhook.server import WebhookServer
        from jobguard.webhook.settings import Settings

        settings = Settings(
            policy_paths=options.policies,
            max_request_bytes=options.max_request_bytes,
            cert_path=cert,
            kubernetes_version=version,
            metrics_port=options.metrics_port,
            request_deadline=options.request_deadline,
        )
        overrides = {
            "certfile": cert,
            "keyfile": key,
            "workers": options.workers,
            "threads": options.threads,
            "keepalive": options.keepalive,
        }
        WebhookServer(settings, overrides, listeners).run()
    finally:
        # A worker leaves gunicorn by SystemExit through this very frame (it was forked inside
        # run()): only the arbiter may remove the directory the other workers still write to.
        if os.getpid() == arbiter:
            shutil.rmtree(metrics_dir, ignore_errors=True)
