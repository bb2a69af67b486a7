"""``jobguard lint``: the rules over files, folders or stdin, in the formats CI systems read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from jobguard.lint.baseline import Outcome
    from jobguard.lint.config import Config
    from jobguard.lint.fix import FileFix
    from jobguard.lint.linter import LintResult
    from jobguard.policy.model import Policy

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
ENV_POLICY = "JOBGUARD_POLICY"
FORMATS = ["text", "json", "sarif", "junit", "github"]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.command(short_help="Lint Job and CronJob manifests (files, folders or stdin).")
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
    help="Target API server version (1.25 to 1.37) for version-dependent rules (default: 1.37, "
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
    help="Colour the text output even into a pipe, or never (default: when the output is a "
    "terminal; NO_COLOR and FORCE_COLOR are honoured).",
)
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    default=None,
    help="Configuration file (.jobguard.yaml or a pyproject.toml with [tool.jobguard]). Default: "
    "the nearest one from the working directory up to the repository root.",
)
@click.option("--no-config", is_flag=True, help="Use no configuration file.")
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Leave out matching files and folders; repeatable. A glob without / matches any path "
    "component (vendor, *.rendered.yaml), one with / the path (charts/vendor).",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=True,
    show_default=True,
    help="In a git work tree, leave out the files of a folder that git ignores.",
)
@click.option(
    "--stdin-filename",
    metavar="NAME",
    default=None,
    help="Name to report stdin as (and to match files: exemptions and --exclude against).",
)
@click.option(
    "--select",
    "selected",
    multiple=True,
    metavar="RULE,...",
    help="Report only these rules (names or codes); the policy still decides what each does.",
)
@click.option(
    "--ignore",
    "ignored",
    multiple=True,
    metavar="RULE,...",
    help="Do not report these rules (names or codes).",
)
@click.option(
    "--exit-zero", is_flag=True, help="Exit 0 even with findings (input errors still exit 2)."
)
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no summary, no notes.")
@click.option(
    "-o",
    "--output",
    "output_file",
    metavar="FILE",
    default=None,
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Print how many findings each rule has instead of the findings (text format).",
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
    config_file: str | None,
    no_config: bool,
    excludes: tuple[str, ...],
    respect_gitignore: bool,
    stdin_filename: str | None,
    selected: tuple[str, ...],
    ignored: tuple[str, ...],
    exit_zero: bool,
    quiet: bool,
    output_file: str | None,
    statistics: bool,
) -> None:
    """Lint Job and CronJob manifests in PATHS (files, folders, or - for stdin).

    Exit codes: 0 no findings at or above --fail-on, 1 such findings, 2 usage, policy, baseline
    or input errors (every other file is still linted). See docs/ci.md for CI, pre-commit and
    the configuration file.
    """
    from jobguard.cli.policy_files import kubernetes_version_option, load_policy_or_exit
    from jobguard.lint.linter import STDIN_NAME, lint_paths
    from jobguard.lint.selection import SelectionError, narrow, off_in_policy, parse_rules
    from jobguard.lint.walk import Exclude, collect

    config = _load_config(config_file, no_config)
    given = _from_config(click.get_current_context(), config.options)
    fmt = given.get("fmt", fmt)
    fail_on = given.get("fail_on", fail_on)
    baseline_file = given.get("baseline_file", baseline_file)
    kubernetes_version = given.get("kubernetes_version", kubernetes_version)
    max_file_size = given.get("max_file_size", max_file_size)
    respect_gitignore = given.get("respect_gitignore", respect_gitignore)
    selected = (*config.options.get("select", ()), *selected)
    ignored = (*config.options.get("ignore", ()), *ignored)
    policies, policy_origin = _policy_files(policies, config)
    if statistics and fmt != "text":
        raise click.UsageError("--statistics is a text report; drop --format or --statistics")
    try:
        select = parse_rules(selected) if selected else None
        ignore = parse_rules(ignored)
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--select/--ignore") from None
    if config.file is not None and not quiet:
        click.echo(f"jobguard: configuration {config.file}{policy_origin}", err=True)

    if not paths and changed_since is None:
        raise click.UsageError("give PATHS to lint, or --changed-since REF")
    if fix and show_diff:
        raise click.UsageError("--fix and --diff are alternatives: --diff shows what --fix writes")
    if (fix or show_diff) and "-" in paths:
        raise click.UsageError("stdin cannot be fixed in place; give the files")
    version = kubernetes_version_option(kubernetes_version)
    policy = load_policy_or_exit(policies, "nothing was linted")
    if select is not None and not quiet:
        for name in off_in_policy(select, policy):
            click.echo(f"warning: --select {name}: the policy turns this rule off", err=True)

    baseline_entries = None
    if baseline_file is not None:
        from jobguard.lint.baseline import BaselineError, load

        if _first_refresh(baseline_file, write_baseline):
            baseline_entries = []  # --baseline F --write-baseline F creates F on the first run
        else:
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

    stdin_name = stdin_filename or STDIN_NAME
    all_excludes = (*config.exclude, *(Exclude(g) for g in excludes))
    if "-" in targets and any(e.matches(stdin_name) for e in all_excludes if stdin_filename):
        targets = [t for t in targets if t != "-"]
    walked = collect(targets, all_excludes, respect_gitignore=respect_gitignore)

    def run() -> LintResult:
        linted = lint_paths(
            walked.files, policy, version, max_bytes=max_file_size, jobs=jobs, stdin_name=stdin_name
        )
        if old_contents:
            from jobguard.lint.updates import add_update_findings, objects_by_key

            linted = add_update_findings(linted, objects_by_key(old_contents), version, policy)
        linted.ignored, linted.excluded = walked.ignored, walked.excluded
        return narrow(linted, select, ignore)

    out = _Output(output_file)
    result = run()
    fixes: list[FileFix] = []
    if fix or show_diff:
        fixes = _plan_fixes(result)
        if show_diff:
            code = _show_diff(result, fixes, out, quiet)
            out.close()
            sys.exit(EXIT_OK if exit_zero and code == EXIT_FINDINGS else code)
        fixes, result = _write_fixes(fixes, run, quiet)

    if write_baseline is not None:
        from jobguard.lint import baseline
        from jobguard.render.text import plural

        recorded = baseline.write(result, write_baseline)
        click.echo(
            f"jobguard: recorded {plural(recorded, 'finding')} in {write_baseline}", err=True
        )

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

    options = _TextOptions(_colour(color, output_file), quiet, statistics)
    out.write(_render(result, fmt, policy, fail_on, options, outcome, baseline_file, fixes, config))
    out.close()
    sys.exit(_exit_code(result, fail_on, accept_all=write_baseline is not None or exit_zero))


class _Output:
    """Where the report goes: stdout, or ``-o FILE`` (written whole at the end)."""

    def __init__(self, path: str | None):
        self.path = path
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        if self.path is None:
            # The renderer already decided on colour (--color, NO_COLOR, FORCE_COLOR, a
            # terminal or not); click would strip it again from a pipe.
            click.echo(text, nl=False, color=True)
        else:
            self.parts.append(text)

    def close(self) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write("".join(self.parts))
        except OSError as exc:
            _fail(f"cannot write the report to {self.path}: {exc.strerror or exc}")


def _colour(flag: bool | None, output_file: str | None) -> bool:
    from jobguard.render.text import use_colour

    if output_file is not None and flag is None:
        return False  # a file is not a terminal, whatever FORCE_COLOR says
    return use_colour(flag, sys.stdout, os.environ)


def _load_config(config_file: str | None, no_config: bool) -> Config:
    from pathlib import Path

    from jobguard.lint.config import Config, ConfigError, discover_config, load_config

    if config_file is not None and no_config:
        raise click.UsageError("--config and --no-config are alternatives")
    try:
        if no_config:
            return Config()
        if config_file is not None:
            if not Path(config_file).is_file():
                _fail(f"{config_file}: no such configuration file")
            return load_config(Path(config_file))
        return discover_config()
    except ConfigError as exc:
        _fail(f"{exc}; nothing was linted")


#: configuration key -> parameter of `lint`
_CONFIG_PARAMETERS = {
    "format": "fmt",
    "fail-on": "fail_on",
    "baseline": "baseline_file",
    "kubernetes-version": "kubernetes_version",
    "max-file-size": "max_file_size",
    "respect-gitignore": "respect_gitignore",
}


def _from_config(ctx: click.Context, options: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration's values for the options the command line left at their defaults."""
    from click.core import ParameterSource

    taken = {}
    for key, parameter in _CONFIG_PARAMETERS.items():
        if key in options and ctx.get_parameter_source(parameter) in (
            ParameterSource.DEFAULT,
            None,
        ):
            taken[parameter] = options[key]
    return taken


def _policy_files(given: tuple[str, ...], config: Config) -> tuple[tuple[str, ...], str]:
    """The policy files in force and, for the note, where they came from: --policy, then
    JOBGUARD_POLICY (paths separated like PATH), then the configuration."""
    if given:
        return given, " (policy from --policy)"
    from_env = tuple(p for p in os.environ.get(ENV_POLICY, "").split(os.pathsep) if p)
    if from_env:
        return from_env, f" (policy from {ENV_POLICY})"
    if config.policy:
        return config.policy, ""
    return (), " (the bundled default policy)"


def _first_refresh(baseline_file: str, write_baseline: str | None) -> bool:
    """``--baseline F --write-baseline F`` where F does not exist yet."""
    if write_baseline is None or os.path.exists(baseline_file):
        return False
    return os.path.abspath(baseline_file) == os.path.abspath(write_baseline)


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


def _show_diff(result: LintResult, fixes: list[FileFix], out: _Output, quiet: bool) -> int:
    from jobguard.core.model import Severity
    from jobguard.render.text import plural

    for f in fixes:
        if f.changed:
            out.write(f.diff())
    _report_refusals(fixes)
    changed = any(f.changed for f in fixes)
    errors = result.count(Severity.ERROR)
    if not changed and not quiet:
        note = "jobguard: --diff: nothing for --fix to write"
        if errors:
            remain = "remains" if errors == 1 else "remain"
            them = "it" if errors == 1 else "them"
            note += (
                f"; {plural(errors, 'error')} {remain} to fix by hand "
                f"(run without --diff to see {them})"
            )
        click.echo(note, err=True)
    if any(p.severity is Severity.ERROR for p in result.problems):
        return EXIT_USAGE
    return EXIT_FINDINGS if changed else EXIT_OK


def _write_fixes(
    fixes: list[FileFix], relint: Callable[[], LintResult], quiet: bool
) -> tuple[list[FileFix], LintResult]:
    """Write the changed files, lint again, and add refusals to the report as warnings (only
    there: the report is where they are read, once)."""
    from jobguard.core.model import Severity
    from jobguard.lint.linter import InputProblem
    from jobguard.render.text import plural

    written: list[FileFix] = []
    for f in fixes:
        if f.changed:
            try:
                _atomic_write(f.file, f.fixed)
            except OSError as exc:
                f = replace(f, fixed=f.original, refused=f"cannot write: {exc.strerror or exc}")
            else:
                if not quiet:
                    click.echo(f"fixed {f.file} ({plural(f.applied, 'finding')})", err=True)
        written.append(f)
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
    options: _TextOptions,
    outcome: Outcome | None,
    baseline_file: str | None,
    fixes: list[FileFix],
    config: Config,
) -> str:
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
        configuration = str(config.file) if config.file is not None else None
        return json_report.render(
            result, baseline=baseline, fixed=fixed, configuration=configuration
        )
    if fmt == "sarif":
        from jobguard.render import sarif
        from jobguard.rules import CATALOGUE

        return sarif.render(result, policy, CATALOGUE, base=Path.cwd())
    if fmt == "junit":
        from jobguard.render import junit

        return junit.render(result, failing=_failing(Severity(fail_on)))
    if fmt == "github":
        from jobguard.render import github

        return github.render(result)
    from jobguard.render import text

    report = text.render(
        result, colour=options.colour, quiet=options.quiet, statistics=options.statistics
    )
    if outcome is not None and outcome.accepted and not options.quiet:
        report += (
            f"{text.plural(len(outcome.accepted), 'finding')} accepted by the baseline "
            f"{baseline_file} (not shown)\n"
        )
    return report


@dataclass(frozen=True)
class _TextOptions:
    colour: bool
    quiet: bool
    statistics: bool


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
