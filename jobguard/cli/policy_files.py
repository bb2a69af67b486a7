"""What every command reads the same way: the policy files it was given, and
``--kubernetes-version``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from jobguard.core.kubernetes.versions import Version
    from jobguard.policy import Policy

EXIT_USAGE = 2
_T = TypeVar("_T")


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


def kubernetes_version_option(value: str | None) -> Version:
    """``--kubernetes-version MAJOR.MINOR`` (the default version when not given); a bad value
    is a usage error."""
    from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, parse_version

    return DEFAULT_KUBERNETES_VERSION if value is None else _parsed(parse_version, value)


def kubernetes_version_setting(value: str) -> Version | None:
    """``--kubernetes-version MAJOR.MINOR|auto`` of a command that can ask a cluster: None for
    ``auto``; a bad value is a usage error."""
    from jobguard.core.kubernetes.versions import parse_setting

    return _parsed(parse_setting, value)


def _parsed(parse: Callable[[str], _T], value: str) -> _T:
    from jobguard.core.kubernetes.versions import VersionError

    try:
        return parse(value)
    except VersionError as exc:
        raise click.BadParameter(str(exc), param_hint="--kubernetes-version") from None
