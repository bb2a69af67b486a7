"""Writing safe fixes back into manifest files (``jobguard lint --fix`` and ``--diff``).

The edits written are the ones the mutating webhook applies to the same object on CREATE: the
plan of :func:`jobguard.core.fixplan.plan_fixes` (safe fixes of deny- and warn-level findings, in
report order; audit-level findings are never fixed), less the fixes that only restate what the
API server fills in anyway (:func:`restates_a_default`; ``restated_api_defaults: action`` writes
them too): the Job that runs is the same, and the file keeps what its author wrote. How each is spelt in the file is
:func:`jobguard.lint.text_edits.write_edits`: minimal text edits, so the diff of ``--fix``
touches only the lines a fix inserts or changes, in the style of the text around them, and
every other byte stays as it was (comments, quoting, flow lists, trailing spaces, markers).

Nothing is written unless it is provably right: the rewritten text is parsed again with the same
reader ``jobguard lint`` uses and must equal, document by document, the original data with the
edits applied (``jobguard.core.patching.apply_edits``, the webhook's own function). A file that
cannot be fixed that way (JSON, ``kind: List``, anchors or aliases, repeated keys, a parent that
is not a map, mixed line endings, stdin) is left alone and the reason is reported; so is a
document where a fix of the plan cannot be applied (the webhook applies the others and warns).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import PurePosixPath
from typing import Any

import yaml

from jobguard.core.engine import Report
from jobguard.core.fixplan import FixPlan, applies, plan_fixes
from jobguard.core.model import Edit, Finding, Severity
from jobguard.core.paths import field_path
from jobguard.core.subject import Subject
from jobguard.lint.linter import FileResult
from jobguard.lint.text_edits import Unwritable, detect_indent, write_edits
from jobguard.lint.unified_diff import Region, unified_diff
from jobguard.yamlsource import Document, SourceError, read_documents

__all__ = [
    "FileFix",
    "detect_indent",
    "findings_to_fix",
    "plan_fix",
    "safe_edits_by_document",
    "same_data",
]

_BOM = "\ufeff"
_EventLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FileFix:
    """What ``--fix`` does to one file: ``fixed`` equals ``original`` when nothing changes."""

    file: str
    original: str
    fixed: str
    applied: int = 0
    refused: str | None = None
    #: the lines --fix wrote in (the diff matches only these; empty: the whole file)
    regions: tuple[Region, ...] = ()

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def _label(self, side: str) -> str:
        # git's a/ b/ prefixes for relative paths, so `git apply` and `patch -p1` take the diff;
        # git refuses a path with a "." component (a/./job.yaml), so the path is normalised.
        if os.path.isabs(self.file):
            return self.file
        return f"{side}/{PurePosixPath(os.path.normpath(self.file)).as_posix()}"

    def diff(self) -> str:
        """The change as a unified diff (empty when nothing changes)."""
        lines = unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            fromfile=self._label("a"),
            tofile=self._label("b"),
            regions=self.regions,
        )
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


class _Refused(Exception):
    """This file cannot be fixed safely; the message says why."""


def restates_a_default(finding: Finding) -> bool:
    """A finding lowered to info because its fix only writes what the API server fills in
    anyway (``restated_api_defaults: info``, the default): the Job that runs is the same with
    or without it, so ``--fix`` leaves the file alone (the webhook may still write it: the
    object it admits and the file's, once defaulted, are the same)."""
    return finding.severity is Severity.INFO and finding.action.severity is not Severity.INFO


def findings_to_fix(result: FileResult) -> dict[int, tuple[Finding, ...]]:
    """document index -> the findings of its object whose fix jobguard applies
    (:func:`jobguard.core.fixplan.applies`) and that change the Job that runs, in report
    order."""
    out: dict[int, tuple[Finding, ...]] = {}
    for obj in result.objects:
        fixable = tuple(
            lf.finding
            for lf in obj.findings
            if applies(lf.finding) and not restates_a_default(lf.finding)
        )
        if fixable:
            out[obj.document] = out.get(obj.document, ()) + fixable
    return out


def safe_edits_by_document(result: FileResult) -> dict[int, tuple[int, list[Edit]]]:
    """document index -> (number of findings to fix, their edits in report order), before the
    plan is made against the document's data (which may skip a fix that cannot apply)."""
    return {
        index: (len(found), [e for f in found if f.fix is not None for e in f.fix.edits])
        for index, found in findings_to_fix(result).items()
    }


def plan_fix(result: FileResult, raw: bytes) -> FileFix:
    """The fixed content of one linted file (``raw`` is the content that was linted)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return FileFix(result.file, "", "", refused="not UTF-8 text")
    wanted = findings_to_fix(result)
    if not wanted:
        return FileFix(result.file, text, text)
    try:
        fixed, applied, regions = _fix_text(result.file, text, wanted)
    except _Refused as exc:
        return FileFix(result.file, text, text, refused=str(exc))
    return FileFix(result.file, text, fixed, applied=applied, regions=regions)


# -- the text surgery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Where a document of the stream lies (whole lines: ``start`` at a line start, ``end`` after
    a line end or at the end of the text) and whether it uses YAML anchors or aliases."""

    start: int
    end: int
    anchored: bool = False


def _documents(text: str) -> list[_Span]:
    """The documents of the stream, from the parser's events (no node tree is built)."""
    spans: list[_Span] = []
    start = 0
    anchored = False
    try:
        for event in yaml.parse(text, Loader=_EventLoader):
            if isinstance(event, yaml.DocumentStartEvent):
                start = text.rfind("\n", 0, _index(event.start_mark)) + 1
                anchored = False
            elif isinstance(event, yaml.DocumentEndEvent):
                # to the end of its line: a span is whole lines (``...`` may end mid-line)
                line_end = text.find("\n", max(_index(event.end_mark) - 1, 0))
                spans.append(_Span(start, len(text) if line_end < 0 else line_end + 1, anchored))
            elif isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                anchored = True
    except yaml.YAMLError as exc:
        raise _Refused(f"cannot be parsed for rewriting: {exc}") from None
    return spans


def _index(mark: Any) -> int:
    """A parser event's position in the text (the C parser always gives one)."""
    if mark is None:
        raise _Refused("the parser gave no position to rewrite at")
    index: int = mark.index
    return index


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _plan(data: dict[str, Any], findings: tuple[Finding, ...]) -> FixPlan:
    """The webhook's plan for this document: the same function, the same findings."""
    subject = Subject.manifest(data)
    if subject is None:
        raise _Refused("the document is no longer a Job or CronJob")
    return plan_fixes(Report(subject.view, findings), subject)


def _fix_text(
    file: str, text: str, wanted: dict[int, tuple[Finding, ...]]
) -> tuple[str, int, tuple[Region, ...]]:
    """The fixed text, how many findings its edits fix, and the lines it may have changed.

    Document by document, so that memory stays flat in the number of documents and the time
    linear: each document's edits are written into its own span of the text (read again after
    each edit), and the verification reads the original and the rewritten stream side by side.
    """
    bom = _BOM if text.startswith(_BOM) else ""
    body_text = text[len(bom) :]
    crlf = "\r\n" in body_text
    if crlf:
        if body_text.count("\r\n") != body_text.count("\n"):
            raise _Refused("mixed line endings")
        body_text = body_text.replace("\r\n", "\n")
    spans = _documents(body_text)
    edits: dict[int, tuple[Edit, ...]] = {}
    applied = 0
    count = 0
    for i, document in enumerate(_read(body_text)):
        count += 1
        if i in wanted:
            plan = _document_plan(i, document, spans[i] if i < len(spans) else None, wanted[i])
            if plan.edits:
                edits[i] = plan.edits
                applied += len(plan.applied)
    if count != len(spans):
        raise _Refused("the file does not parse the same way twice")
    new_text, regions = _write(body_text, spans, edits)
    if not body_text.endswith("\n") and new_text.endswith("\n"):
        new_text = new_text[:-1]  # a file without a final newline keeps it that way
    if not _reads_back(body_text, new_text, edits, wanted):
        raise _Refused("the rewritten file would not read back as the fixed manifest")
    if (file.endswith(".json") or _is_json(body_text)) and not _is_json(new_text):
        raise _Refused("the fixed file would not be JSON any more; fix by hand")
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    return bom + new_text, applied, regions


def _read(text: str) -> Iterator[Document]:
    """The documents of ``text``, one at a time; a stream that does not read is refused."""
    for item in read_documents(text):
        if isinstance(item, SourceError):
            raise _Refused("the file does not parse the same way twice")
        yield item


def _document_plan(
    i: int, document: Document, span: _Span | None, findings: tuple[Finding, ...]
) -> FixPlan:
    """The webhook's plan for document ``i``, refused where the file cannot take it."""
    data = document.data
    if span is None:
        raise _Refused("the file does not parse the same way twice")
    if span.anchored:
        raise _Refused(f"document {i + 1} uses YAML anchors or aliases")
    if not isinstance(data, dict):
        raise _Refused(f"document {i + 1} is not a mapping")
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List"):
        raise _Refused(f"document {i + 1} is a kind: {kind}; fix its items by hand")
    if document.duplicate_keys():
        shown = field_path(document.duplicate_keys()[0])
        raise _Refused(f"document {i + 1} repeats the key {shown}; remove one first")
    plan = _plan(data, findings)
    if plan.skipped:
        # The webhook would apply the others and warn; a file is fixed whole or not at all.
        raise _Refused(plan.skipped[0].reason)
    return plan


def _write(
    text: str, spans: list[_Span], edits: dict[int, tuple[Edit, ...]]
) -> tuple[str, tuple[Region, ...]]:
    """``text`` with each document's edits written into that document's span, and the lines of
    each span before and after (for a diff that needs to match only those)."""
    pieces = []
    regions: list[Region] = []
    done = old_line = new_line = 0
    for i in sorted(edits):
        span = spans[i]
        if span.start < done:
            raise _Refused(f"document {i + 1} starts on the line where the one before ends")
        original = text[span.start : span.end]
        try:
            written = write_edits(original, 0, list(edits[i]))
        except Unwritable as exc:
            raise _Refused(f"document {i + 1}: {exc}") from None
        gap = text.count("\n", done, span.start)
        old_line, new_line = old_line + gap, new_line + gap
        old_end, new_end = old_line + _lines(original), new_line + _lines(written)
        regions.append((old_line, old_end, new_line, new_end))
        old_line, new_line = old_end, new_end
        pieces += [text[done : span.start], written]
        done = span.end
    pieces.append(text[done:])
    return "".join(pieces), tuple(regions)


def _lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _reads_back(
    original: str,
    rewritten: str,
    edits: dict[int, tuple[Edit, ...]],
    wanted: dict[int, tuple[Finding, ...]],
) -> bool:
    """Whether ``rewritten`` reads as ``original`` with the plans applied, document by document
    (each plan made again from the original document: plans are pure)."""
    before, after = read_documents(original), read_documents(rewritten)
    for i, (old, new) in enumerate(zip_longest(before, after)):
        if not isinstance(old, Document) or not isinstance(new, Document):
            return False
        expected = _plan(old.data, wanted[i]).obj if i in edits else old.data
        if not same_data(new.data, expected):
            return False
    return True


def same_data(a: Any, b: Any) -> bool:
    """Equality that also compares types (``True == 1`` and ``1.0 == 1`` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
