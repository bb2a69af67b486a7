"""``jobguard export``: the policy as native ValidatingAdmissionPolicy / MutatingAdmissionPolicy."""

from __future__ import annotations

import sys

import click

from jobguard.cli.policy_files import kubernetes_version_option, load_policy_or_exit

EXIT_USAGE = 2


@click.command(short_help="Compile the policy to native admission policies (CEL) and bindings.")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Policy file (repeatable, later files override earlier ones; default: the bundled "
    "default policy).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Print which rules (and options) became native and what needs the webhook, "
    "instead of the objects.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    default=None,
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR",
    help="Target API server version (1.30 or later; default 1.37): decides the "
    "MutatingAdmissionPolicy version (v1 from 1.36, v1beta1 on 1.34 and 1.35, none before) and "
    "version-dependent rules.",
)
def export(
    policies: tuple[str, ...], explain: bool, output: str | None, kubernetes_version: str | None
) -> None:
    """Compile the policy to native admission policies and bindings (YAML for kubectl apply)."""
    from jobguard.export import ExportError, export_policy, render_yaml
    from jobguard.export import explain as explain_export

    version = kubernetes_version_option(kubernetes_version)
    policy = load_policy_or_exit(policies, "nothing was exported")
    try:
        result = export_policy(policy, version)
    except ExportError as exc:
        raise click.BadParameter(str(exc), param_hint="--kubernetes-version") from None
    text = explain_export(result) if explain else render_yaml(result)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
