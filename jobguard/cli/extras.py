"""Optional parts of the install: a command that needs an extra says which one, and exits.

The base package carries what ``lint``, ``rules`` and ``explain`` need. Commands that need
more (``serve`` and ``certs`` need the ``server`` extra) call :func:`require_extra` before
importing anything from it; the requirements of each extra are read from the installed
package's metadata, so pyproject.toml stays the one place that says what an extra holds.
"""

from __future__ import annotations

import re
import sys
from importlib import util

import click

EXIT_MISSING_EXTRA = 2
DISTRIBUTION = "jobguard"

#: Import name of a requirement whose distribution name differs from it.
_IMPORT_NAMES = {"prometheus-client": "prometheus_client", "pyyaml": "yaml"}
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def extra_requirements(extra: str) -> tuple[str, ...]:
    """Distribution names the installed jobguard lists for ``extra`` (from its metadata)."""
    # Imported here: importlib.metadata pulls in email and zipfile (about 20 ms), and every
    # command module, lint's included, imports this one.
    from importlib import metadata

    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return ()
    names: list[str] = []
    for requirement in requires:
        requirement_spec, _, marker = requirement.partition(";")
        match = _EXTRA_MARKER.search(marker)
        name = _NAME.match(requirement_spec)
        if match and match.group(1) == extra and name and name.group(1) != DISTRIBUTION:
            names.append(name.group(1))
    return tuple(names)


def _import_name(distribution: str) -> str:
    normalized = re.sub(r"[-_.]+", "-", distribution).lower()
    return _IMPORT_NAMES.get(normalized, normalized.replace("-", "_"))


def missing_requirements(extra: str) -> list[str]:
    """Requirements of ``extra`` that cannot be imported here."""
    return [
        name for name in extra_requirements(extra) if util.find_spec(_import_name(name)) is None
    ]


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require_extra(extra: str, command: str) -> None:
    """Exit with a message naming what to install when ``extra`` is not installed.

    Call it first thing in a command that needs the extra, before importing from it.
    """
    missing = missing_requirements(extra)
    if not missing:
        return
    click.echo(
        f"error: `jobguard {command}` needs the {extra!r} extra, which is not installed "
        f"(missing: {', '.join(missing)}).\nInstall it with: {install_hint(extra)}",
        err=True,
    )
    sys.exit(EXIT_MISSING_EXTRA)
