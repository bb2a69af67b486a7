"""SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).

One run; ``tool.driver.rules`` holds every registered rule with its documentation (full
description = the rule's doc, help = its remediation) and the level the policy gives it; each
finding is a result with a physical location relative to the ``SRCROOT`` base (the working
directory) and a ``partialFingerprints`` entry built from the same stable key as the baseline
(file, kind, namespace, name, rule, path), so code scanning tracks an alert across edits that move
lines. Input problems are tool execution notifications. Findings accepted by a baseline are not
results here (they are not new); see ``docs/ci.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jobguard import __version__
from jobguard.core.model import Action, Severity
from jobguard.lint.linter import LintResult, LocatedFinding, ObjectResult
from jobguard.policy.model import Policy
from jobguard.rules.base import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "SRCROOT"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_ACTION_LEVEL = {
    Action.DENY: "error",
    Action.WARN: "warning",
    Action.AUDIT: "note",
    Action.OFF: "none",
}


def artifact_location(file: str, base: Path) -> dict[str, Any]:
    """A relative ``uri`` under ``SRCROOT`` when the file is below ``base``; else an absolute one."""
    if file == "<stdin>":
        return {"uri": "stdin"}
    path = Path(os.path.abspath(file))
    try:
        relative = path.relative_to(base)
    except ValueError:
        return {"uri": path.as_uri()}
    # A file name that is not UTF-8 holds surrogate escapes: quoted back to its own bytes.
    return {"uri": quote(relative.as_posix(), errors="surrogateescape"), "uriBaseId": BASE_ID}


def fingerprint(obj: ObjectResult, lf: LocatedFinding) -> str:
    key = "\0".join(
        [obj.file, obj.kind, obj.namespace or "", obj.name or "", lf.finding.code, lf.finding.field]
    )
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _rule_descriptor(rule: Rule, policy: Policy) -> dict[str, Any]:
    level = _ACTION_LEVEL[policy.settings(rule).action]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.doc or rule.summary},
        "help": {"text": rule.remediation},
        "defaultConfiguration": {"level": level, "enabled": level != "none"},
        "properties": {"category": rule.category.value, "tags": [rule.category.value]},
    }


def _region(line: int, column: int) -> dict[str, Any] | None:
    if line < 1:
        return None
    return {"startLine": line, "startColumn": max(column, 1)}


def _result(
    obj: ObjectResult, lf: LocatedFinding, index: dict[str, int], base: Path
) -> dict[str, Any]:
    f = lf.finding
    physical: dict[str, Any] = {"artifactLocation": artifact_location(obj.file, base)}
    region = _region(lf.line, lf.column)
    if region:
        physical["region"] = region
    where = f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name or '<unnamed>'}"
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{where}: {f.field}: {f.message}"},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [
                    {"fullyQualifiedName": f"{where}/{f.field}", "kind": "member"}
                ],
            }
        ],
        "partialFingerprints": {"jobguard/v1": fingerprint(obj, lf)},
        "properties": {
            "rule": f.rule,
            "kind": obj.kind,
            "namespace": obj.namespace,
            "name": obj.name,
            "path": f.field,
            "category": f.category.value,
            "severity": f.severity.value,
        },
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if f.fix is not None:
        result["properties"]["fix"] = {"safe": f.fix.safe, "title": f.fix.title}
    return result


def report_dict(
    result: LintResult, policy: Policy, rules: Sequence[Rule], *, base: Path
) -> dict[str, Any]:
    """The SARIF log as a dict; ``base`` is the directory ``SRCROOT`` stands for."""
    base = Path(os.path.abspath(base))
    descriptors = [_rule_descriptor(r, policy) for r in rules]
    index = {r.code: i for i, r in enumerate(rules)}
    notifications = []
    for p in result.problems:
        physical: dict[str, Any] = {"artifactLocation": artifact_location(p.file, base)}
        region = _region(p.line, p.column)
        if region:
            physical["region"] = region
        notifications.append(
            {
                "level": _LEVEL[p.severity],
                "message": {"text": p.message},
                "locations": [{"physicalLocation": physical}],
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "jobguard",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {BASE_ID: {"uri": base.as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not any(
                            p.severity is Severity.ERROR for p in result.problems
                        ),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_result(o, lf, index, base) for o, lf in result.findings],
            }
        ],
    }


def render(result: LintResult, policy: Policy, rules: Sequence[Rule], *, base: Path) -> str:
    return (
        json.dumps(report_dict(result, policy, rules, base=base), indent=2, ensure_ascii=False)
        + "\n"
    )
