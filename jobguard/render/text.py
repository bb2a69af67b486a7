"""Human output: ``file:line:col: severity rule message`` grouped per object, fix hints below."""

from __future__ import annotations

from jobguard.core.model import Severity
from jobguard.lint.linter import LintResult, ObjectResult
from jobguard.render.json_report import summary

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _object_title(obj: ObjectResult) -> str:
    where = f"{obj.namespace}/" if obj.namespace else ""
    return f"{obj.kind} {where}{obj.name or '<unnamed>'} ({obj.file}:{obj.line})"


def render(result: LintResult, *, colour: bool = False) -> str:
    lines: list[str] = []
    for problem in result.problems:
        sev = _paint(problem.severity.value, _COLOURS[problem.severity], colour)
        lines.append(
            f"{problem.file}:{problem.line}:{problem.column}: {sev} input {problem.message}"
        )
    for obj in result.objects:
        if not obj.findings:
            continue
        lines.append(_paint(_object_title(obj), "1", colour))
        for lf in obj.findings:
            f = lf.finding
            sev = _paint(f.severity.value, _COLOURS[f.severity], colour)
            lines.append(f"{obj.file}:{lf.line}:{lf.column}: {sev} {f.rule} {f.field}: {f.message}")
            if f.fix is not None:
                kind = "fix" if f.fix.safe else "suggested fix (unsafe)"
                lines.append(f"    {kind}: {f.fix.title}")
        lines.append("")
    s = summary(result)
    lines.append(
        f"{s['files']} files, {s['objects']} Jobs/CronJobs, {s['skipped']} other objects skipped: "
        f"{s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos"
        + (f", {s['problems']} input problems" if s["problems"] else "")
    )
    return "\n".join(lines) + "\n"
