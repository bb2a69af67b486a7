"""The ``jobguard`` command. Subcommands import their heavy dependencies lazily, so that
``jobguard lint`` never pays for Flask, gunicorn or the Kubernetes client; and a subcommand's
module is only imported when that subcommand runs (or help lists it), so that ``jobguard lint``
does not pay for the options of ``serve``, ``certs`` or ``schema`` either."""

from __future__ import annotations

import importlib

import click

from jobguard import __version__

#: command name -> "module:function"; in the order ``jobguard --help`` lists them
SUBCOMMANDS = {
    "lint": "jobguard.cli.lint:lint",
    "rules": "jobguard.cli.rules:rules",
    "explain": "jobguard.cli.rules:explain",
    "certs": "jobguard.cli.certs:certs",
    "serve": "jobguard.cli.serve:serve",
    "audit": "jobguard.cli.audit:audit",
    "export": "jobguard.cli.export:export",
    "schema": "jobguard.cli.schema:schema",
    "test": "jobguard.cli.test:test",
}


class _Subcommands(click.Group):
    """A group whose subcommands are imported when they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@click.group(cls=_Subcommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jobguard")
def main() -> None:
    """Keep Kubernetes Job and CronJob manifests safe and sane."""
