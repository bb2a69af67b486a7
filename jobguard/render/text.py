"""Human output: ``file:line:col: severity rule message`` grouped per object in line order, fix
hints below."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import TextIO

from jobguard.core.model import Severity
from jobguard.lint.linter import FileResult, LintResult, ObjectResult
from jobguard.render.json_report import summary

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def use_colour(flag: bool | None, stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether to colour: ``--color``/``--no-color`` first, then ``NO_COLOR`` and
    ``FORCE_COLOR`` (https://no-color.org, https://force-color.org: set and not empty), then
    whether the output is a terminal."""
    if flag is not None:
        return flag
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _where(file: str, line: int, column: int) -> str:
    """``file:line:col``, or just ``file`` when the problem is about the whole file."""
    return f"{file}:{line}:{column}" if line > 0 else file


def _object_title(obj: ObjectResult) -> str:
    where = f"{obj.namespace}/" if obj.namespace else ""
    return f"{obj.kind} {where}{obj.name or '<unnamed>'} ({obj.file}:{obj.line})"


def problem_lines(result: LintResult, colour: bool) -> list[str]:
    lines: list[str] = []
    for problem in result.problems:
        sev = _paint(problem.severity.value, _COLOURS[problem.severity], colour)
        where = _where(problem.file, problem.line, problem.column)
        lines.append(f"{where}: {sev} input {problem.message}")
    return lines


#: Most to least severe: ``--min-severity`` shows a prefix of it.
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def shown_severities(min_severity: Severity) -> tuple[Severity, ...]:
    return SEVERITY_ORDER[: SEVERITY_ORDER.index(min_severity) + 1]


def file_lines(fr: FileResult, colour: bool, min_severity: Severity = Severity.INFO) -> list[str]:
    """One file's part of the report: its input problems, then each object with findings to
    show (a title, the findings, a blank line)."""
    lines = problem_lines(LintResult([fr]), colour)
    shown = shown_severities(min_severity)
    for obj in fr.objects:
        listed = [lf for lf in obj.findings if lf.finding.severity in shown]
        if not listed:
            continue
        lines.append(_paint(_object_title(obj), "1", colour))
        # In the file's order, as a compiler lists its errors and an editor walks them; the
        # findings at one position keep the rules' order.
        for lf in sorted(listed, key=lambda lf: (lf.line, lf.column)):
            f = lf.finding
            sev = _paint(f.severity.value, _COLOURS[f.severity], colour)
            lines.append(
                f"{_where(obj.file, lf.line, lf.column)}: {sev} {f.rule} {f.field}: {f.message}"
            )
            if f.fix is not None:
                kind = "fix" if f.fix.safe else "suggested fix (unsafe)"
                lines.append(f"    {kind}: {f.fix.title}")
        lines.append("")
    return lines


def findings_lines(
    result: LintResult, colour: bool, min_severity: Severity = Severity.INFO
) -> list[str]:
    """The report's body: file after file (a file's problems beside its findings)."""
    return [line for fr in result.files for line in file_lines(fr, colour, min_severity)]


class Streamed:
    """The text report written file by file as results arrive, ending with the summary: the
    same text :func:`render` gives for the whole run (without ``statistics``)."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        colour: bool = False,
        quiet: bool = False,
        min_severity: Severity = Severity.INFO,
    ) -> None:
        self.write = write
        self.colour, self.quiet, self.min_severity = colour, quiet, min_severity
        self.blank = False  # a blank line held back: a quiet report does not end with one

    def file(self, fr: FileResult) -> None:
        lines = file_lines(fr, self.colour, self.min_severity)
        if not lines:
            return
        if self.blank:
            lines.insert(0, "")
        self.blank = lines[-1] == ""
        if self.blank:
            lines.pop()
        self.write("".join(line + "\n" for line in lines))

    def end(self, result: LintResult) -> None:
        if not self.quiet:
            self.write(
                ("\n" if self.blank else "") + summary_line(result, self.min_severity) + "\n"
            )


def statistics_lines(result: LintResult, min_severity: Severity = Severity.INFO) -> list[str]:
    """One line per rule with findings: count, code, name, severity; most frequent first."""
    shown = shown_severities(min_severity)
    counts: Counter[tuple[str, str, str]] = Counter(
        (lf.finding.code, lf.finding.rule, lf.finding.severity.value)
        for _, lf in result.findings
        if lf.finding.severity in shown
    )
    if not counts:
        return []
    width = len(str(max(counts.values())))
    return [
        f"{n:>{width}}  {code}  {rule} ({severity})"
        for (code, rule, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _hidden(count: int, severity: Severity, min_severity: Severity) -> str:
    if not count or severity in shown_severities(min_severity):
        return ""
    return " (not shown: --show-infos)" if severity is Severity.INFO else " (not shown)"


def summary_line(result: LintResult, min_severity: Severity = Severity.INFO) -> str:
    """Counts of everything found, shown or not (``min_severity`` only says which are not)."""
    s = summary(result)
    line = (
        f"{plural(s['files'], 'file')}, {plural(s['objects'], 'Job/CronJob', 'Jobs/CronJobs')}, "
        f"{plural(s['skipped'], 'other object')} skipped: "
        f"{plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}"
        f"{_hidden(s['warnings'], Severity.WARNING, min_severity)}, "
        f"{plural(s['infos'], 'info')}{_hidden(s['infos'], Severity.INFO, min_severity)}"
    )
    extras = [
        plural(s["problems"], "input problem") if s["problems"] else "",
        f"{s['suppressed']} suppressed" if s["suppressed"] else "",
        f"{s['exempted']} exempted by the policy" if s["exempted"] else "",
        f"{s['out_of_scope']} outside the policy's scope (api rules only)"
        if s["out_of_scope"]
        else "",
    ]
    line += "".join(f", {e}" for e in extras if e)
    skipped = [
        f"{plural(s['ignored'], 'file')} ignored by git" if s["ignored"] else "",
        f"{plural(s['excluded'], 'file')} excluded" if s["excluded"] else "",
    ]
    skipped = [s for s in skipped if s]
    if skipped:
        line += f" ({' and '.join(skipped)}, not linted)"
    return line


def render(
    result: LintResult,
    *,
    colour: bool = False,
    quiet: bool = False,
    statistics: bool = False,
    min_severity: Severity = Severity.INFO,
) -> str:
    """The report; ``quiet`` leaves out the summary, ``statistics`` replaces the findings with
    a count per rule (input problems are still listed); findings below ``min_severity`` are
    only counted in the summary."""
    if statistics:
        lines = problem_lines(result, colour) + statistics_lines(result, min_severity)
        if lines:
            lines.append("")
    else:
        lines = findings_lines(result, colour, min_severity)
    if not quiet:
        lines.append(summary_line(result, min_severity))
    elif lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""
