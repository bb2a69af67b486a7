"""Deep copies of JSON-shaped data (dicts, lists and scalars), as the request path makes them.

Several times faster than ``copy.deepcopy``, which dispatches on every node and keeps a memo.
Shared subtrees (YAML aliases) become separate copies: the parser's alias budget bounds that.
"""

from __future__ import annotations

from typing import Any, TypeVar

_T = TypeVar("_T")


def copy_json(value: _T) -> _T:
    """A copy of ``value`` sharing no dict or list with it; other values are kept as they are
    (they are immutable in data loaded from YAML or JSON)."""
    return _copy(value)  # type: ignore[no-any-return]


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value
