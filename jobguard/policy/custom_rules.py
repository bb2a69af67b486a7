"""Reading a policy file's ``custom_rules:`` (see :mod:`jobguard.cel.custom_rule`)::

    custom_rules:
      - name: team-label                # kebab-case, unique beside every other rule name
        code: JGC001                    # optional; a stable code for suppressions and reports
        description: Every Job names its owning team.
        action: deny                    # deny | warn | audit | off (default: deny)
        kinds: [Job, CronJob]           # default: both
        match_conditions:               # optional, as a ValidatingAdmissionPolicy's
          - {name: not-system, expression: "!object.metadata.namespace.startsWith('kube-')"}
        variables:                      # optional; variables.job is predefined
          - {name: labels, expression: "object.metadata.?labels.orValue({})"}
        validations:                    # at least one
          - expression: "'team' in variables.labels"
            message: every Job needs a team label          # or messageExpression
            path: metadata.labels       # where lint points; ``job.`` = the Job spec

Every expression is compiled here, when the policy is loaded: a syntax or type error, an
unknown variable or function is a policy error at the expression's own line and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from jobguard.core.model import Action
from jobguard.core.paths import FieldPath

if TYPE_CHECKING:
    # The CEL library is imported when a policy has custom rules, not by every policy load
    # (about 10 ms and 13 MiB of a one-file lint).
    from jobguard.cel.custom_rule import CustomRule, Validation
    from jobguard.cel.program import Program

__all__ = ["RULE_KEYS", "custom_rules_schema", "read_custom_rules"]

RULE_KEYS = (
    "name",
    "code",
    "description",
    "action",
    "kinds",
    "match_conditions",
    "variables",
    "validations",
)
_NAMED_KEYS = ("name", "expression")
_VALIDATION_KEYS = ("expression", "message", "messageExpression", "path")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CODE = re.compile(r"^JGC[0-9]{3,}$")
# A variable's name is a CEL identifier; a match condition's a Kubernetes qualified name.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUALIFIED = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
KINDS = ("Job", "CronJob")
_VARIABLES = re.compile(r"\bvariables\b")
#: Variables every custom rule has (variables.job: the Job spec of a Job or CronJob).
RESERVED_VARIABLES = ("job",)


class Reader(Protocol):
    """What the policy loader's reader offers (positions of one file's paths)."""

    @property
    def document(self) -> Any: ...

    @property
    def lines(self) -> Sequence[str]: ...

    def problem(self, path: FieldPath, message: str) -> None: ...

    def problem_at(self, line: int, column: int, message: str) -> None: ...

    def mapping(self, value: Any, path: FieldPath, allowed: Sequence[str]) -> dict[str, Any]: ...

    def str_list(self, value: Any, path: FieldPath) -> tuple[str, ...]: ...


def _value_node(node: Any, path: FieldPath) -> Any:
    for seg in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == seg), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int):
            node = node.value[seg] if 0 <= seg < len(node.value) else None
        else:
            return None
    return node


def _expression_position(
    document: Any, lines: Sequence[str], path: FieldPath, line: int, column: int
) -> tuple[int, int]:
    """The file position of ``line``:``column`` inside the expression written at ``path``.

    Exact for plain, quoted and literal block (``|``) scalars; folded scalars (``>``) and
    escapes inside quoted ones may shift the column.
    """
    node = _value_node(getattr(document, "node", None), path)
    if not isinstance(node, yaml.ScalarNode):
        return document.position(path) if document is not None else (1, 1)
    start = node.start_mark
    if node.style in ("|", ">"):
        # The content starts on the next line, indented like its first line.
        first = next((t for t in lines[start.line + 1 :] if t.strip()), "")
        indent = len(first) - len(first.lstrip(" "))
        return start.line + 1 + line, indent + column
    quote = 1 if node.style in ("'", '"') else 0
    if line == 1:
        return start.line + 1, start.column + quote + column
    return start.line + line, column


def _compile(reader: Reader, value: Any, path: FieldPath, what: str) -> Program | None:
    from jobguard.cel.program import CelCompileError, compile_expression

    if not isinstance(value, str) or not value.strip():
        reader.problem(path, f"{what} must be a non-empty CEL expression (a string)")
        return None
    try:
        return compile_expression(value)
    except CelCompileError as exc:
        for problem in exc.problems:
            line, column = _expression_position(
                reader.document, reader.lines, path, problem.line, problem.column
            )
            reader.problem_at(line, column, f"{_dotted(path)}: {problem.message}")
        return None


def _dotted(path: FieldPath) -> str:
    return "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)
    )


def _named(
    reader: Reader,
    value: Any,
    path: FieldPath,
    what: str,
    pattern: re.Pattern[str],
    reserved: Sequence[str] = (),
) -> tuple[tuple[str, Program], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.problem(path, f"must be a list of {{name, expression}}, not {type(value).__name__}")
        return ()
    out: list[tuple[str, Program]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        ipath = (*path, i)
        body = reader.mapping(item, ipath, _NAMED_KEYS)
        name = body.get("name")
        if not isinstance(name, str) or not pattern.match(name):
            kind = "a CEL identifier" if pattern is _IDENTIFIER else "a qualified name"
            reader.problem(
                (*ipath, "name") if "name" in body else ipath, f"a {what} needs a name ({kind})"
            )
            name = None
        elif name in seen or name in reserved:
            reader.problem((*ipath, "name"), f"{what} name {name!r} is already used")
        program = _compile(reader, body.get("expression"), (*ipath, "expression"), "expression")
        if program is not None and what == "match condition" and _VARIABLES.search(program.source):
            # As in a ValidatingAdmissionPolicy: variables are evaluated after the conditions.
            reader.problem(
                (*ipath, "expression"),
                "a match condition cannot read variables (only object, "
                "oldObject, request and params, as in a ValidatingAdmissionPolicy)",
            )
            program = None
        if name and program is not None:
            seen.add(name)
            out.append((name, program))
    return tuple(out)


def _validations(reader: Reader, value: Any, path: FieldPath) -> tuple[Validation, ...]:
    from jobguard.cel.custom_rule import Validation, parse_path

    if not isinstance(value, list) or not value:
        reader.problem(path, "a custom rule needs at least one validation (a list)")
        return ()
    out = []
    for i, item in enumerate(value):
        ipath = (*path, i)
        body = reader.mapping(item, ipath, _VALIDATION_KEYS)
        expression = _compile(reader, body.get("expression"), (*ipath, "expression"), "expression")
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            reader.problem((*ipath, "message"), "must be a string")
            message = None
        message_expression = None
        if "messageExpression" in body:
            message_expression = _compile(
                reader,
                body["messageExpression"],
                (*ipath, "messageExpression"),
                "messageExpression",
            )
        field = body.get("path", "")
        if not isinstance(field, str):
            reader.problem((*ipath, "path"), "must be a field path such as metadata.labels")
            field = ""
        else:
            try:
                parse_path(field)
            except ValueError as exc:
                reader.problem((*ipath, "path"), str(exc))
                field = ""
        if expression is not None:
            out.append(Validation(expression, message, message_expression, field))
    return tuple(out)


def read_custom_rules(
    reader: Reader, value: Any, taken: Sequence[str], taken_codes: Sequence[str], file: str
) -> list[CustomRule]:
    """The custom rules of one file; problems go to ``reader``. ``taken``: every rule name
    already known (built-in and custom), ``taken_codes`` likewise for codes."""
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problem(("custom_rules",), "must be a list of custom rules")
        return []
    from jobguard.cel.custom_rule import CustomRule

    out: list[CustomRule] = []
    names, codes = set(taken), set(taken_codes)
    for i, item in enumerate(value):
        path: FieldPath = ("custom_rules", i)
        if not isinstance(item, dict):
            reader.problem(path, "a custom rule is a mapping")
            continue
        errors_before = _count(reader)
        body = reader.mapping(item, path, RULE_KEYS)
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            reader.problem(
                (*path, "name") if "name" in body else path,
                "a custom rule needs a kebab-case name (a-z, 0-9, -)",
            )
            name = None
        elif name in names:
            reader.problem(
                (*path, "name"), f"rule name {name!r} is already taken (built-in or custom)"
            )
        code = body.get("code", name)
        if "code" in body and (not isinstance(code, str) or not _CODE.match(code)):
            reader.problem(
                (*path, "code"), "a custom rule's code is JGC and at least three digits (JGC001)"
            )
        elif "code" in body and code in codes:
            reader.problem((*path, "code"), f"code {code!r} is already taken")
        action_value = body.get("action", Action.DENY.value)
        if action_value is False:  # YAML 1.1 reads an unquoted ``off`` as false
            action_value = Action.OFF.value
        try:
            action = Action(action_value)
        except ValueError:
            reader.problem((*path, "action"), "must be one of deny, warn, audit, off")
            action = Action.DENY
        kinds = reader.str_list(body.get("kinds"), (*path, "kinds")) if "kinds" in body else KINDS
        for j, kind in enumerate(kinds):
            if kind not in KINDS:
                reader.problem((*path, "kinds", j), f"must be Job or CronJob, not {kind!r}")
        if not kinds:
            reader.problem((*path, "kinds"), "names at least one of Job, CronJob")
        description = body.get("description", "")
        if not isinstance(description, str):
            reader.problem((*path, "description"), "must be a string")
            description = ""
        conditions = _named(
            reader,
            body.get("match_conditions"),
            (*path, "match_conditions"),
            "match condition",
            _QUALIFIED,
        )
        variables = _named(
            reader,
            body.get("variables"),
            (*path, "variables"),
            "variable",
            _IDENTIFIER,
            reserved=RESERVED_VARIABLES,
        )
        validations = _validations(reader, body.get("validations"), (*path, "validations"))
        if name is None or _count(reader) != errors_before:
            continue
        names.add(name)
        codes.add(str(code))
        line, _column = reader.document.position(path)
        out.append(
            CustomRule(
                name=name,
                code=str(code),
                action=action,
                kinds=tuple(kinds),
                match_conditions=conditions,
                variables=variables,
                validations=validations,
                description=description,
                source=f"{file}:{line}",
            )
        )
    return out


def _count(reader: Reader) -> int:
    return len(getattr(reader, "problems", ()))


def custom_rules_schema() -> dict[str, Any]:
    """The JSON Schema of ``custom_rules:`` (the shape; the loader compiles the expressions)."""
    expression = {"type": "string", "pattern": r"\S", "description": "A CEL expression."}

    def named(pattern: re.Pattern[str], reserved: Sequence[str] = ()) -> dict[str, Any]:
        name: dict[str, Any] = {"type": "string", "pattern": pattern.pattern}
        if reserved:
            name["not"] = {"enum": list(reserved)}
        listed = {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "expression"],
                "properties": {"name": name, "expression": expression},
            },
        }
        return {"anyOf": [listed, {"type": "null"}]}  # null: none, as the reader takes it

    validation = {
        "type": "object",
        "additionalProperties": False,
        "required": ["expression"],
        "properties": {
            "expression": {**expression, "description": "True when the object is valid."},
            "message": {"type": ["string", "null"]},
            "messageExpression": {
                **expression,
                "description": "A CEL expression giving the message.",
            },
            "path": {
                "type": "string",
                "description": "Where the finding points: the object's field path, or job.* "
                "for the Job spec of a Job or CronJob.",
            },
        },
    }
    properties: dict[str, Any] = {
        "name": {"type": "string", "pattern": _NAME.pattern},
        "code": {"type": "string", "pattern": _CODE.pattern},
        "description": {"type": "string"},
        "action": {
            "anyOf": [{"enum": [a.value for a in Action]}, {"const": False}],
            "default": Action.DENY.value,
        },
        "kinds": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
        "match_conditions": named(_QUALIFIED),
        "variables": named(_IDENTIFIER, reserved=RESERVED_VARIABLES),
        "validations": {"type": "array", "minItems": 1, "items": validation},
    }
    missing = [k for k in RULE_KEYS if k not in properties]
    assert not missing, f"custom_rules_schema does not describe {missing}"
    return {
        "description": "Your own rules in CEL, as ValidatingAdmissionPolicy validations "
        "(docs/custom-rules.md).",
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "validations"],
                    "properties": properties,
                },
            },
            {"type": "null"},
        ],
    }
