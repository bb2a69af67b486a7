"""``jobguard lint``: the rules over files, folders or stdin."""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Policy file; repeat to layer (later files override earlier). Default: the bundled default policy.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
    help="Lowest finding severity that makes the exit code 1.",
)
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR",
    help="Target API server version for version-dependent rules (default: 1.34, see docs/api-checks.md).",
)
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1),
    default=16 * 1024 * 1024,
    show_default=True,
    help="Files larger than this many bytes are reported, not parsed.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: CPU count).",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: when stdout is a terminal).",
)
def lint(
    paths: tuple[str, ...],
    policies: tuple[str, ...],
    fmt: str,
    fail_on: str,
    kubernetes_version: str | None,
    max_file_size: int,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Lint Job and CronJob manifests in PATHS (files, folders, or - for stdin).

    Exit codes: 0 no findings at or above --fail-on, 1 such findings, 2 usage, policy or input
    errors (every other file is still linted).
    """
    from jobguard.core.context import DEFAULT_KUBERNETES_VERSION, Context
    from jobguard.core.model import Severity
    from jobguard.lint import lint_paths
    from jobguard.policy import PolicyError, load_policy

    version = DEFAULT_KUBERNETES_VERSION
    if kubernetes_version is not None:
        try:
            major, minor = (int(p) for p in kubernetes_version.lstrip("v").split(".")[:2])
            version = (major, minor)
        except ValueError:
            raise click.BadParameter(
                f"{kubernetes_version!r} is not MAJOR.MINOR (e.g. 1.34)",
                param_hint="--kubernetes-version",
            ) from None
    try:
        policy = load_policy(policies)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(f"{problem}", err=True)
        click.echo("error: the policy has errors; nothing was linted", err=True)
        sys.exit(EXIT_USAGE)

    result = lint_paths(
        paths, policy, Context(kubernetes_version=version), max_bytes=max_file_size, jobs=jobs
    )
    if fmt == "json":
        from jobguard.render import json_report

        click.echo(json_report.render(result), nl=False)
    else:
        from jobguard.render import text

        colour = sys.stdout.isatty() if color is None else color
        click.echo(text.render(result, colour=colour), nl=False)

    if any(p.severity is Severity.ERROR for p in result.problems):
        sys.exit(EXIT_USAGE)
    order = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    failing = order[: order.index(Severity(fail_on)) + 1]
    if any(result.count(s) for s in failing):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
