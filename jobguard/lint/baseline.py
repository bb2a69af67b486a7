"""Baselines: adopt jobguard on a repository that already has findings.

``jobguard lint --write-baseline FILE`` records the current findings; ``--baseline FILE`` then
lets only new findings count. A finding is keyed by what stays stable while a file is edited
elsewhere: (file, kind, namespace, name, rule code, field path), never a line number. The file is
stored relative to the baseline file's folder, so the baseline works from any working directory.
Keys are counted: two identical findings are two accepted occurrences, and a third one is new.

File format (JSON, sorted, one entry per key)::

    {"version": 1,
     "entries": [{"file": "k8s/a.yaml", "kind": "Job", "namespace": "batch", "name": "pi",
                  "rule": "restart-policy", "code": "JG101",
                  "path": "spec.template.spec.restartPolicy", "count": 1}]}

``rule`` is informative; matching uses ``code`` (codes never change). An entry whose file was
linted in this run but that matched fewer findings than its count is stale: the finding was fixed
and the baseline can be rewritten. The JSON Schema is ``jobguard/schemas/baseline-v1.schema.json``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jobguard.lint.linter import LintResult, LocatedFinding, ObjectResult

VERSION = 1
STDIN_NAME = "<stdin>"
_KEY_FIELDS = ("file", "kind", "namespace", "name", "code", "path")

Key = tuple[str, str, str | None, str | None, str, str]


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Entry:
    key: Key
    rule: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        file, kind, namespace, name, code, path = self.key
        return {
            "file": file,
            "kind": kind,
            "namespace": namespace,
            "name": name,
            "rule": self.rule,
            "code": code,
            "path": path,
            "count": self.count,
        }


@dataclass(frozen=True)
class Outcome:
    """What applying a baseline did: accepted findings and the entries that matched nothing."""

    result: LintResult  # only the findings that are new
    accepted: tuple[tuple[ObjectResult, LocatedFinding], ...]
    stale: tuple[Entry, ...]


def _relative(file: str, root: Path) -> str:
    if file == STDIN_NAME:
        return file
    return Path(os.path.relpath(os.path.abspath(file), root)).as_posix()


def key_of(obj: ObjectResult, lf: LocatedFinding, root: Path) -> Key:
    f = lf.finding
    return (_relative(obj.file, root), obj.kind, obj.namespace, obj.name, f.code, f.field)


def build(result: LintResult, baseline_file: str) -> dict[str, Any]:
    """The baseline document for every finding of ``result``."""
    root = Path(os.path.abspath(baseline_file)).parent
    counts: Counter[Key] = Counter()
    rules: dict[Key, str] = {}
    for obj, lf in result.findings:
        key = key_of(obj, lf, root)
        counts[key] += 1
        rules[key] = lf.finding.rule
    entries = [Entry(k, rules[k], n) for k, n in counts.items()]
    entries.sort(key=lambda e: tuple("" if v is None else v for v in e.key))
    return {"version": VERSION, "entries": [e.as_dict() for e in entries]}


def write(result: LintResult, baseline_file: str) -> int:
    """Write the baseline; returns the number of findings recorded."""
    doc = build(result, baseline_file)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    Path(baseline_file).write_text(text, encoding="utf-8")
    return sum(e["count"] for e in doc["entries"])


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def load(baseline_file: str) -> list[Entry]:
    """Read and validate a baseline file. Raises BaselineError."""
    try:
        raw = Path(baseline_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"{baseline_file}: no such baseline file (create it with --write-baseline)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{baseline_file}: cannot read baseline: {exc}") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{baseline_file}:{exc.lineno}:{exc.colno}: not a valid baseline (invalid JSON: {exc.msg})"
        ) from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise BaselineError(
            f'{baseline_file}: not a jobguard baseline (expected an object with "version": {VERSION})'
        )
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f'{baseline_file}: "entries" must be a list')
    out: list[Entry] = []
    for i, item in enumerate(entries):
        where = f"{baseline_file}: entries[{i}]"
        if not isinstance(item, dict):
            raise BaselineError(f"{where}: must be an object")
        missing = [k for k in (*_KEY_FIELDS, "count") if k not in item]
        if missing:
            raise BaselineError(f"{where}: missing {', '.join(missing)}")
        if not all(isinstance(item[k], str) for k in ("file", "kind", "code", "path")) or not all(
            _optional_str(item[k]) for k in ("namespace", "name")
        ):
            raise BaselineError(f"{where}: file, kind, code and path must be strings")
        count = item["count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BaselineError(f"{where}: count must be a positive integer")
        key: Key = (
            item["file"],
            item["kind"],
            item["namespace"],
            item["name"],
            item["code"],
            item["path"],
        )
        out.append(Entry(key, str(item.get("rule", "")), count))
    return out


def apply(result: LintResult, entries: Iterable[Entry], baseline_file: str) -> Outcome:
    """Split ``result``'s findings into accepted (in the baseline) and new ones."""
    root = Path(os.path.abspath(baseline_file)).parent
    entries = list(entries)
    remaining: Counter[Key] = Counter()
    for e in entries:
        remaining[e.key] += e.count
    accepted: list[tuple[ObjectResult, LocatedFinding]] = []
    files = []
    for fr in result.files:
        objects = []
        for obj in fr.objects:
            kept = []
            for lf in obj.findings:
                key = key_of(obj, lf, root)
                if remaining[key] > 0:
                    remaining[key] -= 1
                    accepted.append((obj, lf))
                else:
                    kept.append(lf)
            objects.append(replace(obj, findings=tuple(kept)))
        files.append(replace(fr, objects=tuple(objects)))
    linted = {_relative(fr.file, root) for fr in result.files}
    rules = {e.key: e.rule for e in entries}
    stale = tuple(Entry(k, rules[k], n) for k, n in remaining.items() if n > 0 and k[0] in linted)
    return Outcome(LintResult(files), tuple(accepted), stale)
