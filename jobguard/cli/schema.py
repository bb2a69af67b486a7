"""``jobguard schema NAME``: print one of jobguard's JSON Schemas."""

from __future__ import annotations

import click

from jobguard import schemas


@click.group(short_help="Print the JSON Schema of a jobguard file format.")
def schema() -> None:
    """Print the JSON Schema of a jobguard file format (for editors and CI checks)."""


@schema.command(short_help="The policy file (apiVersion jobguard.dev/v1, kind Policy).")
def policy() -> None:
    """The policy file's schema, generated from this installation's rules and their options.

    Editors that speak yaml-language-server check and complete a policy that starts with
    ``# yaml-language-server: $schema=<path or URL of this schema>``.
    """
    from jobguard.policy.schema import policy_schema_text

    click.echo(policy_schema_text(), nl=False)


@schema.command(short_help="The `jobguard lint --format json` report.")
def report() -> None:
    """The JSON report's schema (version 1)."""
    click.echo(schemas.text(schemas.REPORT), nl=False)


@schema.command(short_help="The --write-baseline file.")
def baseline() -> None:
    """The baseline file's schema (version 1)."""
    click.echo(schemas.text(schemas.BASELINE), nl=False)
