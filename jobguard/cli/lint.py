"""``jobguard lint``: the rules over files, folders or stdin, in the formats CI systems read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from jobguard.core.kubernetes.versions import Version
    from jobguard.core.model import Severity
    from jobguard.lint.baseline import Outcome
    from jobguard.lint.config import Config
    from jobguard.lint.fix import FileFix
    from jobguard.lint.linter import FileResult, LintResult
    from jobguard.lint.walk import Exclude, Walked
    from jobguard.policy.model import Policy
    from jobguard.render.text import Streamed

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
ENV_POLICY = "JOBGUARD_POLICY"
#: stdin as a path, and the name it is reported as unless --stdin-filename (as jobguard.lint.linter
#: spells them; not imported from there, which would load every rule before option parsing)
STDIN, STDIN_DEFAULT_NAME = "-", "<stdin>"
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
    help="Write the safe fixes (the ones the webhook applies, less values the API server fills "
    "in anyway unless the policy asks) into the files, keeping comments and layout; the report "
    "and exit code then show what remains. With - (stdin): print the fixed document.",
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
    help="Leave out matching files and folders of the folders walked; repeatable. A glob "
    "without / matches any path component (vendor, *.rendered.yaml), one with / the path "
    "(charts/vendor). Paths named on the command line are linted unless --force-exclude.",
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
    "--min-severity",
    type=click.Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity the text report lists (default: warning; never above --fail-on); "
    "the summary counts the rest.",
)
@click.option(
    "--show-infos",
    is_flag=True,
    help="List info findings too (same as --min-severity info): mostly values the API server "
    "fills in anyway.",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Print how many findings each rule has instead of the findings (text format).",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply --exclude and .gitignore to paths named on the command line too (by default a "
    "path given by name is always linted).",
)
@click.option(
    "--fail-on-empty",
    is_flag=True,
    help="Exit 2 when no manifest file was found to lint (by default a note on stderr).",
)
def lint(**given: Any) -> None:
    """Lint Job and CronJob manifests in PATHS (files, folders, or - for stdin; default: the
    current folder).

    Exit codes: 0 no findings at or above --fail-on, 1 such findings, 2 usage, policy, baseline
    or input errors (every other file is still linted). See docs/ci.md for CI, pre-commit and
    the configuration file.
    """
    options = resolve(click.get_current_context(), given)
    sys.exit(run(options))


# -- the options in force ---------------------------------------------------------------------


@dataclass(frozen=True)
class LintOptions:
    """Everything one run does, resolved once from the command line, the discovered
    configuration and the defaults (a command-line value wins, then the configuration's)."""

    paths: tuple[str, ...]
    policy: Policy
    config: Config
    #: how the note on stderr names where the policy came from
    policy_origin: str
    fmt: str
    fail_on: Severity
    fix: bool
    diff: bool
    baseline_file: str | None
    write_baseline: str | None
    changed_since: str | None
    version: Version
    old_file: str | None
    max_file_size: int
    jobs: int | None
    excludes: tuple[Exclude, ...]
    respect_gitignore: bool
    force_exclude: bool
    stdin_name: str
    select: frozenset[str] | None
    ignore: frozenset[str]
    exit_zero: bool
    fail_on_empty: bool
    output_file: str | None
    text: TextOptions

    @property
    def fixes_stdin(self) -> bool:
        return (self.fix or self.diff) and self.paths == (STDIN,)


@dataclass(frozen=True)
class TextOptions:
    colour: bool
    quiet: bool
    statistics: bool
    min_severity: Severity


def resolve(ctx: click.Context, given: Mapping[str, Any]) -> LintOptions:
    """The options of a run; usage errors exit 2 before anything is read."""
    from jobguard.cli.policy_files import kubernetes_version_option, load_policy_or_exit
    from jobguard.core.model import Severity
    from jobguard.lint.walk import Exclude

    config = _load_config(given["config_file"], given["no_config"])
    value = {**given, **_from_config(ctx, config.options)}
    if value["statistics"] and value["fmt"] != "text":
        raise click.UsageError("--statistics is a text report; drop --format or --statistics")
    paths: tuple[str, ...] = value["paths"]
    if not paths and value["changed_since"] is None:
        paths = (".",)  # as ruff and kubeconform do: the current folder
    fix, diff = value["fix"], value["show_diff"]
    if fix and diff:
        raise click.UsageError("--fix and --diff are alternatives: --diff shows what --fix writes")
    if (fix or diff) and STDIN in paths and paths != (STDIN,):
        raise click.UsageError("--fix - and --diff - read stdin alone; give files separately")
    if (fix or diff) and paths == (STDIN,) and value["write_baseline"]:
        raise click.UsageError("--fix - prints the fixed document; --write-baseline needs files")
    policies, policy_origin = _policy_files(value["policies"], config)
    version = kubernetes_version_option(value["kubernetes_version"])
    policy = load_policy_or_exit(policies, "nothing was linted")
    select, ignore = _selection(
        (*config.options.get("select", ()), *value["selected"]),
        (*config.options.get("ignore", ()), *value["ignored"]),
        policy,
    )
    fail_on = Severity(value["fail_on"])
    return LintOptions(
        paths=paths,
        policy=policy,
        config=config,
        policy_origin=policy_origin,
        fmt=value["fmt"],
        fail_on=fail_on,
        fix=fix,
        diff=diff,
        baseline_file=value["baseline_file"],
        write_baseline=value["write_baseline"],
        changed_since=value["changed_since"],
        version=version,
        old_file=value["old_file"],
        max_file_size=value["max_file_size"],
        jobs=value["jobs"],
        excludes=(*config.exclude, *(Exclude(g) for g in value["excludes"])),
        respect_gitignore=value["respect_gitignore"],
        force_exclude=value["force_exclude"],
        stdin_name=value["stdin_filename"] or STDIN_DEFAULT_NAME,
        select=select,
        ignore=ignore,
        exit_zero=value["exit_zero"],
        fail_on_empty=value["fail_on_empty"],
        output_file=value["output_file"],
        text=TextOptions(
            colour=_colour(value["color"], value["output_file"]),
            quiet=value["quiet"],
            statistics=value["statistics"],
            min_severity=_min_severity(value["min_severity"], value["show_infos"], fail_on),
        ),
    )


def _selection(
    selected: tuple[str, ...], ignored: tuple[str, ...], policy: Policy
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """``--select``/``--ignore`` as rule names: the catalogue's and the policy's own rules."""
    from jobguard.lint.selection import SelectionError, parse_rules

    try:
        select = parse_rules(selected, policy.custom_rules) if selected else None
        ignore = parse_rules(ignored, policy.custom_rules)
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--select/--ignore") from None
    return select, ignore


# -- the run ------------------------------------------------------------------------------------


def run(options: LintOptions) -> int:
    """Lint, fix or diff as ``options`` say; the exit code."""
    from jobguard.lint.linter import LintResult
    from jobguard.lint.progress import Progress
    from jobguard.lint.selection import narrow, off_in_policy

    quiet = options.text.quiet
    if options.config.file is not None and not quiet:
        click.echo(
            f"jobguard: configuration {options.config.file}{options.policy_origin}", err=True
        )
    if options.select is not None and not quiet:
        for name in off_in_policy(options.select, options.policy):
            click.echo(f"warning: --select {name}: the policy turns this rule off", err=True)
    baseline_entries = _baseline_entries(options)
    if options.fixes_stdin:
        return _fix_stdin(options)
    targets, old_contents = _targets(options)
    walked = _walk(targets, options)
    if not walked.files:
        code = _nothing_found(walked, options)
        if code is not None:
            return code

    out = _Output(options.output_file)
    streamed = _streamed(options, bool(old_contents), out)
    progress = Progress(sys.stderr)

    def on_file(fr: FileResult, done: int, total: int) -> None:
        if streamed is not None:
            progress.clear()
            streamed.file(narrow(LintResult([fr]), options.select, options.ignore).files[0])
        progress.update(done, total)

    def lint_all() -> LintResult:
        try:
            return _lint(walked, old_contents, options, on_file)
        finally:
            progress.clear()

    result = lint_all()
    fixes: list[FileFix] = []
    if options.fix or options.diff:
        fixes = _plan_fixes(result)
        if options.diff:
            code = _show_diff(result, fixes, out, quiet)
            out.close()
            return EXIT_OK if options.exit_zero and code == EXIT_FINDINGS else code
        fixes, result = _write_fixes(fixes, lint_all, quiet)

    if options.write_baseline is not None:
        from jobguard.lint import baseline
        from jobguard.render.text import plural

        recorded = baseline.write(result, options.write_baseline)
        files = len({o.file for o, _ in result.findings})
        # The baseline is the output: a summary line, not the report it records.
        click.echo(
            f"jobguard: recorded {plural(recorded, 'finding')} "
            f"({plural(files, 'file')}) in {options.write_baseline}",
            err=True,
        )
        return EXIT_USAGE if _input_errors(result) else EXIT_OK

    outcome: Outcome | None = None
    if baseline_entries is not None and options.baseline_file is not None:
        from jobguard.lint import baseline

        outcome = baseline.apply(result, baseline_entries, options.baseline_file)
        result = outcome.result
        for entry in outcome.stale:
            e = entry.as_dict()
            where = f"{e['namespace']}/{e['name']}" if e["namespace"] else str(e["name"])
            click.echo(
                f"warning: stale baseline entry (fixed? rewrite the baseline): {e['file']} "
                f"{e['kind']} {where} {e['rule'] or e['code']} {e['path']} (x{e['count']})",
                err=True,
            )

    if streamed is not None:
        streamed.end(result)
    else:
        out.write(_render(result, options, outcome, fixes))
    out.close()
    return _exit_code(result, options.fail_on, accept_all=options.exit_zero)


def _streamed(options: LintOptions, updates: bool, out: _Output) -> Streamed | None:
    """The text report printed file by file as the run goes, where nothing needs the whole
    run first (statistics, fixes, a baseline, update findings against old objects)."""
    if (
        options.fmt != "text"
        or options.text.statistics
        or options.fix
        or options.diff
        or options.baseline_file is not None
        or options.write_baseline is not None
        or updates
    ):
        return None
    from jobguard.render.text import Streamed

    shown = options.text
    return Streamed(
        out.write, colour=shown.colour, quiet=shown.quiet, min_severity=shown.min_severity
    )


def _baseline_entries(options: LintOptions) -> list[Any] | None:
    if options.baseline_file is None:
        return None
    from jobguard.lint.baseline import BaselineError, load

    if _first_refresh(options.baseline_file, options.write_baseline):
        return []  # --baseline F --write-baseline F creates F on the first run
    try:
        return load(options.baseline_file)
    except BaselineError as exc:
        _fail(f"{exc}; nothing was linted")


def _targets(options: LintOptions) -> tuple[list[str], list[bytes]]:
    """The paths to lint and the old objects' files (``--changed-since``, ``--old``)."""
    targets: list[str] = list(options.paths)
    old_contents: list[bytes] = []
    if options.changed_since is not None:
        from jobguard.lint.changed import ChangedFilesError, changed_files, manifests_at, within

        try:
            changed = changed_files(options.changed_since)
            old_contents = manifests_at(options.changed_since)
        except ChangedFilesError as exc:
            _fail(str(exc))
        targets = within(changed, options.paths) if options.paths else changed
    if options.old_file is not None:
        try:
            with open(options.old_file, "rb") as fh:
                old_contents.append(fh.read())
        except OSError as exc:
            _fail(f"--old: cannot read {options.old_file}: {exc.strerror or exc}")
    return targets, old_contents


def _stdin_excluded(options: LintOptions) -> bool:
    """``--stdin-filename`` names a path the excludes leave out."""
    return options.stdin_name != STDIN_DEFAULT_NAME and any(
        e.matches(options.stdin_name) for e in options.excludes
    )


def _walk(targets: list[str], options: LintOptions) -> Walked:
    from jobguard.lint.walk import collect

    if STDIN in targets and options.force_exclude and _stdin_excluded(options):
        targets = [t for t in targets if t != STDIN]
    return collect(
        targets,
        options.excludes,
        respect_gitignore=options.respect_gitignore,
        force_exclude=options.force_exclude,
    )


def _nothing_found(walked: Walked, options: LintOptions) -> int | None:
    """Say that no manifest file was found (and why, when files were left out); the exit code
    when that ends the run (``--fail-on-empty``)."""
    from jobguard.render.text import plural

    left_out = [
        f"{plural(walked.ignored, 'file')} ignored by git" if walked.ignored else "",
        f"{plural(walked.excluded, 'file')} excluded" if walked.excluded else "",
    ]
    why = " and ".join(x for x in left_out if x)
    where = (
        " ".join(options.paths) if options.paths else f"the changes since {options.changed_since}"
    )
    note = f"no manifest file (.yaml, .yml, .json) to lint in {where}"
    note += f" ({why})" if why else ""
    if options.fail_on_empty:
        click.echo(f"error: {note}", err=True)
        return EXIT_USAGE
    click.echo(f"jobguard: {note}", err=True)
    return None


def _lint(
    walked: Walked,
    old_contents: list[bytes],
    options: LintOptions,
    on_file: Callable[[FileResult, int, int], None] | None = None,
) -> LintResult:
    from jobguard.lint.linter import lint_paths
    from jobguard.lint.selection import narrow

    linted = lint_paths(
        walked.files,
        options.policy,
        options.version,
        max_bytes=options.max_file_size,
        jobs=options.jobs,
        stdin_name=options.stdin_name,
        on_file=on_file,
    )
    if old_contents:
        from jobguard.lint.updates import add_update_findings, objects_by_key

        linted = add_update_findings(
            linted, objects_by_key(old_contents), options.version, options.policy
        )
    linted.ignored, linted.excluded = walked.ignored, walked.excluded
    return narrow(linted, options.select, options.ignore)


def _fix_stdin(options: LintOptions) -> int:
    """``--fix -``: the fixed document on stdout (the input as it was when nothing is to be
    fixed or it cannot be fixed safely), the report of what remains on stderr. ``--diff -``:
    the diff on stdout."""
    from jobguard.lint.fix import plan_fix
    from jobguard.lint.linter import LintResult, lint_bytes
    from jobguard.lint.selection import narrow

    raw = sys.stdin.buffer.read(options.max_file_size + 1)
    name = options.stdin_name
    if options.force_exclude and _stdin_excluded(options):
        if not options.diff:
            sys.stdout.buffer.write(raw)  # excluded: passed through, as ruff does
        return EXIT_OK
    if len(raw) > options.max_file_size:
        _fail(f"{name}: more than {options.max_file_size:,} bytes (--max-file-size); not fixed")

    def lint_stdin(content: bytes) -> LintResult:
        linted = lint_bytes(
            name, content, options.policy, options.version, max_bytes=options.max_file_size
        )
        return narrow(LintResult([linted]), options.select, options.ignore)

    result = lint_stdin(raw)
    planned = plan_fix(result.files[0], raw)
    if planned.refused:
        click.echo(f"warning: {name}: not fixed: {planned.refused}", err=True)
    if options.diff:
        out = _Output(options.output_file)
        out.write(planned.diff())
        out.close()
        if _input_errors(result):
            return EXIT_USAGE
        return EXIT_FINDINGS if planned.changed and not options.exit_zero else EXIT_OK
    fixed = planned.fixed if planned.changed else raw.decode("utf-8", "surrogateescape")
    sys.stdout.write(fixed)
    sys.stdout.flush()
    remaining = lint_stdin(fixed.encode("utf-8", "surrogateescape"))
    report = _render(remaining, options, None, [])
    click.echo(report, nl=False, err=True, color=options.text.colour)
    return _exit_code(remaining, options.fail_on, accept_all=options.exit_zero)


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
    result: LintResult, options: LintOptions, outcome: Outcome | None, fixes: list[FileFix]
) -> str:
    from pathlib import Path

    fmt, policy = options.fmt, options.policy
    if fmt == "json":
        from jobguard.render import json_report

        baseline = None
        if outcome is not None:
            baseline = {
                "file": options.baseline_file,
                "accepted": len(outcome.accepted),
                "stale": [e.as_dict() for e in outcome.stale],
            }
        fixed = None
        if fixes:
            fixed = [{"file": f.file, "findings": f.applied} for f in fixes if f.changed]
        config_file = options.config.file
        configuration = str(config_file) if config_file is not None else None
        return json_report.render(
            result, baseline=baseline, fixed=fixed, configuration=configuration
        )
    if fmt == "sarif":
        from jobguard.render import sarif
        from jobguard.rules import CATALOGUE

        return sarif.render(result, policy, (*CATALOGUE, *policy.custom_rules), base=Path.cwd())
    if fmt == "junit":
        from jobguard.render import junit

        return junit.render(result, failing=_failing(options.fail_on))
    if fmt == "github":
        from jobguard.render import github

        return github.render(result)
    from jobguard.render import text

    shown = options.text
    report = text.render(
        result,
        colour=shown.colour,
        quiet=shown.quiet,
        statistics=shown.statistics,
        min_severity=shown.min_severity,
    )
    if outcome is not None and outcome.accepted and not shown.quiet:
        report += (
            f"{text.plural(len(outcome.accepted), 'finding')} accepted by the baseline "
            f"{options.baseline_file} (not shown)\n"
        )
    return report


def _min_severity(given: str | None, show_infos: bool, fail_on: Severity) -> Severity:
    """What the text report lists: errors and warnings unless asked, and never less than what
    fails the run (a finding that sets the exit code is always shown)."""
    from jobguard.core.model import Severity
    from jobguard.render.text import SEVERITY_ORDER

    if show_infos:
        if given not in (None, "info"):
            raise click.UsageError("--show-infos is --min-severity info; give one of them")
        given = "info"
    wanted = Severity(given) if given is not None else Severity.WARNING
    return max(wanted, fail_on, key=SEVERITY_ORDER.index)


def _failing(fail_on: Severity) -> list[Severity]:
    from jobguard.render.text import shown_severities

    return list(shown_severities(fail_on))


def _input_errors(result: LintResult) -> bool:
    from jobguard.core.model import Severity

    return any(p.severity is Severity.ERROR for p in result.problems)


def _exit_code(result: LintResult, fail_on: Severity, *, accept_all: bool) -> int:
    if _input_errors(result):
        return EXIT_USAGE
    if accept_all:
        return EXIT_OK
    if any(result.count(s) for s in _failing(fail_on)):
        return EXIT_FINDINGS
    return EXIT_OK
