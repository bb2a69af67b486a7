"""Custom rules: a policy file's own checks, written as ValidatingAdmissionPolicy validations.

A custom rule is judged exactly as the API server judges a ValidatingAdmissionPolicy with the
same ``matchConditions``, ``variables`` and ``validations``:

1. every match condition must be true, else the rule does not apply to the object;
2. the variables are evaluated in order (each may read the ones before it), after the
   predefined ``variables.job``;
3. each validation that is false is one finding, at the validation's ``path``, with its
   ``message`` (or what its ``messageExpression`` gives; without either, ``failed expression:
   <expression>``, the API server's wording).

An expression that fails on an object (a missing field, a value of the wrong type, the
evaluator's iteration budget) makes the rule fail on it, reported as any rule that crashes
(the policy's ``on_rule_error``), as a ValidatingAdmissionPolicy's ``failurePolicy`` decides.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jobguard.cel.inputs import cel_inputs, job_spec
from jobguard.cel.program import CelEvaluationError, Program, activation
from jobguard.core.model import Action, Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.rule import NoOptions, Rule
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import RuleSpec

__all__ = [
    "CustomRule",
    "CustomRuleError",
    "Validation",
    "denial_message",
    "parse_path",
    "warning_message",
]


_MEMO_KEY = "cel-activation"


class CustomRuleError(CelEvaluationError):
    """A custom rule's expression failed on an object."""


@dataclass(frozen=True)
class Validation:
    expression: Program
    message: str | None = None
    message_expression: Program | None = None
    path: str = ""


@dataclass(frozen=True)
class CustomRule:
    """A custom rule as the policy file declares it (compiled)."""

    name: str
    code: str
    action: Action
    kinds: tuple[str, ...]
    match_conditions: tuple[tuple[str, Program], ...]
    variables: tuple[tuple[str, Program], ...]
    validations: tuple[Validation, ...]
    description: str = ""
    source: str = ""  # file:line where the policy declares it

    def rule(self, shared: SharedInputs | None = None) -> Rule:
        """The rule the engine runs; ``shared``: the policy's custom rules' shared inputs."""
        summary = self.description.strip().splitlines()[0] if self.description.strip() else ""
        validations = "\n".join(f"    {v.expression.source.strip()}" for v in self.validations)
        doc = "\n\n".join(
            part
            for part in (
                self.description.strip(),
                f"A custom rule declared in {self.source}." if self.source else "",
                f"Validations (CEL):\n\n{validations}",
            )
            if part
        )
        return RuleSpec(
            code=self.code,
            name=self.name,
            category=Category.POLICY,
            summary=summary or f"custom rule ({len(self.validations)} CEL validations)",
            remediation="",
            doc=doc,
            check=functools.partial(self.check, shared or SharedInputs((self,))),
            options=NoOptions,
            default_action=self.action,
            kinds=frozenset(self.kinds),
            fixes=False,
            cel=self,  # exported as written
        ).rule()

    def _matches(self, inputs: Any) -> bool:
        # As the API server: a false condition skips the rule even when another one fails.
        failure: CustomRuleError | None = None
        for name, condition in self.match_conditions:
            try:
                if _truth(condition, inputs, f"match condition {name!r}") is False:
                    return False
            except CustomRuleError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return True

    def matches(self, view: JobView, subject: Subject) -> bool:
        """Whether the match conditions select the object (CustomRuleError if one fails)."""
        return self._matches(SharedInputs((self,)).base(view, subject)[1])

    def check(
        self, shared: SharedInputs, view: JobView, _options: Any, subject: Subject
    ) -> Iterable[Violation]:
        values, base = shared.base(view, subject)
        if not self._matches(base):
            return []
        inputs, failed = (
            shared.with_variables(self, view, subject, values, base)
            if self.variables
            else (base, {})
        )
        found = []
        try:
            for validation in self.validations:
                if _truth(validation.expression, inputs, "validation") is False:
                    found.append(
                        Violation(_path(view, validation.path), _message(validation, inputs))
                    )
        except CustomRuleError as exc:
            mine = {n: failed[n] for n, _p in self.variables if n in failed}
            if mine:  # what the "no such key" of a left-out variable comes from
                detail = "; ".join(f"variable {n!r} failed: {e}" for n, e in mine.items())
                raise CustomRuleError(f"{exc} ({detail})") from None
            raise
        return found


def _reads_variables(source: str) -> bool:
    """Whether an expression may read a variable besides ``variables.job``."""
    return any(m.group(1) != "job" for m in _VARIABLE_READ.finditer(source))


_VARIABLE_READ = re.compile(r"\bvariables\b\s*(?:\.\s*\??\s*([A-Za-z_][A-Za-z0-9_]*))?")


class SharedInputs:
    """What the custom rules of one policy evaluate in, made once per object.

    Handing an object to the evaluator converts all of it (about 40 us for a 2 kB Job), and an
    activation converts it at most once however many expressions it serves. So every rule's
    match conditions and validations share one activation per object, and the rules' own
    variables are evaluated once per object for all rules: rules whose variables agree (no
    name defined twice with different expressions: usually all of them) share one map, each
    variable evaluated where the ones it reads are bound.
    """

    def __init__(self, rules: Sequence[CustomRule]):
        self._group: dict[str, int] = {}
        self._groups: list[list[tuple[str, Program]]] = []
        sources: list[dict[str, str]] = []
        for rule in rules:
            if not rule.variables:
                continue
            index = next(
                (
                    i
                    for i, known in enumerate(sources)
                    if all(known.get(n, p.source) == p.source for n, p in rule.variables)
                ),
                len(sources),
            )
            if index == len(sources):
                sources.append({})
                self._groups.append([])
            self._group[rule.name] = index
            for name, program in rule.variables:
                if name not in sources[index]:
                    sources[index][name] = program.source
                    self._groups[index].append((name, program))

    def base(self, view: JobView, subject: Subject) -> tuple[dict[str, Any], Any]:
        """The inputs as plain values, and their activation (``variables`` holds ``job``)."""
        key = self._key(subject)
        memo = view.memo
        found: tuple[dict[str, Any], Any] | None = memo.get(key)
        if found is None:
            values = cel_inputs(subject)
            spec = job_spec(view.obj)
            values["variables"] = {} if spec is None else {"job": spec}
            found = memo[key] = (values, activation(values))
        return found

    def _key(self, subject: Subject, group: int = -1) -> tuple[Any, ...]:
        # What the inputs depend on besides the object (whose view holds the memo).
        return (
            _MEMO_KEY,
            subject.operation,
            id(subject.old_object),
            id(subject.requester),
            id(self),
            group,
        )

    def with_variables(
        self,
        rule: CustomRule,
        view: JobView,
        subject: Subject,
        values: dict[str, Any],
        base: Any,
    ) -> tuple[Any, dict[str, str]]:
        """The activation holding ``rule``'s variables, and the errors of those that failed
        (left out: as in the API server, a variable is an error only where it is read);
        ``values`` and ``base``: what :meth:`base` gave."""
        group = self._group.get(rule.name)
        if group is None:
            return base, {}
        key = self._key(subject, group)
        memo = view.memo
        found: tuple[Any, dict[str, str]] | None = memo.get(key)
        if found is not None:
            return found
        variables = dict(values["variables"])
        inputs, stale, failed = base, False, {}
        for name, program in self._groups[group]:
            if stale and _reads_variables(program.source):
                inputs, stale = activation({**values, "variables": dict(variables)}), False
            try:
                variables[name] = program.evaluate(inputs)
                stale = True
            except CelEvaluationError as exc:
                failed[name] = str(exc)
        if stale:
            inputs = activation({**values, "variables": variables})
        found = memo[key] = (inputs, failed)
        return found


def _truth(program: Program, inputs: Any, what: str) -> bool:
    try:
        value = program.evaluate(inputs)
    except CelEvaluationError as exc:
        raise CustomRuleError(f"{what} {program.source!r}: {exc}") from None
    if not isinstance(value, bool):
        raise CustomRuleError(
            f"{what} {program.source!r} must evaluate to a bool, not {type(value).__name__}"
        )
    return value


def _message(validation: Validation, inputs: Any) -> str:
    """The API server's choice: the messageExpression's string when it gives a non-empty one
    (any failure falls back), else ``message``, else the failed expression."""
    if validation.message_expression is not None:
        try:
            value = validation.message_expression.evaluate(inputs)
        except CelEvaluationError:
            value = None
        if isinstance(value, str) and value.strip():
            return value
    if validation.message:
        return validation.message
    return f"failed expression: {validation.expression.source}"


def parse_path(text: str) -> FieldPath:
    """``metadata.labels`` / ``spec.template.spec.containers[0].image`` /
    ``metadata.labels[team]`` as a field path; ValueError if malformed."""
    out: list[str | int | Key] = []
    for part in text.split(".") if text else []:
        name, _, rest = part.partition("[")
        if not name and not (rest and out):
            raise ValueError(f"empty segment in path {text!r}")
        if name:
            out.append(name)
        while rest:
            inner, sep, rest = rest.partition("]")
            if not sep or not inner or (rest and not rest.startswith("[")):
                raise ValueError(f"malformed index in path {text!r}")
            rest = rest[1:]
            out.append(int(inner) if inner.isdigit() else Key(inner))
    return tuple(out)


def _path(view: JobView, path: str) -> FieldPath:
    """Paths are the object's; one starting with ``job`` is the Job spec's (``spec`` of a Job,
    ``spec.jobTemplate.spec`` of a CronJob), like ``variables.job``."""
    parsed = parse_path(path)
    if parsed[:1] == ("job",):
        return view.at(*parsed[1:])
    return parsed


def denial_message(rule: str, message: str) -> str:
    """The API server's words for a ValidatingAdmissionPolicy that denies (its exported name)."""
    name = f"jobguard-{rule}"
    return f"ValidatingAdmissionPolicy '{name}' with binding '{name}' denied request: {message}"


def warning_message(rule: str, message: str) -> str:
    """The API server's words for a ValidatingAdmissionPolicy whose binding warns."""
    name = f"jobguard-{rule}"
    return (
        f"Validation failed for ValidatingAdmissionPolicy '{name}' with binding '{name}': {message}"
    )
