"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding.

GitHub shows them as annotations on the pull request's changed lines. Values are escaped as the
runner expects: ``%``, CR and LF in the message; additionally ``:`` and ``,`` in properties
(``file``, ``title``), which are otherwise read as separators.
"""

from __future__ import annotations

from jobguard.core.model import Severity
from jobguard.lint.linter import LintResult

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(
    severity: Severity, message: str, *, file: str, line: int, column: int, title: str
) -> str:
    props = [f"file={escape_property(file)}"]
    if line > 0:
        props.append(f"line={line}")
        if column > 0:
            props.append(f"col={column}")
    props.append(f"title={escape_property(title)}")
    return f"::{_COMMAND[severity]} {','.join(props)}::{escape_data(message)}"


def render(result: LintResult) -> str:
    lines = [
        annotation(
            p.severity, p.message, file=p.file, line=p.line, column=p.column, title="jobguard input"
        )
        for p in result.problems
    ]
    for obj, lf in result.findings:
        f = lf.finding
        where = (
            f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name or '<unnamed>'}"
        )
        lines.append(
            annotation(
                f.severity,
                f"{where}: {f.field}: {f.message}",
                file=obj.file,
                line=lf.line,
                column=lf.column,
                title=f"{f.code} {f.rule}",
            )
        )
    return "".join(line + "\n" for line in lines)
