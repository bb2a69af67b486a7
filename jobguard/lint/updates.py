"""Update rules before merge: ``lint --changed-since REF`` and ``lint --old OLD NEW``.

Each Job linted is looked up among the old objects by (kind, namespace as written, name); when
it is there, :func:`jobguard.core.kubernetes.updates.job_update_errors` says what the API
server would reject when the existing object is updated (``kubectl apply`` of the new
manifest), and each error becomes an ``api-job-update`` finding at its field path, with the
action the policy gives that rule (``jobguard explain api-job-update``; deny by default).
Objects named only by ``generateName`` are always created anew and are never compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.kubernetes.versions import Version
from jobguard.core.model import Action, Finding
from jobguard.core.rule import Rule
from jobguard.lint.linter import FileResult, LintResult, LocatedFinding
from jobguard.policy.model import Policy
from jobguard.rules import RULES_BY_NAME
from jobguard.rules.api_job_update import NAME
from jobguard.yamlsource import iter_objects, parse_stream

RULE: Rule = RULES_BY_NAME[NAME]

Key = tuple[str, str | None, str]


def object_key(obj: Any) -> Key | None:
    if not isinstance(obj, dict) or obj.get("kind") not in ("Job", "CronJob"):
        return None
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        return None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return (str(obj["kind"]), namespace if isinstance(namespace, str) else None, name)


def objects_by_key(contents: Iterable[bytes]) -> dict[Key, dict[str, Any]]:
    """The named Jobs and CronJobs of some manifest files (unreadable documents are skipped)."""
    out: dict[Key, dict[str, Any]] = {}
    for raw in contents:
        for src in iter_objects(parse_stream(raw)):
            key = object_key(src.data)
            if key is not None:
                out[key] = src.data
    return out


def _finding(path: Any, message: str, action: Action) -> Finding:
    return Finding(
        rule=RULE.name,
        code=RULE.code,
        category=RULE.category,
        severity=action.severity,
        action=action,
        path=path,
        message=message,
    )


def _with_update_findings(
    fr: FileResult, old: dict[Key, dict[str, Any]], version: Version, action: Action
) -> FileResult:
    try:
        with open(fr.file, "rb") as fh:
            raw = fh.read()
    except OSError:
        return fr  # reading it failed a moment ago too: the lint result already says so
    by_document = {o.document: i for i, o in enumerate(fr.objects)}
    objects = list(fr.objects)
    for src in iter_objects(parse_stream(raw)):
        index = by_document.get(src.document.index)
        key = object_key(src.data)
        if index is None or key is None or key not in old:
            continue
        errors = job_update_errors(old[key], src.data, version)
        if errors:
            located = tuple(
                LocatedFinding(_finding(e.path, e.message, action), *src.position(e.path))
                for e in errors
            )
            objects[index] = replace(objects[index], findings=objects[index].findings + located)
    return replace(fr, objects=tuple(objects))


def add_update_findings(
    result: LintResult, old: dict[Key, dict[str, Any]], version: Version, policy: Policy
) -> LintResult:
    """``result`` with the update errors of every object that exists in ``old``."""
    action = policy.settings(RULE).action
    if not old or action is Action.OFF:
        return result
    return LintResult(
        files=[
            _with_update_findings(fr, old, version, action) if fr.objects else fr
            for fr in result.files
        ]
    )
