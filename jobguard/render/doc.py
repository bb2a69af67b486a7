"""A rule's documentation (reStructuredText in its module docstring) as plain terminal text."""

from __future__ import annotations

import re
import textwrap

WIDTH = 100
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
_ROLE = re.compile(r":[a-z]+:`([^`]+)`")
_INTERPRETED = re.compile(r"`([^`\n]+)`_{0,2}")
_LITERAL_MARKER = re.compile(r"(\S)::$", re.MULTILINE)
_BARE_MARKER = re.compile(r"^\s*::\s*$\n?", re.MULTILINE)
_LIST_ITEM = re.compile(r"^(?:[-*+] |\d+[.)] )")


def _unwrap_literal(match: re.Match[str]) -> str:
    # A literal that the source wrapped over two lines is one token: join it without a space.
    return re.sub(r"\s*\n\s*", "", match.group(1))


def _refill(block: str, width: int) -> str:
    lines = block.splitlines()
    if not lines or any(line.startswith((" ", "\t")) for line in lines):
        return block  # a literal block, an option table or a list's continuation: keep as is
    if any(_LIST_ITEM.match(line) for line in lines):
        return block
    return textwrap.fill(" ".join(line.strip() for line in lines), width=width)


def plain_text(doc: str, width: int = WIDTH) -> str:
    """``doc`` without reStructuredText markup, paragraphs refilled to ``width``."""
    text = _LITERAL.sub(_unwrap_literal, doc)
    text = _ROLE.sub(r"\1", text)
    text = _INTERPRETED.sub(r"\1", text)
    text = _LITERAL_MARKER.sub(r"\1:", text)
    text = _BARE_MARKER.sub("", text)
    return "\n\n".join(_refill(block, width) for block in text.strip().split("\n\n"))
