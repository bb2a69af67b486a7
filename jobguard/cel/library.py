"""The Kubernetes CEL library functions the C++ evaluator lacks, written to Kubernetes' behaviour.

Kubernetes' ValidatingAdmissionPolicy environment (``k8s.io/apiserver/pkg/cel/environment``)
adds to standard CEL: cel-go's strings extension (version 2), optional types and the sets
extension, and Kubernetes' own libraries (lists, regex, URLs, quantities, IP and CIDR
addresses, named formats, semantic versions, authorizer checks, two-variable comprehensions).
The CEL project's C++ evaluator brings the strings extension and optional types; this module
adds what can be written on values it passes to Python:

* lists (``k8s.io/apiserver/pkg/cel/library/lists.go``): ``isSorted``, ``sum``, ``min``,
  ``max``, ``indexOf``, ``lastIndexOf``;
* regex (``regex.go``): ``find``, ``findAll``, with RE2 as Kubernetes (Go's regexp is RE2);
* sets (cel-go ``ext/sets.go``): ``sets.contains``, ``sets.equivalent``, ``sets.intersects``.

What the binding cannot carry is in :data:`UNSUPPORTED`: the functions that return an opaque
Kubernetes type (``url()``, ``quantity()``, ``ip()``, ``cidr()``, ``semver()``, ``format.*``;
the Python binding has no way to hand an opaque value back to CEL) and the two-variable
comprehension macros (the parser's macros are fixed). An expression using one is a policy error
at load, with that explanation, never a surprise at request time.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import re2
from cel_expr_python import cel

__all__ = ["UNSUPPORTED", "kubernetes_library"]

#: Names a Kubernetes expression may use that jobguard cannot evaluate, and why.
_OPAQUE = (
    "returns a Kubernetes CEL object type the Python binding of the C++ evaluator cannot carry"
)
_TWO_VAR = (
    "two-variable comprehensions (Kubernetes 1.32) are macros the C++ evaluator's parser "
    "does not have"
)
UNSUPPORTED: dict[str, str] = {
    "url": f"url() {_OPAQUE}",
    "isURL": "isURL() follows Go's url.ParseRequestURI, which jobguard does not reproduce",
    "quantity": f"quantity() {_OPAQUE}",
    "isQuantity": "isQuantity() follows Kubernetes' quantity parser, which jobguard does not reproduce",
    "ip": f"ip() {_OPAQUE}",
    "isIP": "isIP() follows Go's netip parser, which jobguard does not reproduce",
    "cidr": f"cidr() {_OPAQUE}",
    "isCIDR": "isCIDR() follows Go's netip parser, which jobguard does not reproduce",
    "semver": f"semver() {_OPAQUE}",
    "isSemver": "isSemver() follows Kubernetes' semver parser, which jobguard does not reproduce",
    "format": f"the format library {_OPAQUE}",
    "image": f"image() {_OPAQUE}",
    "authorizer": "authorization checks need the API server's authorizer",
    "namespaceObject": "the namespace object is known only to the API server",
    # all/exists/existsOne with two variables: the one-variable macros are CEL's own.
    "all": _TWO_VAR,
    "exists": _TWO_VAR,
    "existsOne": _TWO_VAR,
    "transformList": _TWO_VAR,
    "transformMap": _TWO_VAR,
    "transformMapEntry": _TWO_VAR,
}


class _NoValue(Exception):
    """A Kubernetes function's documented error (an empty list's ``min()``)."""


def _comparable(items: Sequence[Any]) -> None:
    kinds = {type(i) if not isinstance(i, bool) else bool for i in items}
    numeric = {int, float}
    if len(kinds) > 1 and not kinds <= numeric:
        raise TypeError("no such overload: list elements of different types are not comparable")


def is_sorted(items: list[Any]) -> bool:
    """``[1, 2, 3].isSorted() == true``, ``['a', 'b', 'b', 'c'].isSorted() == true``."""
    _comparable(items)
    return all(a <= b for a, b in itertools.pairwise(items))


def list_sum(items: list[Any]) -> Any:
    """``[1, 3].sum() == 4``, ``[1.0, 3.0].sum() == 4.0``, ``[].sum() == 0``; durations add up
    to a duration."""
    if items and all(isinstance(i, datetime.timedelta) for i in items):
        return sum(items, datetime.timedelta(0))
    _comparable(items)
    return sum(items)


def list_min(items: list[Any]) -> Any:
    """``[1, 3].min() == 1``; an empty list is an error (``min called on empty list``)."""
    if not items:
        raise _NoValue("min called on empty list")
    _comparable(items)
    return min(items)


def list_max(items: list[Any]) -> Any:
    """``[1, 3].max() == 3``; an empty list is an error (``max called on empty list``)."""
    if not items:
        raise _NoValue("max called on empty list")
    _comparable(items)
    return max(items)


def _same(a: Any, b: Any) -> bool:
    # CEL equality: a bool is never equal to a number, unlike Python's True == 1.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def index_of(items: list[Any], value: Any) -> int:
    """``[1, 2, 2, 3].indexOf(2) == 1``, ``[].indexOf(1) == -1``."""
    return next((i for i, item in enumerate(items) if _same(item, value)), -1)


def last_index_of(items: list[Any], value: Any) -> int:
    """``['a', 'b', 'b', 'c'].lastIndexOf('b') == 2``, ``[1.0].lastIndexOf(1.1) == -1``."""
    for i in range(len(items) - 1, -1, -1):
        if _same(items[i], value):
            return i
    return -1


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported as the expression's error


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"invalid regex {pattern!r}: {detail}") from None


def find(text: str, pattern: str) -> str:
    """``"abc 123".find('[0-9]+') == "123"``; no match: ``""``."""
    match = _regex(pattern).search(text)
    return match.group(0) if match else ""


def find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    """``"123 abc 456".findAll('[0-9]+') == ['123', '456']``; with a limit, at most that many
    (a negative limit: all, as Go's ``FindAllString``; ``0``: none)."""
    if limit == 0:
        return []
    found = [m.group(0) for m in _regex(pattern).finditer(text)]
    return found if limit < 0 else found[:limit]


def sets_contains(items: list[Any], sub: list[Any]) -> bool:
    """``sets.contains([1, 2, 3, 4], [2, 3]) == true``; every list contains ``[]``."""
    return all(any(_same(x, y) for y in items) for x in sub)


def sets_equivalent(a: list[Any], b: list[Any]) -> bool:
    """``sets.equivalent([1, 2], [2, 1, 1]) == true``: the same elements, ignoring order and
    repeats."""
    return sets_contains(a, b) and sets_contains(b, a)


def sets_intersects(a: list[Any], b: list[Any]) -> bool:
    """``sets.intersects([1], [1, 2]) == true``, ``sets.intersects([1], []) == false``."""
    return any(any(_same(x, y) for y in b) for x in a)


_D = cel.Type.DYN
_LIST = cel.Type.List(_D)


def _member(
    name: str, overload: str, ret: Any, params: Sequence[Any], impl: Callable[..., Any]
) -> Any:
    return cel.FunctionDecl(
        name, [cel.Overload(overload, ret, list(params), is_member=True, impl=impl)]
    )


def _global(
    name: str, overload: str, ret: Any, params: Sequence[Any], impl: Callable[..., Any]
) -> Any:
    return cel.FunctionDecl(name, [cel.Overload(overload, ret, list(params), impl=impl)])


def kubernetes_library() -> Any:
    """The functions above as one CEL extension (to be loaded after the strings extension,
    whose ``indexOf`` and ``lastIndexOf`` on strings these extend to lists)."""
    string, integer, boolean = cel.Type.STRING, cel.Type.INT, cel.Type.BOOL
    return cel.CelExtension(
        "jobguard-kubernetes",
        [
            _member("isSorted", "k8s_list_is_sorted", boolean, [_LIST], is_sorted),
            _member("sum", "k8s_list_sum", _D, [_LIST], list_sum),
            _member("min", "k8s_list_min", _D, [_LIST], list_min),
            _member("max", "k8s_list_max", _D, [_LIST], list_max),
            _member("indexOf", "k8s_list_index_of", integer, [_LIST, _D], index_of),
            _member("lastIndexOf", "k8s_list_last_index_of", integer, [_LIST, _D], last_index_of),
            _member("find", "k8s_string_find", string, [string, string], find),
            cel.FunctionDecl(
                "findAll",
                [
                    cel.Overload(
                        "k8s_string_find_all",
                        cel.Type.List(string),
                        [string, string],
                        is_member=True,
                        impl=find_all,
                    ),
                    cel.Overload(
                        "k8s_string_find_all_limit",
                        cel.Type.List(string),
                        [string, string, integer],
                        is_member=True,
                        impl=find_all,
                    ),
                ],
            ),
            _global("sets.contains", "sets_contains", boolean, [_LIST, _LIST], sets_contains),
            _global("sets.equivalent", "sets_equivalent", boolean, [_LIST, _LIST], sets_equivalent),
            _global("sets.intersects", "sets_intersects", boolean, [_LIST, _LIST], sets_intersects),
        ],
    )
