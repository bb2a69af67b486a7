"""The reader's plain builder (data straight from the node tree) against PyYAML's constructor.

yamlsource builds most documents without PyYAML's constructor, which was half the time of
linting a small file; whatever it builds must equal, type for type, what the constructor with
kubectl's scalar rules builds, repeated keys included, and it must hand everything else
(merge keys, explicit tags, non-string keys, NaN) to the constructor.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.lint.fix import same_data
from jobguard.yamlsource import (
    _NOT_PLAIN,
    SourceError,
    _KeyCountingLoader,
    _plain_document,
    duplicate_keys,
    parse_stream,
    read_documents,
)

#: Plain scalars whose reading differs between YAML 1.1, YAML 1.2 and kubectl's go-yaml v2.
TRICKY = [
    "y", "n", "yes", "No", "on", "OFF", "true", "True", "~", "null", "Null", "", "0", "010",
    "0o17", "0x1F", "0b101", "+1", "-0", "1_000", "1e1", "1E+3", ".5", "-.5e2", "1.0", "10:30",
    "2024-01-01", "=", "<<x", "1.5", "9223372036854775808", "18446744073709551616", "0.", "-",
    "Never", "a b", "12abc",
]  # fmt: skip
TAGGED = ["!!str 12", "!!int '7'", "!!float '2'", "!!bool 'yes'", "!!null x", "!!binary aGk="]

scalar_text = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from([f'"{t}"' for t in TRICKY]),
    st.sampled_from(TAGGED),
    st.from_regex(r"[a-z0-9.+\-_]{1,8}", fullmatch=True),
)
key_text = st.one_of(
    st.sampled_from(["name", "spec", "image", "a", "b", "1", "y", "'y'", '"1"', "<<", "'<<'"]),
    st.from_regex(r"[a-z]{1,4}", fullmatch=True),
)


class _Map(list):  # type: ignore[type-arg]
    """A block map to write: its (key, value) pairs in order, so that keys may repeat."""


def _block(value: Any, indent: int) -> str:
    """``value`` as the block YAML after a key or a dash (its own line(s) when a collection)."""
    pad = " " * indent
    if isinstance(value, _Map):
        if not value:
            return " {}\n"
        return "\n" + "".join(f"{pad}{k}:{_block(v, indent + 2)}" for k, v in value)
    if isinstance(value, list):
        if not value:
            return " []\n"
        return "\n" + "".join(f"{pad}-{_block(v, indent + 2)}" for v in value)
    return f" {value}\n"


trees = st.recursive(
    scalar_text,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(key_text, children), max_size=5).map(_Map),
    ),
    max_leaves=20,
)


def _text(tree: Any) -> str:
    if isinstance(tree, _Map) and tree:
        return "".join(f"{k}:{_block(v, 2)}" for k, v in tree)
    return "root:" + _block(tree, 2)


def _by_constructor(text: str) -> list[tuple[Any, tuple[Any, ...]] | str]:
    """What PyYAML's constructor (with kubectl's rules) makes of each document, or its error."""
    loader = _KeyCountingLoader(text)
    out: list[tuple[Any, tuple[Any, ...]] | str] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            loader.repeats = {}
            data = loader.construct_document(node)
            out.append((data, duplicate_keys(node, loader.repeats) if loader.repeats else ()))
    except (yaml.YAMLError, ValueError) as exc:
        out.append(type(exc).__name__)
    finally:
        loader.dispose()
    return out


def _by_reader(text: str) -> list[tuple[Any, tuple[Any, ...]] | str]:
    out: list[tuple[Any, tuple[Any, ...]] | str] = []
    for item in read_documents(text):
        if isinstance(item, SourceError):
            out.append("error")
        else:
            out.append((item.data, item.duplicate_keys()))
    return out


@settings(max_examples=300, deadline=None)
@given(trees)
def test_the_reader_builds_what_the_constructor_builds(tree: Any) -> None:
    text = _text(tree)
    expected = _by_constructor(text)
    got = _by_reader(text)
    assert len(got) == len(expected), text
    for mine, theirs in zip(got, expected, strict=True):
        if isinstance(theirs, str):
            assert mine == "error", text
            continue
        assert not isinstance(mine, str), text
        assert same_data(mine[0], theirs[0]), text
        assert mine[1] == theirs[1], text


def _plain(text: str) -> Any:
    loader = _KeyCountingLoader(text)
    try:
        return _plain_document(loader.get_single_node(), {})
    finally:
        loader.dispose()


def test_the_plain_builder_leaves_the_unusual_to_the_constructor() -> None:
    for text in (
        "a: !!binary aGk=\n",  # an explicit tag it does not build
        "a: &x {b: 1}\nc: {<<: *x}\n",  # a merge key
        "<<: {b: 1}\n",  # a merge key without an alias
        "1: a\n",  # a key that is not a string
        "a: .nan\n",  # kubectl refuses NaN: the constructor says so
        "a: !!set {b}\n",
        "a: !custom x\n",
    ):
        assert _plain(text) is _NOT_PLAIN, text
    assert _plain("a: [1, '2', y, ~, 1.0, 1e1]\nb: {c: d}\n") == {
        "a": [1, "2", True, None, 1, 10],
        "b": {"c": "d"},
    }


def test_repeated_keys_are_reported_by_both_paths() -> None:
    text = "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n'<<': 1\n'<<': 2\n"
    (doc,) = parse_stream(text).documents
    assert doc.data == {"a": 3, "b": {"c": 2}, "<<": 2}
    assert doc.duplicate_keys() == (("a",), ("b", "c"))


def test_nesting_deeper_than_the_recursion_limit_is_built_by_the_constructor() -> None:
    depth = 400
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(depth)) + " " * depth + "v\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # the plain builder recurses; PyYAML's constructor iterates
    try:
        assert _plain(text) is _NOT_PLAIN
        stream = parse_stream(text)
    finally:
        sys.setrecursionlimit(limit)
    assert not stream.errors
    node = stream.documents[0].data
    for i in range(depth - 1):
        node = node[f"k{i}"]
    assert node == {f"k{depth - 1}": "v"}
