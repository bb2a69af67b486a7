"""Shared by the hostile-input tests: where to put a hostile value in a document, and what every
lint result must look like whatever the input."""

from __future__ import annotations

from typing import Any

from fuzz.targets import RULE_NAMES
from jobguard.core.paths import Key
from jobguard.lint.linter import FileResult, lint_bytes
from jobguard.policy.model import builtin_defaults

POLICY = builtin_defaults()

FieldPath = tuple[str | int, ...]


def field_paths(value: Any, prefix: FieldPath = ()) -> list[FieldPath]:
    """Every path below ``value`` (not the root itself), parents first."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found: list[FieldPath] = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(field_paths(child, (*prefix, key)))
    return found


def replaced(value: Any, path: FieldPath, new: Any) -> Any:
    """``value`` with ``new`` at ``path``; the copies go along the path only (nothing else is
    changed, so the rest is shared)."""
    if not path:
        return new
    if isinstance(value, dict):
        return {k: replaced(v, path[1:], new) if k == path[0] else v for k, v in value.items()}
    return [replaced(v, path[1:], new) if i == path[0] else v for i, v in enumerate(value)]


def check_well_formed(result: FileResult) -> None:
    """Only Jobs and CronJobs; findings name a registered rule (never ``internal-error``: a
    rule that raised) at a path of str/int/Key and a positive position, with a message;
    problems carry a message and the file."""
    for obj in result.objects:
        assert obj.kind in ("Job", "CronJob")
        for located in obj.findings:
            finding = located.finding
            assert finding.rule in RULE_NAMES, (finding.rule, finding.message)
            assert isinstance(finding.path, tuple)
            assert all(isinstance(step, (str, int, Key)) for step in finding.path)
            assert located.line >= 1 and located.column >= 1
            assert finding.message
    for problem in result.problems:
        assert problem.message and problem.file == result.file


def lint(raw: bytes) -> FileResult:
    result = lint_bytes("input.yaml", raw, POLICY)
    check_well_formed(result)
    return result
