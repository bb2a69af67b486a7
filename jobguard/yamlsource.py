"""Reading YAML safely: YAML/JSON streams into documents that remember where fields are.

Shared by the linter (manifests) and the policy loader (policy files), so both read YAML the way
kubectl does and point at the line of every problem; it knows nothing of either. Everything a
linter meets in a repository passes through here: multi-document streams, ``kind: List``,
kustomize and helm output, but also binary junk, alias bombs, absurd nesting and huge files. Each problem becomes a :class:`SourceError` with a line; documents before a broken one are
kept. PyYAML's C loader does the parsing (safe loader only); this module adds the guards libyaml
lacks:

* nesting: libyaml's composer recurses in C and crashes the process on ~50,000 nested flow
  collections, so deeply nested input is refused before it reaches the parser;
* alias expansion: aliases load as shared references (cheap), but every consumer walks the
  expanded tree, so a document whose expansion exceeds a node budget is refused;
* size: files above a byte limit are refused without being parsed.

Plain scalars are read the way kubectl reads them (it converts YAML to JSON on the client with
go-yaml v2, through sigs.k8s.io/yaml, and the API server judges that JSON), not with PyYAML's
YAML 1.1 resolvers: dates and times stay strings, there are no base-60 numbers (``10:30`` is a
string), exponent floats (``1e1``) and ``0o17`` are numbers, ``y``/``n`` are booleans, ``=`` is a
string, a float with an integral value is the integer JSON carries (``1.0`` -> 1), and ``.nan`` /
``.inf`` make the file unreadable, as kubectl refuses it (``json: unsupported value: NaN``).
Mapping keys become strings as sigs.k8s.io/yaml makes them (``1: a`` -> ``"1"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from jobguard.core.paths import FieldPath, segment_name

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: Not a YAML tag: a NaN or infinity, which kubectl cannot put into JSON.
_NOT_JSON = "tag:jobguard.dev,2024:not-json"

# go-yaml v2's resolve table (resolve.go): the first character says what a plain scalar may be.
_HINTS = {c: "D" for c in "0123456789"} | {"+": "S", "-": "S", ".": "."}
_HINTS |= {c: "M" for c in "yYnNtTfFoO~"}
_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_INFINITIES = tuple(f"{sign}{inf}" for sign in ("", "+", "-") for inf in (".inf", ".Inf", ".INF"))
_SPECIAL = (
    dict.fromkeys(_TRUE + _FALSE, _BOOL)
    | dict.fromkeys(("~", "null", "Null", "NULL"), _NULL)
    | dict.fromkeys((".nan", ".NaN", ".NAN", *_INFINITIES), _NOT_JSON)
)
_BOOL_VALUES = dict.fromkeys((w.lower() for w in _TRUE), True) | dict.fromkeys(
    (w.lower() for w in _FALSE), False
)
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_INT_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_INT64 = range(-(2**63), 2**63)
_UINT64_MAX = 2**64 - 1


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), then ParseUint: Go's base prefixes, ``017`` is octal."""
    match = _GO_INT.match(plain)
    if match is None:
        return None
    sign, digits = match.groups()
    if len(digits) > 1 and digits[1] in _INT_BASES:
        value = int(digits[2:], _INT_BASES[digits[1]])
    else:
        value = int(digits, 8 if digits.startswith("0") else 10)
    value = -value if sign == "-" else value
    if value in _INT64 or (not sign and value <= _UINT64_MAX):
        return value
    return None


def _json_number(value: float) -> int | float:
    """The number JSON carries for a Go float64: encoding/json writes an integral value below
    1e21 without a fraction or exponent, so the API server reads ``1.0`` as the integer 1."""
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def go_number(text: str) -> int | float | None:
    """What go-yaml v2 makes of a plain scalar that may be a number (None: it is a string)."""
    hint = _HINTS.get(text[:1])
    if hint == ".":
        return _json_number(float(text)) if _DOT_FLOAT.match(text) else None
    if hint not in ("D", "S"):
        return None
    plain = text.replace("_", "")
    integer = _go_int(plain)
    if integer is not None:
        return integer
    if _GO_FLOAT.match(plain):
        value = float(plain)
        if value in (float("inf"), float("-inf")):
            return None  # ParseFloat reports the overflow; go-yaml keeps the text
        return _json_number(value)
    return None


def plain_scalar_tag(text: str) -> str:
    """The tag go-yaml v2 resolves an untagged plain scalar to."""
    if not text:
        return _NULL
    hint = _HINTS.get(text[0])
    if hint is None:
        return _MERGE_TAG if text == "<<" else _STR  # go-yaml merges on the text itself
    special = _SPECIAL.get(text)
    if special is not None:
        return special
    if hint == "M":
        return _STR
    number = go_number(text)
    if number is None:
        return _STR
    return _INT if type(number) is int else _FLOAT


def _json_key(key: Any, mark: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON object key."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return format(key, "g")
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"kubectl cannot read a {type(key).__name__} mapping key "
        "(error converting YAML to JSON: unsupported map key)",
        mark,
    )


#: Plain scalars already resolved: manifests repeat the same keys and values (``name``,
#: ``Never``, ``"1"``) in every file, and a lookup costs a fraction of resolving. Bounded, so a
#: hostile stream of distinct values cannot grow it.
_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX_ENTRIES = 10_000
_RESOLVED_MAX_CHARS = 64


class _KubectlLoader(_Loader):  # type: ignore[misc]
    """The safe loader with go-yaml v2's scalar resolution (see the module docstring)."""

    bool_values = _BOOL_VALUES

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = plain_scalar_tag(value)
                if len(value) <= _RESOLVED_MAX_CHARS and len(_RESOLVED) < _RESOLVED_MAX_ENTRIES:
                    _RESOLVED[value] = tag
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        number = go_number(str(self.construct_scalar(node)))
        return number if number is not None else super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        number = go_number(str(self.construct_scalar(node)))
        return number if number is not None else super().construct_yaml_float(node)

    def construct_not_json(self, node: yaml.ScalarNode) -> Any:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"kubectl cannot send {node.value!r}: error converting YAML to JSON: "
            "json: unsupported value",
            node.start_mark,
        )

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if all(key.tag == _STR for key, _ in node.value):
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping
        # Keys become strings before they meet in the map: ``y`` (true) and ``1`` are two keys.
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if type(key) is not str:
                key = _json_key(key, key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_KubectlLoader.add_constructor(_INT, _KubectlLoader.construct_yaml_int)
_KubectlLoader.add_constructor(_FLOAT, _KubectlLoader.construct_yaml_float)
_KubectlLoader.add_constructor(_NOT_JSON, _KubectlLoader.construct_not_json)


class _KeyCountingLoader(_KubectlLoader):
    """Notes the keys each mapping repeats while it is built, before merge keys (``<<``) are
    flattened into it: a key overriding a merged one is not a repeat, and a document without
    repeats (nearly all) needs no search of its node tree afterwards."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.repeats: dict[int, list[str]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if len(node.value) > 1 and id(node) not in self.repeats:
            seen: set[str] = set()
            repeated = []
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    if key_node.value in seen:
                        repeated.append(key_node.value)
                    seen.add(key_node.value)
            if repeated:
                self.repeats[id(node)] = repeated
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """PyYAML's merge-key flattening, keeping only the last merged pair of each key.

        PyYAML copies every merged pair into the mapping node, repeats included, and a merged
        mapping that itself merges another ten times over (``<<: [*a, *a, ...]``, level upon
        level) grew tenfold per level: a few lines took seconds, then minutes. Only the last
        pair of a key counts when the mapping is built, so dropping the earlier ones changes
        nothing but the cost.
        """
        merges = sum(1 for key, _ in node.value if key.tag == _MERGE_TAG)
        if not merges:
            super().flatten_mapping(node)
            return
        own = len(node.value) - merges
        super().flatten_mapping(node)
        merged = len(node.value) - own
        seen = {_key_identity(key) for key, _ in node.value[merged:]}
        kept = []
        for pair in reversed(node.value[:merged]):
            identity = _key_identity(pair[0])
            if identity not in seen:
                seen.add(identity)
                kept.append(pair)
        node.value = kept[::-1] + node.value[merged:]


def _key_identity(key: yaml.Node) -> object:
    """What makes two mapping key nodes the same key: a scalar's tag and text, else the node."""
    return (key.tag, key.value) if isinstance(key, yaml.ScalarNode) else id(key)


DEFAULT_MAX_BYTES = 16 * 1024 * 1024
MAX_FLOW_DEPTH = 1000
MAX_EXPANDED_NODES = 1_000_000

_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class SourceError:
    """A problem with the input itself (not a rule finding)."""

    message: str
    line: int = 0
    column: int = 0


@dataclass
class Document:
    """One document of a stream: its data and its node tree for positions."""

    data: Any
    index: int
    node: yaml.Node | None = None
    line: int = 1
    _duplicates: tuple[FieldPath, ...] | None = field(default=None, repr=False, compare=False)

    def duplicate_keys(self) -> tuple[FieldPath, ...]:
        """Repeated mapping keys of the whole document (computed once: a List's items share it)."""
        if self._duplicates is None:
            self._duplicates = duplicate_keys(self.node)
        return self._duplicates

    def position(self, path: FieldPath) -> tuple[int, int]:
        """1-based (line, column) of the field at ``path``, or of its nearest existing parent.

        A map entry points at its key (``restartPolicy: Always`` -> where ``restartPolicy``
        starts); a list item at the item.
        """
        node = self.node
        if node is None:
            return self.line, 1
        best = node.start_mark
        for seg in path:
            raw = segment_name(seg)
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == raw:
                        best = key_node.start_mark
                        node = value_node
                        break
                else:
                    break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(raw, int)
                and 0 <= raw < len(node.value)
            ):
                node = node.value[raw]
                best = node.start_mark
            else:
                break
        return best.line + 1, best.column + 1


@dataclass
class Stream:
    documents: list[Document] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)


def _decode(raw: bytes) -> str | SourceError:
    if b"\x00" in raw[:8192]:
        return SourceError("not a text file (it contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return SourceError(f"not UTF-8 text (invalid byte at offset {exc.start})")
    return text


def _flow_depth_error(text: str) -> SourceError | None:
    """Refuse flow nesting deep enough to crash libyaml's recursive composer.

    Counting brackets without regard to quoting over-estimates the depth, never under-estimates
    it; real manifests stay below 30 levels, so the margin costs nothing.
    """
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return None
    depth = 0
    line = 1
    last = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line += text.count("\n", last, match.start())
                return SourceError(
                    f"nesting deeper than {MAX_FLOW_DEPTH} levels; refusing to parse", line
                )
        else:
            depth = max(depth - 1, 0)
    return None


def _expanded_size_exceeds(data: Any, budget: int) -> bool:
    """True if walking ``data`` (aliases expanded) visits more than ``budget`` nodes."""
    stack = [data]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > budget:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _yaml_error(exc: yaml.YAMLError) -> SourceError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return SourceError(message, mark.line + 1, mark.column + 1)
    return SourceError(message)


def _load_json(text: str) -> Iterator[Document | SourceError]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield SourceError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)
    except RecursionError:
        yield SourceError("nesting too deep; refusing to parse")
    else:
        if _SURROGATE_ESCAPE.search(text):
            data = _without_lone_surrogates(data)
        yield Document(data, 0)


#: A ``\uD800``-``\uDFFF`` escape: JSON may spell a lone surrogate, which has no UTF-8 form.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(data: Any) -> Any:
    """``data`` with each lone surrogate replaced by U+FFFD, as the API server's JSON decoder
    reads it; kept as is, a name holding one could not be printed (UnicodeEncodeError)."""

    def clean(value: Any) -> Any:
        return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    data = clean(data)
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            pairs = [(clean(k), clean(v)) for k, v in item.items()]
            item.clear()
            item.update(pairs)
            stack.extend(item.values())
        elif isinstance(item, list):
            item[:] = [clean(v) for v in item]
            stack.extend(item)
    return data


def parse_stream(raw: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Stream:
    """Parse a YAML (or JSON) stream into documents, never raising on bad input.

    Holds every document (data and node tree) at once; :func:`read_documents` yields them one
    at a time for a reader that can let each go (memory flat in the number of documents).
    """
    stream = Stream()
    for item in read_documents(raw, max_bytes=max_bytes):
        if isinstance(item, SourceError):
            stream.errors.append(item)
        else:
            stream.documents.append(item)
    return stream


def read_documents(
    raw: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Document | SourceError]:
    """The documents of a YAML (or JSON) stream in order, each built when it is asked for.

    A :class:`SourceError` ends the stream (the documents before it were yielded). Never raises
    on bad input.
    """
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        yield SourceError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; not parsed")
        return
    text = raw if isinstance(raw, str) else _decode(raw)
    if isinstance(text, SourceError):
        yield text
        return
    depth_error = _flow_depth_error(text)
    if depth_error is not None:
        yield depth_error
        return
    may_alias = "&" in text and "*" in text
    if isinstance(raw, bytes) and not raw.startswith(b"\xef\xbb\xbf"):
        # libyaml reads UTF-8 itself and keeps a reference to bytes, where it would make a UTF-8
        # copy of a str: with the decoded text dropped, a 16 MiB file is held once, not thrice.
        text = ""
        loader = _KeyCountingLoader(raw)
    else:
        loader = _KeyCountingLoader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            loader.repeats = {}
            data = _NOT_PLAIN if may_alias else _plain_document(node, loader.repeats)
            if data is _NOT_PLAIN:
                loader.repeats = {}
                data = loader.construct_document(node)
            if may_alias and _expanded_size_exceeds(data, MAX_EXPANDED_NODES):
                yield SourceError(
                    f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases; refusing it",
                    node.start_mark.line + 1,
                    1,
                )
                return
            document = Document(data, index, node, node.start_mark.line + 1)
            document._duplicates = duplicate_keys(node, loader.repeats) if loader.repeats else ()
            index += 1
            yield document
    except yaml.YAMLError as exc:
        # JSON that YAML 1.1 cannot read (tabs as indentation, for one) still deserves a try.
        # JSON's own error message is the clearer one for a file that is meant to be JSON.
        if not text and isinstance(raw, bytes):
            text = raw.decode("utf-8")  # valid: decoded above
        if not index and text.lstrip().startswith(("{", "[")):
            yield from _load_json(text)
        else:
            yield _yaml_error(exc)
    except (ValueError, OverflowError, RecursionError) as exc:
        # The safe constructor raises these on e.g. out-of-range timestamps.
        yield SourceError(f"invalid YAML value: {exc}")
    finally:
        loader.dispose()


#: :func:`_plain_document`'s answer for a node tree it leaves to PyYAML's constructor.
_NOT_PLAIN: Any = object()


class _NotPlain(Exception):
    """A node the plain builder leaves to PyYAML's constructor."""


def _plain_document(node: yaml.Node, repeats: dict[int, list[str]]) -> Any:
    """The data of a document without anchors, built straight from its node tree, or
    ``_NOT_PLAIN`` when it holds anything but string-keyed maps, lists and the scalars kubectl
    reads (a merge key, an explicit tag such as ``!!binary``, a key that is not a string).

    The same values as :class:`_KeyCountingLoader` gives (a property test holds it to that), at
    a fraction of the cost: PyYAML's constructor dispatches every node through generators and
    a table of constructors, which made half the time of linting a small file.
    """
    try:
        return _plain_node(node, repeats)
    except (_NotPlain, RecursionError):
        return _NOT_PLAIN


_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode


def _plain_node(node: yaml.Node, repeats: dict[int, list[str]]) -> Any:
    cls = node.__class__
    tag = node.tag
    if cls is _ScalarNode:
        value = node.value
        if tag == _STR:
            return value
        if tag in (_INT, _FLOAT):
            number = go_number(value)
            if number is None:
                raise _NotPlain
            return number
        if tag == _BOOL:
            flag = _BOOL_VALUES.get(value.lower())
            if flag is None:
                raise _NotPlain
            return flag
        if tag == _NULL:
            return None
        raise _NotPlain
    if cls is _MappingNode:
        if tag != _MAP:
            raise _NotPlain
        pairs = node.value
        mapping: dict[str, Any] = {}
        for key_node, value_node in pairs:
            if key_node.__class__ is not _ScalarNode or key_node.tag != _STR:
                raise _NotPlain
            mapping[key_node.value] = _plain_node(value_node, repeats)
        if len(mapping) != len(pairs):
            _note_repeats(node, repeats)
        return mapping
    if cls is _SequenceNode and tag == _SEQ:
        return [_plain_node(item, repeats) for item in node.value]
    raise _NotPlain


def _note_repeats(node: yaml.Node, repeats: dict[int, list[str]]) -> None:
    """What :meth:`_KeyCountingLoader.construct_mapping` notes for a map that repeats keys."""
    seen: set[str] = set()
    repeated = []
    for key_node, _ in node.value:
        if key_node.value != "<<":
            if key_node.value in seen:
                repeated.append(key_node.value)
            seen.add(key_node.value)
    if repeated:
        repeats[id(node)] = repeated


@dataclass(frozen=True)
class SourceObject:
    """One object of a stream; ``prefix`` is its path inside the document (``items[3]`` of a List)."""

    document: Document
    data: Any
    prefix: FieldPath = ()

    def position(self, path: FieldPath) -> tuple[int, int]:
        return self.document.position(self.prefix + path)

    def duplicate_keys(self) -> tuple[FieldPath, ...]:
        """Repeated mapping keys inside this object, relative to it."""
        found = self.document.duplicate_keys()
        size = len(self.prefix)
        return tuple(p[size:] for p in found if p[:size] == self.prefix and len(p) > size)


def duplicate_keys(
    node: yaml.Node | None, repeats: dict[int, list[str]] | None = None
) -> tuple[FieldPath, ...]:
    """Paths (raw key names, list indexes) of mapping keys that a YAML node tree repeats.

    The loader keeps the last value of a repeated key, as kubectl does (it sends JSON, so the
    API server never sees the repeat: ``api-duplicate-keys`` warns). Each node is visited once
    (aliases share nodes), so this is linear in the size of the file. ``repeats`` (mapping node id -> repeated keys, noted by the
    loader before merge keys were flattened) replaces looking at the keys again: after
    flattening, a key that overrides a merged one would look repeated.
    """
    found: list[FieldPath] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, FieldPath]] = [(node, ())] if node is not None else []
    while stack:
        current, path = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[str] = set()
            children = []
            if repeats is not None:
                found.extend((*path, name) for name in repeats.get(id(current), ()))
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                if repeats is None and key_node.value in keys:
                    found.append((*path, key_node.value))
                keys.add(key_node.value)
                children.append((value_node, (*path, key_node.value)))
            stack.extend(reversed(children))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed([(item, (*path, i)) for i, item in enumerate(current.value)]))
    return tuple(found)


def iter_objects(stream: Stream) -> Iterator[SourceObject]:
    """Every object of the stream, with ``kind: List`` (and ``*List``) items unpacked."""
    for doc in stream.documents:
        yield from objects_of(doc)


def objects_of(doc: Document) -> Iterator[SourceObject]:
    """The objects of one document: itself, or the items of a ``kind: List`` (``*List``);
    nothing for an empty document (between two ``---``)."""
    data = doc.data
    if data is None:
        return
    kind = data.get("kind") if isinstance(data, dict) else None
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        for i, item in enumerate(data["items"]):
            yield SourceObject(doc, item, ("items", i))
    else:
        yield SourceObject(doc, data)
