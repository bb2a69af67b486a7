"""Compiling and evaluating CEL expressions with ValidatingAdmissionPolicy's variables, on the CEL
project's C++ evaluator (``cel-expr-python``).

Expressions are compiled (parsed and type-checked) once, when the policy is loaded; a request
only evaluates. The variables are those of a ValidatingAdmissionPolicy: ``object``,
``oldObject``, ``request``, ``params`` (always null: jobguard binds no parameter resource) and
``variables``, all dynamically typed, as Kubernetes declares them for an object without a
schema.

Evaluation cost is bounded by the evaluator itself: one evaluation may run at most 10,000
comprehension iterations (``all``, ``exists``, ``map``, ``filter`` together); past that it stops
with "Iteration budget exceeded", which jobguard reports like a rule that crashed
(``on_rule_error``). A runaway comprehension costs at most about 2 ms of one worker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from jobguard.cel.library import UNSUPPORTED, kubernetes_library

__all__ = [
    "VARIABLES",
    "CelCompileError",
    "CelEvaluationError",
    "CompileProblem",
    "Program",
    "activation",
    "compile_expression",
]

#: The variables a ValidatingAdmissionPolicy expression sees.
VARIABLES = ("object", "oldObject", "request", "params", "variables")
#: Kubernetes' strings extension version since 1.29 (``ext.Strings(ext.StringsVersion(2))``).
STRINGS_VERSION = 2


@dataclass(frozen=True)
class CompileProblem:
    """One compile error, at a 1-based line and column of the expression's text."""

    line: int
    column: int
    message: str


class CelCompileError(ValueError):
    def __init__(self, problems: tuple[CompileProblem, ...]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class CelEvaluationError(RuntimeError):
    """An expression failed on one object (a missing field, a wrong type, the iteration budget)."""


@functools.cache
def _environment() -> Any:
    return cel.NewEnv(
        variables=dict.fromkeys(VARIABLES, cel.Type.DYN),
        # The strings extension first: the Kubernetes library extends its indexOf to lists.
        extensions=[
            ext_strings.ExtStrings(STRINGS_VERSION),
            ext_optional.ExtOptional(),
            kubernetes_library(),
        ],
    )


# "ERROR: <input>:1:14: undeclared reference to 'reverse' (in container '')"
_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")
_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")


def _explain(message: str) -> str:
    undeclared = _UNDECLARED.search(message)
    if undeclared is None:
        return message
    name = undeclared.group(1)
    if name not in UNSUPPORTED:
        name = name.split(".")[0]  # authorizer.group, namespaceObject.metadata...
    reason = UNSUPPORTED.get(name)
    if reason is not None:
        return f"{name}: Kubernetes offers it, jobguard cannot evaluate it ({reason})"
    return f"undeclared reference to {undeclared.group(1)!r}"


def _problems(error: str) -> tuple[CompileProblem, ...]:
    found = []
    for match in _ERROR.finditer(error):
        message = _explain(match.group(3).strip())
        found.append(CompileProblem(int(match.group(1)), int(match.group(2)), message))
    # A macro's undeclared iteration variables are noise beside its own name's error: keep the
    # explanation of an unsupported name, and every other problem.
    unsupported = [p for p in found if "jobguard cannot evaluate" in p.message]
    if unsupported:
        return tuple(unsupported)
    return tuple(found) or (CompileProblem(1, 1, error.strip()),)


@dataclass(frozen=True)
class Program:
    """One compiled expression."""

    source: str
    compiled: Any = None

    def evaluate(self, inputs: Any) -> Any:
        """The expression's value (plain Python) on ``inputs`` (from :func:`activation`).

        Raises CelEvaluationError when the expression fails on this object."""
        try:
            result = self.compiled.eval(inputs)
        except RuntimeError as exc:  # the iteration budget, a Python library function's error
            raise CelEvaluationError(_status_text(str(exc))) from None
        value = result.value()
        if value is True or value is False:  # most expressions: no more calls into the binding
            return value
        if result.type() == cel.Type.ERROR:
            raise CelEvaluationError(_status_text(str(result.value())))
        return result.plain_value()


def _status_text(text: str) -> str:
    # "INTERNAL: Iteration budget exceeded [INTERNAL]" -> "Iteration budget exceeded"
    text = re.sub(r"\s*\[[A-Z_]+\]$", "", text.strip())
    return re.sub(r"^[A-Z_]+: ", "", text)


def compile_expression(source: str) -> Program:
    """Parse and type-check ``source``; CelCompileError lists every problem with its position."""
    if not isinstance(source, str) or not source.strip():
        raise CelCompileError((CompileProblem(1, 1, "an expression is required"),))
    try:
        compiled = _environment().compile(source)
    except RuntimeError as exc:
        raise CelCompileError(_problems(str(exc))) from None
    return Program(source, compiled)


def activation(values: Mapping[str, Any]) -> Any:
    """The evaluator's bindings for ``values`` (names of :data:`VARIABLES`): made once per
    object and rule, then shared by all its expressions."""
    return _environment().Activation(dict(values))
