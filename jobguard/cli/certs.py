"""``jobguard certs``: the webhook's CA and serving certificate, locally or in a cluster.

The command line and the defaults are first resolved into one frozen :class:`CertsOptions`;
:func:`check_files` or :func:`run` then acts on it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from jobguard.cli.extras import require_extra

if TYPE_CHECKING:
    from jobguard.certs import SubjectNames

# 1 means "act now": renewal due (--check) or a cluster step failed.
EXIT_OK, EXIT_RENEWAL_DUE, EXIT_UNUSABLE = 0, 1, 2
EXIT_CLUSTER_FAILED = EXIT_RENEWAL_DUE


@click.command(short_help="Create or renew the webhook's CA and serving certificate.")
@click.option(
    "--dir",
    "directory",
    default="certs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory holding ca.crt, ca.key, tls.crt, tls.key.",
)
@click.option("--service", default="jobguard", show_default=True, help="Service name.")
@click.option(
    "--namespace", "-n", default="jobguard", show_default=True, help="Namespace of the Service."
)
@click.option(
    "--san",
    "extra_names",
    multiple=True,
    metavar="NAME|IP",
    help="Extra DNS name or IP address for the serving certificate; repeatable.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1, max=825),
    default=365,
    show_default=True,
    help="Validity of a new serving certificate.",
)
@click.option(
    "--ca-days",
    type=click.IntRange(min=1, max=36500),
    default=3650,
    show_default=True,
    help="Validity of a new CA.",
)
@click.option(
    "--renew-before",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Renew (or, with --check, report) certificates expiring within this many days.",
)
@click.option("--renew", is_flag=True, help="Issue a new serving certificate now; the CA stays.")
@click.option(
    "--new-ca",
    is_flag=True,
    help="Replace the CA too; this run's caBundle also trusts the old CA, the next run's not.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Only report expiry and name coverage: exit 1 when renewal is due, 2 when unusable.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the Secrets and patch the caBundle in this cluster.",
)
@click.option("--context", default=None, help="Kubeconfig context (default: the current one).")
@click.option(
    "--in-cluster",
    is_flag=True,
    help="Like --kubeconfig, with the pod's service account (the rotation CronJob uses this).",
)
@click.option(
    "--tls-secret",
    default="jobguard-tls",
    show_default=True,
    help="kubernetes.io/tls Secret the Deployment mounts (tls.crt, tls.key, ca.crt).",
)
@click.option(
    "--ca-secret",
    default="jobguard-ca",
    show_default=True,
    help="Secret keeping the CA (ca.crt, ca.key) for later runs.",
)
@click.option(
    "--webhook-configuration",
    default="jobguard",
    show_default=True,
    help="Name of both the Mutating- and the ValidatingWebhookConfiguration.",
)
def certs(**given: Any) -> None:
    """Create or renew the webhook's CA and ECDSA P-256 serving certificate.

    The serving certificate covers <service>.<namespace>.svc (what the API server calls),
    <service>.<namespace>.svc.cluster.local and the --san names. Existing files are kept while
    they are good; the serving certificate is renewed within --renew-before days of expiry while
    the CA stays. Prints the caBundle (base64 PEM of ca.crt) on stdout, everything else on stderr.

    With --kubeconfig or --in-cluster it also writes the Secrets the Deployment mounts and patches
    the caBundle into both webhook configurations, changing only what differs.

    Exit codes: 0 done (or, with --check, nothing due), 1 renewal due (--check) or a cluster step
    failed, 2 usage error or unusable files.
    """
    require_extra("server", "certs")
    options = resolve_options(**given)
    if options.check:
        check_files(options)
    run(options)


@dataclass(frozen=True)
class CertsOptions:
    """Everything ``jobguard certs`` acts on, resolved from the command line and the defaults.

    ``names``: the serving certificate's subject names (the Service's DNS names, then --san).
    ``cluster``: also write the Secrets and patch the caBundle (--kubeconfig or --in-cluster).
    """

    directory: str
    names: SubjectNames
    serving_days: int
    ca_days: int
    renew_before_days: int
    renew: bool
    new_ca: bool
    check: bool
    kubeconfig: str | None
    context: str | None
    in_cluster: bool
    namespace: str
    tls_secret: str
    ca_secret: str
    webhook_configuration: str

    @property
    def cluster(self) -> bool:
        return self.kubeconfig is not None or self.in_cluster


def resolve_options(
    *,
    directory: str,
    service: str,
    namespace: str,
    extra_names: tuple[str, ...],
    days: int,
    ca_days: int,
    renew_before: int,
    renew: bool,
    new_ca: bool,
    check: bool,
    kubeconfig: str | None,
    context: str | None,
    in_cluster: bool,
    tls_secret: str,
    ca_secret: str,
    webhook_configuration: str,
) -> CertsOptions:
    """The options of one run; a usage error (exit 2) for what cannot go together."""
    from jobguard.certs import CertificateError, parse_subject_names, service_dns_names

    try:
        names = parse_subject_names(service_dns_names(service, namespace) + extra_names)
    except CertificateError as exc:
        raise click.UsageError(str(exc)) from exc
    cluster = kubeconfig is not None or in_cluster
    if check and (cluster or renew or new_ca):
        raise click.UsageError("--check only reads local files: drop the other actions")
    if kubeconfig is not None and in_cluster:
        raise click.UsageError("use --kubeconfig or --in-cluster, not both")
    return CertsOptions(
        directory=directory,
        names=names,
        serving_days=days,
        ca_days=ca_days,
        renew_before_days=renew_before,
        renew=renew,
        new_ca=new_ca,
        check=check,
        kubeconfig=kubeconfig,
        context=context,
        in_cluster=in_cluster,
        namespace=namespace,
        tls_secret=tls_secret,
        ca_secret=ca_secret,
        webhook_configuration=webhook_configuration,
    )


def check_files(options: CertsOptions) -> NoReturn:
    """--check: report expiry and name coverage of the local files, then exit with the verdict."""
    from jobguard.certs import check_certs

    report = check_certs(
        options.directory, options.names, renew_before_days=options.renew_before_days
    )
    for status in report.statuses:
        click.echo(
            f"{status.what}: {status.path} expires {status.not_after:%Y-%m-%d %H:%M} UTC "
            f"({status.days_left:.0f} days left)"
            + (f"; names: {', '.join(status.names)}" if status.names else "")
        )
    for problem in report.unusable:
        click.echo(f"UNUSABLE: {problem}")
    for problem in report.renewal_due:
        click.echo(f"RENEW: {problem}")
    if report.exit_code == EXIT_OK:
        click.echo(f"OK: nothing expires within {options.renew_before_days} days")
    sys.exit(report.exit_code)


def run(options: CertsOptions) -> None:
    """Create or renew the files, and with a cluster, pull and push them."""
    from jobguard.certs import CertificateError, ensure_certs

    api_client = None
    pulled: list[str] = []
    if options.cluster:
        from jobguard.certs.cluster import ClusterError, ClusterTarget, load_api_client, pull_certs
        from jobguard.certs.files import CertPaths

        target = ClusterTarget(
            options.namespace, options.tls_secret, options.ca_secret, options.webhook_configuration
        )
        try:
            api_client = load_api_client(options.kubeconfig, options.context, options.in_cluster)
            pulled = pull_certs(api_client, target, CertPaths(Path(options.directory)))
        except ClusterError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_CLUSTER_FAILED)
        except OSError as exc:
            click.echo(f"error: cannot write to {options.directory}: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE)
    try:
        result = ensure_certs(
            options.directory,
            options.names,
            serving_days=options.serving_days,
            ca_days=options.ca_days,
            renew_before_days=options.renew_before_days,
            renew=options.renew,
            new_ca=options.new_ca,
        )
    except (CertificateError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    if pulled:
        click.echo(f"took {', '.join(pulled)} from the cluster", err=True)
    click.echo(result.summary(), err=True)

    if api_client is not None:
        from jobguard.certs.cluster import ClusterError, push_certs

        try:
            pushed = push_certs(api_client, target, result.paths, result.ca_bundle)
        except ClusterError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_CLUSTER_FAILED)
        finally:
            api_client.close()
        for name, outcome in pushed.secrets:
            click.echo(f"Secret {options.namespace}/{name}: {outcome}", err=True)
        for kind, outcome in pushed.webhooks:
            click.echo(f"{kind} {options.webhook_configuration}: caBundle {outcome}", err=True)
        if pushed.ca_bundle != result.ca_bundle:
            click.echo(
                "the caBundle also trusts the cluster's previous CA until the next run", err=True
            )
        click.echo(pushed.ca_bundle)
        return
    click.echo(result.ca_bundle)
