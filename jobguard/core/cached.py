"""A lock-free ``cached_property`` for the per-object views on the request path.

``functools.cached_property`` takes a lock on every first access before Python 3.12, which cost
more than most of the values it caches. The views are built per object and their properties are
pure functions of it, so two threads computing one value twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class cached_property(Generic[_T]):
    """Compute on first access, then store in the instance's ``__dict__`` (frozen dataclasses
    too: the value bypasses ``__setattr__``)."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value
