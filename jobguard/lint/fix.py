"""Writing safe fixes back into manifest files (``jobguard lint --fix`` and ``--diff``).

The edits written are exactly the ones the mutating webhook applies: every finding's fix with
``safe`` set, in report order (``Report.safe_edits``). They are applied to a ruamel.yaml
round-trip tree so that comments, key order, quoting and flow/block style survive; documents of a
multi-document file that need no fix are copied verbatim, and so are the comments and ``---`` /
``...`` markers around a fixed document's body.

Nothing is written unless it is provably right: the rewritten text is parsed again with the same
reader ``jobguard lint`` uses and must equal, document by document, the original data with the
edits applied (``jobguard.core.patching.apply_edits``, the webhook's own function). A file that
cannot be fixed that way (JSON, ``kind: List``, anchors or aliases, a parent that is not a map,
mixed line endings, stdin) is left alone and the reason is reported.

ruamel.yaml is imported only here, and this module only when ``--fix`` or ``--diff`` is used.
"""

from __future__ import annotations

import difflib
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from jobguard.core.model import Edit, RemoveValue
from jobguard.core.patching import PatchConflict, apply_edits
from jobguard.core.paths import FieldPath, field_path, segment_name
from jobguard.lint.linter import FileResult
from jobguard.lint.source import parse_stream

_BOM = "\ufeff"
_EventLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KEY_ONLY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?[^\s#][^#]*?:\s*(#.*)?$")


@dataclass(frozen=True)
class FileFix:
    """What ``--fix`` does to one file: ``fixed`` equals ``original`` when nothing changes."""

    file: str
    original: str
    fixed: str
    applied: int = 0
    refused: str | None = None

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def _label(self, side: str) -> str:
        # git's a/ b/ prefixes for relative paths, so `git apply` and `patch -p1` take the diff.
        return self.file if self.file.startswith("/") else f"{side}/{self.file}"

    def diff(self) -> str:
        """The change as a unified diff (empty when nothing changes)."""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            fromfile=self._label("a"),
            tofile=self._label("b"),
        )
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


class _Refused(Exception):
    """This file cannot be fixed safely; the message says why."""


def safe_edits_by_document(result: FileResult) -> dict[int, tuple[int, list[Edit]]]:
    """document index -> (number of findings fixed, their safe edits in report order)."""
    out: dict[int, tuple[int, list[Edit]]] = {}
    for obj in result.objects:
        fixes = [lf.finding.fix for lf in obj.findings]
        safe = [f for f in fixes if f is not None and f.safe]
        if not safe:
            continue
        count, edits = out.get(obj.document, (0, []))
        out[obj.document] = (count + len(safe), [*edits, *(e for f in safe for e in f.edits)])
    return out


def plan_fix(result: FileResult, raw: bytes) -> FileFix:
    """The fixed content of one linted file (``raw`` is the content that was linted)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return FileFix(result.file, "", "", refused="not UTF-8 text")
    wanted = safe_edits_by_document(result)
    if not wanted:
        return FileFix(result.file, text, text)
    try:
        fixed = _fix_text(result.file, text, {i: edits for i, (_, edits) in wanted.items()})
    except _Refused as exc:
        return FileFix(result.file, text, text, refused=str(exc))
    return FileFix(result.file, text, fixed, applied=sum(n for n, _ in wanted.values()))


# -- the text surgery ---------------------------------------------------------------------------


@dataclass
class _DocSpan:
    start: int  # character offset where this document's chunk begins
    root_line: int  # 0-based line of the document's root node
    root_column: int
    start_line: int  # 0-based line of the document start (the ``---`` when explicit)
    explicit_start: bool
    end: int | None = None  # offset of an explicit ``...`` marker
    anchored: bool = False


def _document_spans(text: str) -> list[_DocSpan]:
    spans: list[_DocSpan] = []
    expect_root = False
    try:
        for event in yaml.parse(text, Loader=_EventLoader):
            mark = event.start_mark
            assert mark is not None  # both parsers set marks (character offsets of a str)
            if isinstance(event, yaml.DocumentStartEvent):
                start = 0 if not spans else mark.index
                spans.append(_DocSpan(start, -1, 0, mark.line, bool(event.explicit)))
                expect_root = True
            elif isinstance(event, yaml.NodeEvent) and spans:
                if expect_root:
                    spans[-1].root_line, spans[-1].root_column = mark.line, mark.column
                    expect_root = False
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    spans[-1].anchored = True
            elif isinstance(event, yaml.DocumentEndEvent) and event.explicit and spans:
                spans[-1].end = mark.index
    except yaml.YAMLError as exc:
        raise _Refused(f"cannot be parsed for rewriting: {exc}") from None
    return spans


def _fix_text(file: str, text: str, edits: dict[int, list[Edit]]) -> str:
    if file.endswith(".json") or text.lstrip(_BOM + " \t\r\n").startswith(("{", "[")):
        raise _Refused("JSON manifests are not rewritten (formatting would be lost); fix by hand")
    bom = _BOM if text.startswith(_BOM) else ""
    body_text = text[len(bom) :]
    crlf = "\r\n" in body_text
    if crlf:
        if body_text.count("\r\n") != body_text.count("\n"):
            raise _Refused("mixed line endings")
        body_text = body_text.replace("\r\n", "\n")
    spans = _document_spans(body_text)
    original = parse_stream(body_text)
    if original.errors or len(original.documents) != len(spans):
        raise _Refused("the file does not parse the same way twice")
    chunks: list[str] = []
    expected: list[Any] = []
    for i, span in enumerate(spans):
        stop = spans[i + 1].start if i + 1 < len(spans) else len(body_text)
        chunk = body_text[span.start : stop]
        data = original.documents[i].data
        if i not in edits:
            chunks.append(chunk)
            expected.append(data)
            continue
        if span.anchored:
            raise _Refused(f"document {i + 1} uses YAML anchors or aliases")
        if not isinstance(data, dict):
            raise _Refused(f"document {i + 1} is not a mapping")
        kind = data.get("kind")
        if isinstance(kind, str) and kind.endswith("List"):
            raise _Refused(f"document {i + 1} is a kind: {kind}; fix its items by hand")
        try:
            fixed_data, _ = apply_edits(data, edits[i])
        except PatchConflict as exc:
            raise _Refused(str(exc)) from None
        chunks.append(_fix_chunk(body_text, span, stop, edits[i], i, fixed_data))
        expected.append(fixed_data)
    new_text = "".join(chunks)
    reread = parse_stream(new_text)
    if reread.errors or not same_data([d.data for d in reread.documents], expected):
        raise _Refused("the rewritten file would not read back as the fixed manifest")
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    return bom + new_text


def _fix_chunk(
    text: str, span: _DocSpan, stop: int, edits: Sequence[Edit], index: int, expected: Any
) -> str:
    """One document's chunk with the edits applied to its body; head and tail kept verbatim."""
    if span.root_line == span.start_line and span.explicit_start:
        raise _Refused(f"document {index + 1} starts on its --- line")
    body_start = _line_offset(text, span.root_line)
    body_end = span.end if span.end is not None else stop
    head, body, tail = text[span.start : body_start], text[body_start:body_end], text[body_end:stop]
    if span.root_column:
        raise _Refused(f"document {index + 1} is indented")

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1 << 30  # never re-wrap long lines
    mapping, sequence, offset = detect_indent(body)
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        tree = rt.load(body)
    except Exception as exc:  # ruamel.yaml is stricter than the reader (duplicate keys, YAML 1.2)
        first = str(exc).strip().splitlines()
        reason = next((line for line in first if line.startswith("found")), type(exc).__name__)
        raise _Refused(f"document {index + 1} cannot be rewritten safely ({reason})") from None
    if not isinstance(tree, CommentedMap):
        raise _Refused(f"document {index + 1} is not a mapping")
    for edit in edits:
        _apply(tree, edit)
    out = io.StringIO()
    try:
        rt.dump(tree, out)
    except Exception as exc:  # pragma: no cover - a tree ruamel loaded should always dump
        raise _Refused(f"document {index + 1} cannot be rewritten ({type(exc).__name__})") from None
    new_body = out.getvalue()
    if not body.endswith("\n"):
        new_body = new_body.rstrip("\n")
    return head + restore_original_lines(body, new_body, expected) + tail


def same_data(a: Any, b: Any) -> bool:
    """Equality that also compares types (``True == 1`` and ``1.0 == 1`` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _reads_as(lines: list[str], expected: Any) -> bool:
    stream = parse_stream("".join(lines))
    return (
        not stream.errors
        and len(stream.documents) == 1
        and same_data(stream.documents[0].data, expected)
    )


def restore_original_lines(old: str, new: str, expected: Any) -> str:
    """Put back original lines that ruamel.yaml re-spelled without changing their meaning.

    The emitter normalises a few things on lines it was not asked to change (``key:   value``,
    ``~`` for null, spacing inside ``[ a,  b ]``). Where the diff pairs one old line with one new
    line, the old line is tried in place of the new one and kept if the document still reads as
    the fixed data: edited lines fail that test and keep their new text.
    """
    old_lines = old.splitlines(keepends=True)
    out = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, out, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        for k in range(i2 - i1):
            original = old_lines[i1 + k]
            if j1 + k == len(out) - 1 and not out[-1].endswith("\n"):
                original = original.rstrip("\n")
            trial = [*out[: j1 + k], original, *out[j1 + k + 1 :]]
            if _reads_as(trial, expected):
                out = trial
    return "".join(out)


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def detect_indent(body: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel.yaml's ``indent()`` wants them.

    Read from the block lines that open a nested collection: ``key:`` followed by a deeper
    ``key2:`` gives the mapping indent; ``key:`` followed by ``- item`` gives the dash offset
    (0 for kubectl's style, 2 for helm's) and the sequence indent (offset + the dash's width).
    The most common value wins; kubectl's style is the default.
    """
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    previous: tuple[int, bool] | None = None  # (content column of a `key:` line, ends there)
    for line in body.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if previous is not None:
            key_col = previous[0]
            if stripped.startswith("- ") or stripped == "-":
                after = len(stripped) - len(stripped[1:].lstrip(" ")) if stripped != "-" else 2
                if indent >= key_col:
                    seqs[(indent - key_col + after, indent - key_col)] += 1
            elif indent > key_col:
                maps[indent - key_col] += 1
        match = _KEY_ONLY.match(line)
        if match and not stripped.endswith(("|", ">", "|-", ">-", "|+", ">+")):
            dash = match.group("dash") or ""
            previous = (len(match.group("indent")) + len(dash), True)
        else:
            previous = None
    mapping = maps.most_common(1)[0][0] if maps else 2
    sequence, offset = seqs.most_common(1)[0][0] if seqs else (2, 0)
    return mapping, max(sequence, offset + 2), offset


def _plain_safe(value: Any) -> Any:
    """Values for the tree: strings that YAML 1.1 would misread are double-quoted, maps nest."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = _plain_safe(v)
        return node
    if isinstance(value, list):
        return [_plain_safe(v) for v in value]
    if isinstance(value, str):
        try:
            reads_back = yaml.safe_load(value) == value
        except yaml.YAMLError:
            reads_back = False
        return value if reads_back else DoubleQuotedScalarString(value)
    return value


def _nest(path: FieldPath, value: Any) -> Any:
    for seg in reversed(path):
        value = {segment_name(seg): value}
    return value


def _apply(tree: Any, edit: Edit) -> None:
    """Apply one edit to the round-trip tree with the webhook's semantics (patching.py)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    path = edit.path
    if not path:
        raise _Refused("an edit targets the document root")
    parent = tree
    for depth, seg in enumerate(path[:-1]):
        raw = segment_name(seg)
        if isinstance(parent, CommentedMap):
            if raw not in parent or parent[raw] is None:
                if isinstance(edit, RemoveValue):
                    return
                parent[raw] = _plain_safe(_nest(path[depth + 1 :], edit.value))
                return
            parent = parent[raw]
        elif isinstance(parent, CommentedSeq) and isinstance(raw, int) and 0 <= raw < len(parent):
            parent = parent[raw]
        else:
            raise _Refused(
                f"cannot edit {field_path(path)}: {field_path(path[:depth])} is not a map"
            )
    last = segment_name(path[-1])
    if isinstance(parent, CommentedSeq):
        if not isinstance(last, int) or not 0 <= last < len(parent):
            raise _Refused(f"cannot edit {field_path(path)}: no such list item")
        if isinstance(edit, RemoveValue):
            del parent[last]
        else:
            parent[last] = _plain_safe(edit.value)
        return
    if not isinstance(parent, CommentedMap):
        raise _Refused(f"cannot edit {field_path(path)}: the parent is not a map")
    if isinstance(edit, RemoveValue):
        if last in parent:
            del parent[last]
        return
    if last in parent and parent[last] == edit.value:
        return
    parent[last] = _plain_safe(edit.value)
