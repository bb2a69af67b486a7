"""Writing planned edits into manifest text as minimal text edits (the half of ``--fix`` that
decides HOW a change is spelt, not WHICH changes are made).

:func:`write_edits` takes a stream's text, a document's index and that document's edits, and
returns the text with each edit spliced in where it belongs; every other character stays as it
was. In detail:

* a changed scalar is replaced in place, in its quoting style, and a comment after it on the same
  line keeps its column where it can;
* a new key goes after the last entry of its map: in a block map on a new line at the column of
  its siblings (nested maps and lists indented as the document indents them), in a flow map
  (``{a: 1}``, JSON-style documents over many lines) before the closing brace, on its own line
  when the entries are one a line, with or without trailing commas as the map has them, with
  double-quoted keys and strings when the map quotes its keys;
* a parent that is missing or null (``template:`` with nothing under it) is created with the
  rest of the path;
* a removed entry takes its whole lines (block) or its text and one comma (flow) with it.

New strings are written plain where kubectl reads them back as the same string, double-quoted
otherwise (``"on"``, ``"1e1"``, ``"012"``). Positions come from the same reader ``jobguard lint``
uses; the text is read again after every edit. Where an edit cannot be spelt safely (a block
scalar to replace, an entry sharing its line with other content, a list item to create),
:class:`Unwritable` says why; the caller leaves the file alone.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from jobguard.core.model import Edit, RemoveValue
from jobguard.core.paths import FieldPath, field_path, segment_name
from jobguard.yamlsource import parse_stream, plain_scalar_tag

_STR_TAG = "tag:yaml.org,2002:str"
_KEY_ONLY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?[^\s#][^#]*?:\s*(#.*)?$")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_SPECIAL = set(",[]{}")


class Unwritable(Exception):
    """An edit cannot be written as a minimal text edit; the message says why."""


@dataclass(frozen=True)
class Layout:
    """How a document indents: a nested map's step, a list's dash offset and item indent."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0


def detect_indent(body: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) read from the block lines of ``body``.

    ``key:`` followed by a deeper ``key2:`` gives the mapping indent; ``key:`` followed by
    ``- item`` gives the dash offset (0 for kubectl's style, 2 for helm's) and the sequence
    indent (offset + the dash's width). The most common value wins; kubectl's style is the
    default.
    """
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    previous: int | None = None  # content column of a `key:` line that opens a collection
    for line in body.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if previous is not None:
            if stripped.startswith("- ") or stripped == "-":
                after = len(stripped) - len(stripped[1:].lstrip(" ")) if stripped != "-" else 2
                if indent >= previous:
                    seqs[(indent - previous + after, indent - previous)] += 1
            elif indent > previous:
                maps[indent - previous] += 1
        match = _KEY_ONLY.match(line)
        if match and not stripped.endswith(("|", ">", "|-", ">-", "|+", ">+")):
            previous = len(match.group("indent")) + len(match.group("dash") or "")
        else:
            previous = None
    mapping = maps.most_common(1)[0][0] if maps else 2
    sequence, offset = seqs.most_common(1)[0][0] if seqs else (2, 0)
    return mapping, max(sequence, offset + 2), offset


# -- spelling values --------------------------------------------------------------------------


def _plain_ok(text: str, flow: bool) -> bool:
    """True if ``text`` written unquoted reads back (as kubectl reads it) as the same string."""
    if not text or text != text.strip() or not text.isprintable():
        return False
    if text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and _FLOW_SPECIAL & set(text):
        return False
    return plain_scalar_tag(text) == _STR_TAG


def scalar_text(value: Any, *, flow: bool = False, quote: str | None = None) -> str:
    """``value`` spelt as a YAML scalar; strings in ``quote`` style, or plain when they can be."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if not isinstance(value, str):
        raise Unwritable(f"cannot write a {type(value).__name__} value")
    if quote == "'" and "\n" not in value and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    if quote is None and _plain_ok(value, flow):
        return value
    return str(json.dumps(value, ensure_ascii=False))


def _key_text(key: Any, quote: str | None) -> str:
    return scalar_text(str(key), quote=quote)


def flow_text(value: Any, quote: str | None) -> str:
    """``value`` in flow style: ``{a: 1, b: [x, y]}``."""
    if isinstance(value, dict):
        items = (f"{_key_text(k, quote)}: {flow_text(v, quote)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v, quote) for v in value) + "]"
    return scalar_text(value, flow=True, quote=quote)


def block_lines(key: Any, value: Any, column: int, layout: Layout, quote: str | None) -> str:
    """``key: value`` as block lines whose key starts at ``column``."""
    pad = " " * column
    head = f"{pad}{_key_text(key, quote)}:"
    if isinstance(value, dict) and value:
        inner = column + layout.mapping
        return (
            head + "\n" + "".join(block_lines(k, v, inner, layout, quote) for k, v in value.items())
        )
    if isinstance(value, list) and value:
        return head + "\n" + _block_items(value, column + layout.offset, layout, quote)
    return f"{head} {flow_text(value, quote)}\n"


def _block_items(items: list[Any], dash: int, layout: Layout, quote: str | None) -> str:
    out = []
    content = dash + layout.sequence - layout.offset
    for item in items:
        if isinstance(item, dict) and item:
            lines = "".join(block_lines(k, v, content, layout, quote) for k, v in item.items())
            out.append(" " * dash + "- " + " " * (content - dash - 2) + lines[content:])
        else:
            out.append(" " * dash + "- " + flow_text(item, quote) + "\n")
    return "".join(out)


def _nest(path: FieldPath, value: Any) -> Any:
    for seg in reversed(path):
        value = {segment_name(seg): value}
    return value


# -- positions --------------------------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Offset just past the newline of the line holding ``index`` (or the end of the text)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _last_content(node: yaml.Node) -> int:
    """Offset just after the last character of ``node``'s own text (comments excluded)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style:
        if not node.value:
            break
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node.end_mark.index


def _key_quote(mapping: yaml.MappingNode) -> str | None:
    """``"`` when the map's keys are double-quoted (JSON style), else None (plain)."""
    styles = {k.style for k, _ in mapping.value if isinstance(k, yaml.ScalarNode)}
    return '"' if styles == {'"'} else None


def _entry(mapping: yaml.MappingNode, name: Any) -> tuple[yaml.Node, yaml.Node] | None:
    found = None
    for key, value in mapping.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            found = (key, value)  # the reader keeps the last of repeated keys
    return found


# -- the edits --------------------------------------------------------------------------------


def _replace_scalar(text: str, node: yaml.ScalarNode, value: Any, flow: bool) -> str:
    if node.style in ("|", ">"):
        raise Unwritable("the value to change is a block scalar")
    quote = node.style if node.style in ('"', "'") and isinstance(value, str) else None
    new = scalar_text(value, flow=flow, quote=quote)
    start, end = node.start_mark.index, node.end_mark.index
    if "\n" in text[start:end]:
        raise Unwritable("the value to change spans lines")
    rest = text[end : _line_end(text, end)]
    gap = len(rest) - len(rest.lstrip(" "))
    if rest[gap : gap + 1] == "#" and gap:  # keep a trailing comment in its column
        gap = max(1, gap + (end - start) - len(new))
        return text[:start] + new + " " * gap + text[end + len(rest) - len(rest.lstrip(" ")) :]
    return text[:start] + new + text[end:]


def _insert_block(text: str, mapping: yaml.MappingNode, entry: str, column: int) -> str:
    """``entry`` (block lines) after the last entry of a block map, and after the comment lines
    indented deeper than the map's keys that follow it (they belong to that last entry)."""
    at = _last_content(mapping)
    offset = _line_end(text, max(at - 1, 0))
    while offset < len(text):
        line = text[offset : _line_end(text, offset)]
        content = line.lstrip(" ")
        if not content.startswith("#") or len(line) - len(content) <= column:
            break
        offset += len(line)
    if offset == len(text) and not text.endswith("\n"):
        return text + "\n" + entry
    return text[:offset] + entry + text[offset:]


def _insert_flow(text: str, mapping: yaml.MappingNode, key: Any, value: Any) -> str:
    quote = _key_quote(mapping)
    entry = f"{_key_text(key, quote)}: {flow_text(value, quote)}"
    close = mapping.end_mark.index - 1
    if text[close] != "}":
        raise Unwritable("cannot find the end of a flow map")
    if not mapping.value:
        return text[:close] + entry + text[close:]
    last_key, last_value = mapping.value[-1]
    after: int = last_value.end_mark.index
    between = text[after:close]
    key_line = _line_start(text, last_key.start_mark.index)
    own_line = not text[key_line : last_key.start_mark.index].strip(" ")
    if "\n" not in between or not own_line:
        return text[:after] + ", " + entry + text[after:]
    pad = " " * int(last_key.start_mark.column)
    stripped = between.lstrip(" ")
    if stripped.startswith(","):  # trailing commas: the new entry gets one too
        comma = after + len(between) - len(stripped) + 1
        return text[:comma] + "\n" + pad + entry + "," + text[comma:]
    return text[:after] + ",\n" + pad + entry + text[after:]


def _fill_null(
    text: str, key: yaml.Node, null: yaml.ScalarNode, value: Any, flow: bool, layout: Layout
) -> str:
    """Put the map ``value`` where ``key:`` has no value (or ``~``, ``null``)."""
    if flow:
        start, end = null.start_mark.index, null.end_mark.index
        return text[:start] + flow_text(value, None) + text[end:]
    start, end = null.start_mark.index, null.end_mark.index
    if start != end:  # ``key: ~``: drop the null and the spaces before it
        gap = len(text[:start]) - len(text[:start].rstrip(" "))
        text = text[: start - gap] + text[end:]
        end = start - gap
    else:
        end = key.end_mark.index
    lines = "".join(
        block_lines(k, v, key.start_mark.column + layout.mapping, layout, None)
        for k, v in value.items()
    )
    offset = _line_end(text, end)
    if offset == len(text) and not text.endswith("\n"):
        return text + "\n" + lines
    return text[:offset] + lines + text[offset:]


def _remove(text: str, mapping: yaml.MappingNode, key: yaml.Node, value: yaml.Node) -> str:
    if len(mapping.value) == 1:  # an empty map must stay a map: ``{}``
        start, end = mapping.start_mark.index, _last_content(mapping)
        if mapping.flow_style:
            return text[:start] + "{}" + text[end:]
        line = _line_start(text, start)
        if text[line:start].strip(" -"):
            raise Unwritable("the entry to remove shares its line")
        before = text[:line].rstrip(" \n")
        if not before.endswith(":"):
            raise Unwritable("the entry to remove is not under a key")
        return before + " {}\n" + text[_line_end(text, max(end - 1, 0)) :]
    if mapping.flow_style:
        start, end = key.start_mark.index, value.end_mark.index
        index = mapping.value.index((key, value))
        if index + 1 < len(mapping.value):
            end = mapping.value[index + 1][0].start_mark.index
        else:
            start = mapping.value[index - 1][1].end_mark.index
        return text[:start] + text[end:]
    line = _line_start(text, key.start_mark.index)
    if text[line : key.start_mark.index].strip(" "):
        raise Unwritable("the entry to remove shares its line with other content")
    return text[:line] + text[_line_end(text, max(_last_content(value) - 1, 0)) :]


def _write_one(text: str, root: yaml.Node, edit: Edit, layout: Layout) -> str:
    path = edit.path
    node: yaml.Node = root
    key: yaml.Node | None = None
    parent: yaml.Node | None = None
    flow = False
    for depth, seg in enumerate(path):
        raw = segment_name(seg)
        flow = flow or bool(getattr(node, "flow_style", False))
        if isinstance(node, yaml.MappingNode):
            found = _entry(node, raw)
            if found is None:
                if isinstance(edit, RemoveValue):
                    return text
                value = _nest(path[depth + 1 :], edit.value)
                if node.flow_style:
                    return _insert_flow(text, node, raw, value)
                column = node.value[0][0].start_mark.column if node.value else None
                if column is None:
                    raise Unwritable(f"cannot add {field_path(path)} to an empty block map")
                return _insert_block(
                    text, node, block_lines(raw, value, column, layout, None), column
                )
            parent, (key, node) = node, found
        elif isinstance(node, yaml.SequenceNode):
            if not isinstance(raw, int) or not 0 <= raw < len(node.value):
                raise Unwritable(f"cannot edit {field_path(path)}: no such list item")
            parent, key, node = node, None, node.value[raw]
        elif _is_null(node) and key is not None and not isinstance(edit, RemoveValue):
            assert isinstance(node, yaml.ScalarNode)
            return _fill_null(text, key, node, _nest(path[depth:], edit.value), flow, layout)
        elif _is_null(node):
            return text
        else:
            raise Unwritable(f"cannot edit {field_path(path)}: a parent is not a map")
    if isinstance(edit, RemoveValue):
        if not isinstance(parent, yaml.MappingNode) or key is None:
            raise Unwritable(f"cannot remove {field_path(path)}: only map entries are removed")
        return _remove(text, parent, key, node)
    flow = flow or bool(getattr(node, "flow_style", False))
    if isinstance(edit.value, (dict, list)):
        if _is_null(node) and key is not None and isinstance(edit.value, dict):
            assert isinstance(node, yaml.ScalarNode)
            return _fill_null(text, key, node, edit.value, flow, layout)
        raise Unwritable(f"cannot replace {field_path(path)} with a collection")
    if not isinstance(node, yaml.ScalarNode):
        raise Unwritable(f"cannot replace the collection at {field_path(path)} with a scalar")
    return _replace_scalar(text, node, edit.value, flow)


def write_edits(text: str, index: int, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` written into its document ``index``, each as a minimal text edit.

    ``text`` is a whole stream (``\\n`` line ends, no BOM). Raises :class:`Unwritable`.
    """
    layout: Layout | None = None
    for edit in edits:
        if not edit.path:
            raise Unwritable("an edit targets the document root")
        root = _document_node(text, index)  # read again: the last edit moved the positions
        if layout is None:
            body = text[_line_start(text, root.start_mark.index) : root.end_mark.index]
            layout = Layout(*detect_indent(body))
        text = _write_one(text, root, edit, layout)
    return text


def _document_node(text: str, index: int) -> yaml.Node:
    stream = parse_stream(text)
    if stream.errors or index >= len(stream.documents):
        raise Unwritable("the file does not read back after an edit")
    node = stream.documents[index].node
    if node is None:
        raise Unwritable(f"document {index + 1} is empty")
    return node
