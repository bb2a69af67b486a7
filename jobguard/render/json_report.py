"""The JSON report: a stable contract (``version: 1``) that other tools build on.

Shape::

    {"version": 1,
     "findings": [{"rule", "code", "category", "severity", "file", "line", "column", "kind",
                   "namespace", "name", "path", "message",
                   "fix": null | {"safe": bool, "title": str, "patch": [JSON Patch ops]}}],
     "problems": [{"file", "line", "column", "severity", "message"}],
     "summary": {"files", "objects", "skipped", "errors", "warnings", "infos", "problems",
                 "suppressed", "exempted", "out_of_scope", "ignored", "excluded"}}

``suppressed`` counts findings silenced by annotations, ``exempted`` those lifted by the
policy's exemptions, ``out_of_scope`` the objects outside the policy's scope (judged only by
the rules of what the API server rejects), ``ignored`` the manifest files of linted folders that git ignores,
``excluded`` the files ``--exclude`` left out. A ``line`` and ``column`` of 0 in ``problems``
mean the whole file. The JSON Schema is ``jobguard/schemas/report-v1.schema.json``.

Added by options (absent otherwise)::

     "baseline": {"file", "accepted": int, "stale": [baseline entries]}   # --baseline
     "fixed": [{"file", "findings": int}]                                   # --fix
     "configuration": "path of the configuration file used"                 # config found

Fields are only ever added, never renamed or removed, within a version.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from jobguard.core.model import Severity
from jobguard.lint.linter import LintResult, LocatedFinding, ObjectResult

VERSION = 1


def finding_dict(obj: ObjectResult, lf: LocatedFinding) -> dict[str, Any]:
    f = lf.finding
    return {
        "rule": f.rule,
        "code": f.code,
        "category": f.category.value,
        "severity": f.severity.value,
        "file": obj.file,
        "line": lf.line,
        "column": lf.column,
        "kind": obj.kind,
        "namespace": obj.namespace,
        "name": obj.name,
        "path": f.field,
        "message": f.message,
        "fix": None
        if f.fix is None
        else {"safe": f.fix.safe, "title": f.fix.title, "patch": list(f.patch)},
    }


def summary(result: LintResult) -> dict[str, int]:
    return {
        "files": len({f.file for f in result.files}),
        "objects": len(result.objects),
        "skipped": result.skipped,
        "errors": result.count(Severity.ERROR),
        "warnings": result.count(Severity.WARNING),
        "infos": result.count(Severity.INFO),
        "problems": len(result.problems),
        "suppressed": sum(o.suppressed for o in result.objects),
        "exempted": sum(o.exempted for o in result.objects),
        "out_of_scope": sum(1 for o in result.objects if not o.in_scope),
        "ignored": result.ignored,
        "excluded": result.excluded,
    }


def _shell(
    result: LintResult,
    *,
    baseline: dict[str, Any] | None = None,
    fixed: list[dict[str, Any]] | None = None,
    configuration: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": VERSION,
        "findings": [],
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "severity": p.severity.value,
                "message": p.message,
            }
            for p in result.problems
        ],
        "summary": summary(result),
    }
    if baseline is not None:
        doc["baseline"] = baseline
    if fixed is not None:
        doc["fixed"] = fixed
    if configuration is not None:
        doc["configuration"] = configuration
    return doc


def report_dict(
    result: LintResult,
    *,
    baseline: dict[str, Any] | None = None,
    fixed: list[dict[str, Any]] | None = None,
    configuration: str | None = None,
) -> dict[str, Any]:
    doc = _shell(result, baseline=baseline, fixed=fixed, configuration=configuration)
    doc["findings"] = [finding_dict(o, lf) for o, lf in result.findings]
    return doc


def render(
    result: LintResult,
    *,
    baseline: dict[str, Any] | None = None,
    fixed: list[dict[str, Any]] | None = None,
    configuration: str | None = None,
) -> str:
    """The report's text: ``dumps(report_dict(...))``, with the findings encoded one at a time
    and spliced in, so that their dicts never all exist at once (a 16 MiB stream has some
    50,000 findings: 50 MiB of dicts). JSON strings hold no raw newline, so indenting a
    finding's text by four spaces after each newline nests it as ``json.dumps`` would."""
    shell = dumps(_shell(result, baseline=baseline, fixed=fixed, configuration=configuration))
    head, tail = shell.split('"findings": []', 1)  # the first key after "version"
    parts = [head, '"findings": [']
    for o, lf in result.findings:
        parts += [",\n    " if len(parts) > 2 else "\n    "]
        parts += [dumps(finding_dict(o, lf)).replace("\n", "\n    ")]
    parts += ["\n  ]" if len(parts) > 2 else "]", tail, "\n"]
    return "".join(parts)  # one copy of the whole text, made once


def dumps(doc: Any) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=False)``, byte for byte, about ten times faster.

    orjson writes the same text for strings, integers, booleans, null, maps and lists at this
    indent. It spells some floats differently (``1e16`` where Python writes ``1e+16``) and
    refuses integers beyond 64 bits, lone surrogates and non-string keys: a report holding any
    of those (only a fix's patch can carry a value from the manifest) goes through ``json``.
    """
    if not _has_float(doc):
        try:
            return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
        except (orjson.JSONEncodeError, UnicodeDecodeError):
            pass
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False
