"""The ``jobguard`` command. Subcommands import their heavy dependencies lazily, so that
``jobguard lint`` never pays for Flask, gunicorn or the Kubernetes client."""

from __future__ import annotations

import click

from jobguard import __version__
from jobguard.cli.audit import audit
from jobguard.cli.certs import certs
from jobguard.cli.export import export
from jobguard.cli.lint import lint
from jobguard.cli.rules import explain, rules
from jobguard.cli.schema import schema
from jobguard.cli.serve import serve
from jobguard.cli.test import test


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jobguard")
def main() -> None:
    """Keep Kubernetes Job and CronJob manifests safe and sane."""


main.add_command(lint)
main.add_command(rules)
main.add_command(explain)
main.add_command(certs)
main.add_command(serve)
main.add_command(audit)
main.add_command(export)
main.add_command(schema)
main.add_command(test)
