"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1.5``, ``129e6``) as exact decimals.

The grammar is the API's ``resource.Quantity``: a signed decimal number followed by a binary SI
suffix (``Ki Mi Gi Ti Pi Ei``), a decimal SI suffix (``n u m k M G T P E`` or none) or a decimal
exponent (``e3``, ``E-2``). YAML may also give a plain integer or float. Decimal arithmetic keeps
``0.1`` and ``100m`` equal, which float arithmetic would not.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?))"
)
_MAX_EXPONENT = 30  # far beyond any real resource; keeps hostile input from building huge numbers


def parse_quantity(value: Any) -> Decimal | None:
    """The quantity's value in base units (cores, bytes...), or None if it is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # YAML's .nan and .inf (and JSON's NaN from a lenient client) are no quantity; as
        # Decimals they made comparisons raise InvalidOperation inside the rules.
        return Decimal(repr(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    if len(value) <= _CACHED_LENGTH:
        return _parse_short_text(value)
    return _parse_text(value)


#: Quantities are a handful of values repeated in every manifest (``100m``, ``256Mi``...) and
#: several rules parse each container's: short texts are parsed once per process. Decimals are
#: immutable, so sharing them is safe; long (hostile) texts are not kept.
_CACHED_LENGTH = 32


def _parse_text(value: str) -> Decimal | None:
    found = _QUANTITY.fullmatch(value.strip())
    if found is None:
        return None
    try:
        number = Decimal(found.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
        return None
    exponent = found.group("exponent")
    if exponent is not None:
        power = int(exponent[1:])
        if abs(power) > _MAX_EXPONENT:
            return None
        return number.scaleb(power)
    suffix = found.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number * _DECIMAL[suffix]


_parse_short_text = functools.lru_cache(maxsize=1024)(_parse_text)
