"""``jobguard lint``: the rules over files, folders or stdin, in the formats CI systems read."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from jobguard.lint.baseline import Outcome
    from jobguard.lint.fix import FileFix
    from jobguard.lint.linter import LintResult
    from jobguard.policy.model import Policy

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FORMATS = ["text", "json", "sarif", "junit", "github"]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Policy file; repeat to layer (later files override earlier). Default: the bundled default policy.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people; json (stable contract), sarif (code scanning), junit (test reports), "
    "github (workflow annotations) for machines.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
    help="Lowest finding severity that makes the exit code 1.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Write the safe fixes (the ones the webhook applies) into the files, keeping comments "
    "and layout; the report and exit code then show what remains.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print what --fix would write as a unified diff and write nothing (exit 1 when there is "
    "something to fix).",
)
@click.option(
    "--baseline",
    "baseline_file",
    metavar="FILE",
    default=None,
    help="Findings recorded in this baseline are accepted: only new ones are shown and count.",
)
@click.option(
    "--write-baseline",
    metavar="FILE",
    default=None,
    help="Record every current finding in FILE (then exit 0 unless the input is broken).",
)
@click.option(
    "--changed-since",
    metavar="REF",
    default=None,
    help="Lint only manifest files changed against this git ref (REF...HEAD plus uncommitted "
    "changes); PATHS, if given, narrow them.",
)
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR",
    help="Target API server version (1.25 to 1.37) for version-dependent rules (default: 1.36, "
    "see docs/api-checks.md).",
)
@click.option(
    "--old",
    "old_file",
    metavar="FILE",
    default=None,
    help="Also report what the API server rejects when the objects in FILE (as deployed) are "
    "updated to the ones in PATHS: immutable Job fields (api-job-update).",
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
    fix: bool,
    show_diff: bool,
    baseline_file: str | None,
    write_baseline: str | None,
    changed_since: str | None,
    kubernetes_version: str | None,
    old_file: str | None,
    max_file_size: int,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Lint Job and CronJob manifests in PATHS (files, folders, or - for stdin).

    Exit codes: 0 no findings at or above --fail-on, 1 such findings, 2 usage, policy, baseline
    or input errors (every other file is still linted). See docs/ci.md for CI and pre-commit.
    """
    from jobguard.core.context import DEFAULT_KUBERNETES_VERSION, Context
    from jobguard.lint.linter import lint_paths
    from jobguard.policy import PolicyError, load_policy

    if not paths and changed_since is None:
        raise click.UsageError("give PATHS to lint, or --changed-since REF")
    if fix and show_diff:
        raise click.UsageError("--fix and --diff are alternatives: --diff shows what --fix writes")
    if (fix or show_diff) and "-" in paths:
        raise click.UsageError("stdin cannot be fixed in place; give the files")
    version = DEFAULT_KUBERNETES_VERSION
    if kubernetes_version is not None:
        from jobguard.core.kubernetes.versions import VersionError, parse_version

        try:
            version = parse_version(kubernetes_version)
        except VersionError as exc:
            raise click.BadParameter(str(exc), param_hint="--kubernetes-version") from None
    try:
        policy = load_policy(policies)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(f"{problem}", err=True)
        click.echo("error: the policy has errors; nothing was linted", err=True)
        sys.exit(EXIT_USAGE)

    baseline_entries = None
    if baseline_file is not None:
        from jobguard.lint.baseline import BaselineError, load

        try:
            baseline_entries = load(baseline_file)
        except BaselineError as exc:
            _fail(f"{exc}; nothing was linted")

    targets: list[str] = list(paths)
    old_contents: list[bytes] = []
    if changed_since is not None:
        from jobguard.lint.changed import ChangedFilesError, changed_files, manifests_at, within

        try:
            changed = changed_files(changed_since)
            old_contents = manifests_at(changed_since)
        except ChangedFilesError as exc:
            _fail(str(exc))
        targets = within(changed, paths) if paths else changed
    if old_file is not None:
        try:
            with open(old_file, "rb") as fh:
                old_contents.append(fh.read())
        except OSError as exc:
            _fail(f"--old: cannot read {old_file}: {exc.strerror or exc}")

    ctx = Context(kubernetes_version=version)

    def run() -> LintResult:
        linted = lint_paths(targets, policy, ctx, max_bytes=max_file_size, jobs=jobs)
        if not old_contents:
            return linted
        from jobguard.lint.updates import add_update_findings, objects_by_key

        return add_update_findings(linted, objects_by_key(old_contents), version)

    result = run()
    fixes: list[FileFix] = []
    if fix or show_diff:
        fixes = _plan_fixes(result)
        if show_diff:
            sys.exit(_show_diff(result, fixes))
        fixes, result = _write_fixes(fixes, run)

    if write_baseline is not None:
        from jobguard.lint import baseline

        recorded = baseline.write(result, write_baseline)
        click.echo(f"jobguard: recorded {recorded} findings in {write_baseline}", err=True)

    outcome: Outcome | None = None
    if baseline_entries is not None and baseline_file is not None:
        from jobguard.lint import baseline

        outcome = baseline.apply(result, baseline_entries, baseline_file)
        result = outcome.result
        for entry in outcome.stale:
            e = entry.as_dict()
            where = f"{e['namespace']}/{e['name']}" if e["namespace"] else str(e["name"])
            click.echo(
                f"warning: stale baseline entry (fixed? rewrite the baseline): {e['file']} "
                f"{e['kind']} {where} {e['rule'] or e['code']} {e['path']} (x{e['count']})",
                err=True,
            )

    _render(result, fmt, policy, fail_on, color, outcome, baseline_file, fixes)
    sys.exit(_exit_code(result, fail_on, accept_all=write_baseline is not None))


def _plan_fixes(result: LintResult) -> list[FileFix]:
    from jobguard.lint.fix import FileFix, plan_fix, safe_edits_by_document

    fixes = []
    for fr in result.files:
        if not safe_edits_by_document(fr):
            continue
        try:
            with open(fr.file, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            fixes.append(FileFix(fr.file, "", "", refused=f"cannot read: {exc.strerror or exc}"))
            continue
        fixes.append(plan_fix(fr, raw))
    return fixes


def _report_refusals(fixes: list[FileFix]) -> None:
    for f in fixes:
        if f.refused:
            click.echo(f"warning: {f.file}: not fixed: {f.refused}", err=True)


def _show_diff(result: LintResult, fixes: list[FileFix]) -> int:
    from jobguard.core.model import Severity

    for f in fixes:
        if f.changed:
            click.echo(f.diff(), nl=False)
    _report_refusals(fixes)
    if any(p.severity is Severity.ERROR for p in result.problems):
        return EXIT_USAGE
    return EXIT_FINDINGS if any(f.changed for f in fixes) else EXIT_OK


def _write_fixes(
    fixes: list[FileFix], relint: Callable[[], LintResult]
) -> tuple[list[FileFix], LintResult]:
    """Write the changed files, lint again, and add refusals to the report as warnings."""
    from jobguard.core.model import Severity
    from jobguard.lint.linter import InputProblem

    written: list[FileFix] = []
    for f in fixes:
        if f.changed:
            try:
                _atomic_write(f.file, f.fixed)
            except OSError as exc:
                f = replace(f, fixed=f.original, refused=f"cannot write: {exc.strerror or exc}")
            else:
                click.echo(f"fixed {f.file} ({f.applied} findings)", err=True)
        written.append(f)
    _report_refusals(written)
    result = relint()
    refused = {f.file: f.refused for f in written if f.refused}
    for i, fr in enumerate(result.files):
        if fr.file in refused:
            note = InputProblem(
                fr.file, f"not fixed: {refused[fr.file]}", severity=Severity.WARNING
            )
            result.files[i] = replace(fr, problems=(*fr.problems, note))
    return written, result


def _atomic_write(path: str, text: str) -> None:
    """Replace the file in one step, keeping its permission bits (and a symlink as a symlink)."""
    path = os.path.realpath(path)
    mode = os.stat(path).st_mode & 0o7777
    tmp = f"{path}.jobguard-fix.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _render(
    result: LintResult,
    fmt: str,
    policy: Policy,
    fail_on: str,
    color: bool | None,
    outcome: Outcome | None,
    baseline_file: str | None,
    fixes: list[FileFix],
) -> None:
    from pathlib import Path

    from jobguard.core.model import Severity

    if fmt == "json":
        from jobguard.render import json_report

        baseline = None
        if outcome is not None:
            baseline = {
                "file": baseline_file,
                "accepted": len(outcome.accepted),
                "stale": [e.as_dict() for e in outcome.stale],
            }
        fixed = None
        if fixes:
            fixed = [{"file": f.file, "findings": f.applied} for f in fixes if f.changed]
        click.echo(json_report.render(result, baseline=baseline, fixed=fixed), nl=False)
    elif fmt == "sarif":
        from jobguard.render import sarif
        from jobguard.rules import ALL_RULES

        click.echo(sarif.render(result, policy, ALL_RULES, base=Path.cwd()), nl=False)
    elif fmt == "junit":
        from jobguard.render import junit

        click.echo(junit.render(result, failing=_failing(Severity(fail_on))), nl=False)
    elif fmt == "github":
        from jobguard.render import github

        click.echo(github.render(result), nl=False)
    else:
        from jobguard.render import text

        colour = sys.stdout.isatty() if color is None else color
        click.echo(text.render(result, colour=colour), nl=False)
        if outcome is not None and outcome.accepted:
            click.echo(
                f"{len(outcome.accepted)} findings accepted by the baseline {baseline_file} "
                "(not shown)"
            )


def _failing(fail_on: Any) -> list[Any]:
    from jobguard.core.model import Severity

    order = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    return order[: order.index(fail_on) + 1]


def _exit_code(result: LintResult, fail_on: str, *, accept_all: bool) -> int:
    from jobguard.core.model import Severity

    if any(p.severity is Severity.ERROR for p in result.problems):
        return EXIT_USAGE
    if accept_all:
        return EXIT_OK
    if any(result.count(s) for s in _failing(Severity(fail_on))):
        return EXIT_FINDINGS
    return EXIT_OK
