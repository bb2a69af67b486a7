"""``jobguard serve``: the admission webhook over HTTPS (gunicorn, imported lazily)."""

from __future__ import annotations

import sys

import click

from jobguard.cli.extras import require_extra

EXIT_USAGE = 2
DEV_CERT_DIR = "certs"


def _split_bind(bind: str) -> str:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{bind!r} is not HOST:PORT", param_hint="--bind")
    return bind


@click.command(short_help="Run the admission webhook server (TLS, /mutate and /validate).")
@click.option(
    "--cert",
    metavar="FILE",
    default=None,
    help=f"Serving certificate (PEM). Default: a development CA and certificate in {DEV_CERT_DIR}/.",
)
@click.option("--key", metavar="FILE", default=None, help="Private key of --cert (PEM).")
@click.option("--bind", default="0.0.0.0:8443", show_default=True, metavar="HOST:PORT")
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
    help="Worker processes (default 2).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads per worker (default 32; keep it above the connections the API servers open).",
)
@click.option(
    "--keep-alive",
    "keepalive",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds an idle keep-alive connection stays open (default 120).",
)
@click.option(
    "--max-request-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Larger request bodies get HTTP 413 (default 4 MiB).",
)
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR|auto",
    help="API server version for version-dependent rules, as for lint (default: lint's "
    "default). auto asks the API server's /version at start-up (in-cluster service account) "
    "and falls back to the default with a warning.",
)
def serve(
    cert: str | None,
    key: str | None,
    bind: str,
    policies: tuple[str, ...],
    workers: int | None,
    threads: int | None,
    keepalive: int | None,
    max_request_bytes: int | None,
    kubernetes_version: str | None,
) -> None:
    """Run the admission webhook: POST /mutate and /validate, GET /healthz, /readyz, /metrics.

    The policy is checked before the server starts: a policy with errors, or a certificate
    that does not load, stops it with exit code 2.
    """
    require_extra("server", "serve")
    import os
    import shutil
    import tempfile

    from jobguard.cli.policy_files import (
        kubernetes_version_option,
        kubernetes_version_setting,
        load_policy_or_exit,
    )

    bind = _split_bind(bind)
    # None: auto, asked of the cluster once the certificate is known to load
    setting = (
        kubernetes_version_option(None)
        if kubernetes_version is None
        else kubernetes_version_setting(kubernetes_version)
    )
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    load_policy_or_exit(policies, "the webhook was not started")

    if cert is None or key is None:
        from jobguard.certs import ensure_dev_certs

        cert_path, key_path, ca_path = ensure_dev_certs(DEV_CERT_DIR)
        cert, key = str(cert_path), str(key_path)
        click.echo(
            f"jobguard: no --cert given: serving a development certificate ({cert}); "
            f"clients must trust {ca_path}",
            err=True,
        )

    import ssl

    from jobguard.webhook.cluster_version import target_version
    from jobguard.webhook.tls import build_context

    try:
        build_context(cert, key)
    except (OSError, ssl.SSLError) as exc:
        click.echo(f"error: cannot use certificate {cert} with key {key}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    # Asked once, before the workers fork: they all judge for the same version.
    version = target_version(setting, log=lambda line: click.echo(f"jobguard: {line}", err=True))

    # Set before prometheus_client is imported anywhere (workers inherit it): metrics from all
    # workers are merged through files in this directory.
    metrics_dir = tempfile.mkdtemp(prefix="jobguard-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    arbiter = os.getpid()
    try:
        from jobguard.webhook.server import WebhookServer
        from jobguard.webhook.settings import DEFAULT_MAX_REQUEST_BYTES, Settings

        settings = Settings(
            policy_paths=policies,
            max_request_bytes=max_request_bytes or DEFAULT_MAX_REQUEST_BYTES,
            cert_path=cert,
            kubernetes_version=version,
        )
        overrides = {
            "bind": [bind],
            "certfile": cert,
            "keyfile": key,
            "workers": workers,
            "threads": threads,
            "keepalive": keepalive,
        }
        WebhookServer(settings, overrides).run()
    finally:
        # A worker leaves gunicorn by SystemExit through this very frame (it was forked inside
        # run()): only the arbiter may remove the directory the other workers still write to.
        if os.getpid() == arbiter:
            shutil.rmtree(metrics_dir, ignore_errors=True)
