"""Loading the policy files a command was given, the same way for every command."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from jobguard.policy import Policy

EXIT_USAGE = 2


def load_policy_or_exit(policies: Sequence[str], consequence: str = "") -> Policy:
    """The compiled policy; on errors, every problem on stderr, then exit 2. ``consequence``
    says what the command did not do (``"nothing was linted"``)."""
    from jobguard.policy import PolicyError, load_policy

    try:
        return load_policy(policies)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(f"{problem}", err=True)
        suffix = f"; {consequence}" if consequence else ""
        click.echo(f"error: the policy has errors{suffix}", err=True)
        sys.exit(EXIT_USAGE)
