"""Loading policy files.

A policy file::

    apiVersion: jobguard.dev/v1
    kind: Policy
    extends: [jobguard:default]        # files to layer under this one (relative paths or jobguard:NAME)
    scope:
      namespaces: {include: ["*"], exclude: [kube-system]}
      labels: {matchLabels: {...}, matchExpressions: [...]}
    suppressions:
      allowed: true                    # honour suppress.jobguard.dev/<rule> annotations
      forbid: [restart-policy]         # rules no annotation may silence
      suppressible: [backoff-limit]    # deny rules an annotation may silence (default none)
    trust:
      cronjob_controllers: [system:serviceaccount:kube-system:cronjob-controller]
                                       # who creates CronJobs' scheduled runs (default: the
                                       # controller's service account and the controller manager)
    rules:
      backoff-limit: {action: deny, default: 4, max: 10}
    exemptions:                        # rules that do not apply to matching objects
      - rules: [resources, backoff-limit]  # rule names, or ["*"] for every rule
        reason: vendored chart, tracked upstream  # required
        kinds: [CronJob]               # optional selectors; all given must match
        namespaces: ["monitoring-*"]   # globs
        names: ["prometheus-*"]        # globs
        files: ["charts/vendor/*"]     # globs on the path relative to the working
                                       # directory (lint only: the webhook has no file)

Layering: files are applied in order (``extends`` first, then the file itself; several
``--policy`` options left to right). A later file overrides an earlier one key by key inside a
rule; lists are replaced whole, except ``suppressions.forbid``, which accumulates: a team file can
add to the organisation's forbidden list, never take from it. ``exemptions`` accumulate too.
``trust.cronjob_controllers`` and ``suppressions.suppressible`` are replaced whole by a later
file that sets them; a rule in ``forbid`` stays unsuppressible whatever ``suppressible`` says.

Every unknown key and bad value is an error naming the file, line and column; nothing is applied
from a policy that has any error.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import yaml

from jobguard.core.kubernetes.controllers import CRONJOB_CONTROLLER_USERS
from jobguard.core.kubernetes.selectors import Requirement
from jobguard.core.model import Action
from jobguard.core.paths import FieldPath, field_path
from jobguard.policy.custom_rules import read_custom_rules
from jobguard.policy.model import Exemption, Policy, RuleSettings, Scope
from jobguard.yamlsource import Document, parse_stream

if TYPE_CHECKING:
    from jobguard.cel.custom_rule import CustomRule

API_VERSION = "jobguard.dev/v1"
BUILTIN_PREFIX = "jobguard:"
MAX_POLICY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # about the whole file (it cannot be read)
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class PolicyError(Exception):
    """The policy could not be loaded; ``problems`` lists every error found."""

    def __init__(self, problems: Sequence[PolicyProblem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def bundled_policy_dir() -> Path:
    """Where the policies shipped with jobguard live (installed wheel or source checkout)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_policies", here.parent / "policies"):
        if (candidate / "default.yaml").is_file():
            return candidate
    return here / "_policies"


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class _Origin:
    file: str
    document: Document
    text: str = ""  # the file's text: positions inside block scalars need its lines


@dataclass
class _Reader:
    """Validation of one parsed file, collecting problems with positions."""

    origin: _Origin
    problems: list[PolicyProblem]

    @property
    def document(self) -> Document:
        return self.origin.document

    @property
    def lines(self) -> list[str]:
        return self.origin.text.splitlines()

    def problem_at(self, line: int, column: int, message: str) -> None:
        self.problems.append(PolicyProblem(self.origin.file, line, column, message))

    def problem(self, path: FieldPath, message: str) -> None:
        line, col = self.origin.document.position(path)
        where = field_path(path)
        self.problems.append(
            PolicyProblem(self.origin.file, line, col, f"{where}: {message}" if where else message)
        )

    def mapping(self, value: Any, path: FieldPath, allowed: Sequence[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {_type_name(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.problem(
                    (*path, str(key)),
                    f"unknown key {key!r}{_suggest(str(key), allowed)}; expected one of: {', '.join(allowed)}",
                )
        return {k: v for k, v in value.items() if k in allowed}

    def str_list(self, value: Any, path: FieldPath) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(path, "must be a list of strings")
            return ()
        return tuple(value)


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), "null" if value is None else type(value).__name__)


# -- options ----------------------------------------------------------------------------------


def _coerce(value: Any, hint: Any) -> tuple[bool, Any]:
    """(ok, value converted to the option's type) for the simple types options use."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return True, None
        for arg in args:
            if arg is type(None):
                continue
            ok, converted = _coerce(value, arg)
            if ok:
                return True, converted
        return False, None
    if origin is Literal:
        return value in typing.get_args(hint), value
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            return False, None
        items = []
        for item in value:
            ok, converted = _coerce(item, item_hint)
            if not ok:
                return False, None
            items.append(converted)
        return True, tuple(items)
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool), float(
            value
        ) if isinstance(value, (int, float)) else None
    if hint is str:
        return isinstance(value, str), value
    return False, None


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        type(None): "null",
    }.get(hint, str(hint))


# -- the file format --------------------------------------------------------------------------

_TOP_KEYS = (
    "apiVersion",
    "kind",
    "metadata",
    "extends",
    "scope",
    "suppressions",
    "rules",
    "exemptions",
    "on_rule_error",
    "restated_api_defaults",
    "trust",
    "custom_rules",
)
_TRUST_KEYS = ("cronjob_controllers",)
#: What a rule that crashes on an object does to it (``warn``: allowed with a warning).
ON_RULE_ERROR = ("warn", "deny")
#: The severity of a finding whose only fix writes what the Job gets anyway (the API server's
#: default): ``info`` (the default: nothing to act on) or ``action`` (the rule's action decides,
#: for policies that want every value written out).
RESTATED_API_DEFAULTS = ("info", "action")
_EXEMPTION_KEYS = ("rules", "reason", "kinds", "namespaces", "names", "files")
_EXEMPTION_SELECTORS = ("kinds", "namespaces", "names", "files")
_SCOPE_KEYS = ("namespaces", "labels")
_RULE_RESERVED = ("action", "scope")


@dataclass
class _Layer:
    """The merged, validated raw settings of all files read so far."""

    scope: tuple[Scope, _Origin, FieldPath] | None = None
    suppressions_allowed: bool | None = None
    on_rule_error: str | None = None
    restated_api_defaults: str | None = None
    forbid: set[str] = dataclasses.field(default_factory=set)
    cronjob_controllers: tuple[str, ...] | None = None
    suppressible: frozenset[str] = frozenset()
    #: Rules no annotation may ever silence (the rules' own declaration), to refuse listing them.
    never_suppressible: frozenset[str] = frozenset()
    rules: dict[str, dict[str, tuple[Any, _Origin, FieldPath]]] = dataclasses.field(
        default_factory=dict
    )
    sources: list[str] = dataclasses.field(default_factory=list)
    exemptions: list[Exemption] = dataclasses.field(default_factory=list)
    custom_rules: list[CustomRule] = dataclasses.field(default_factory=list)


def _read_scope(reader: _Reader, value: Any, path: FieldPath) -> Scope:
    body = reader.mapping(value, path, _SCOPE_KEYS)
    ns = reader.mapping(body.get("namespaces"), (*path, "namespaces"), ("include", "exclude"))
    include = (
        reader.str_list(ns.get("include"), (*path, "namespaces", "include"))
        if "include" in ns
        else ("*",)
    )
    exclude = reader.str_list(ns.get("exclude"), (*path, "namespaces", "exclude"))
    labels_path = (*path, "labels")
    labels = reader.mapping(body.get("labels"), labels_path, ("matchLabels", "matchExpressions"))
    match_labels = labels.get("matchLabels") or {}
    if not isinstance(match_labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in match_labels.items()
    ):
        reader.problem((*labels_path, "matchLabels"), "must map label keys to string values")
        match_labels = {}
    requirements: list[Requirement] = []
    exprs = labels.get("matchExpressions") or []
    if not isinstance(exprs, list):
        reader.problem((*labels_path, "matchExpressions"), "must be a list")
        exprs = []
    for i, expr in enumerate(exprs):
        epath = (*labels_path, "matchExpressions", i)
        body_e = reader.mapping(expr, epath, ("key", "operator", "values"))
        key, op = body_e.get("key"), body_e.get("operator")
        values = reader.str_list(body_e.get("values"), (*epath, "values"))
        if not isinstance(key, str) or not key:
            reader.problem((*epath, "key"), "a non-empty label key is required")
            continue
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            reader.problem((*epath, "operator"), "must be one of In, NotIn, Exists, DoesNotExist")
            continue
        if op in ("In", "NotIn") and not values:
            reader.problem((*epath, "values"), f"{op} needs at least one value")
        requirements.append(Requirement(key, op, values))
    return Scope(include, exclude, MappingProxyType(dict(match_labels)), tuple(requirements))


def _read_exemptions(reader: _Reader, value: Any, rule_names: Sequence[str]) -> list[Exemption]:
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problem(("exemptions",), f"must be a list of exemptions, not {_type_name(value)}")
        return []
    out: list[Exemption] = []
    for i, item in enumerate(value):
        path: FieldPath = ("exemptions", i)
        if not isinstance(item, dict):
            reader.problem(path, f"must be a mapping, not {_type_name(item)}")
            continue
        before = len(reader.problems)
        body = reader.mapping(item, path, _EXEMPTION_KEYS)
        rules = reader.str_list(body.get("rules"), (*path, "rules"))
        if "rules" not in body or (not rules and len(reader.problems) == before):
            reader.problem(path, 'an exemption names the rules it lifts (rule names, or ["*"])')
        for j, name in enumerate(rules):
            if name != "*" and name not in rule_names:
                reader.problem(
                    (*path, "rules", j), f"unknown rule {name!r}{_suggest(name, rule_names)}"
                )
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            reader.problem(
                (*path, "reason") if "reason" in body else path,
                "an exemption needs a reason (a non-empty string)",
            )
        selectors = {k: reader.str_list(body.get(k), (*path, k)) for k in _EXEMPTION_SELECTORS}
        for j, kind in enumerate(selectors["kinds"]):
            if kind not in ("Job", "CronJob"):
                reader.problem((*path, "kinds", j), f"must be Job or CronJob, not {kind!r}")
        if not any(selectors.values()):
            reader.problem(
                path,
                "an exemption needs at least one of kinds, namespaces, names, files "
                "(to turn a rule off everywhere, set its action to off)",
            )
        if len(reader.problems) == before:
            out.append(Exemption(rules, str(reason).strip(), **selectors))
    return out


def _missing_parent(parent: str, parent_path: str) -> str | None:
    """Why an ``extends`` entry names no policy file, said where the entry is written."""
    if parent.startswith(BUILTIN_PREFIX):
        bundled = sorted(p.stem for p in bundled_policy_dir().glob("*.yaml"))
        if parent[len(BUILTIN_PREFIX) :] not in bundled:
            names = ", ".join(BUILTIN_PREFIX + name for name in bundled)
            return f"no bundled policy {parent!r}{_suggest(parent, [BUILTIN_PREFIX + n for n in bundled])}; bundled: {names}"
        return None
    if not Path(parent_path).is_file():
        return f"no policy file {parent!r} (relative paths are read beside this file)"
    return None


def _read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _read_file(
    path: str,
    layer: _Layer,
    problems: list[PolicyProblem],
    rule_names: Sequence[str],
    chain: tuple[str, ...],
    read: Callable[[Path], bytes] = _read_bytes,
) -> None:
    display = path
    if path.startswith(BUILTIN_PREFIX):
        real = bundled_policy_dir() / (path[len(BUILTIN_PREFIX) :] + ".yaml")
    else:
        real = Path(path)
    key = str(real.resolve()) if real.exists() else str(real)
    if key in chain:
        problems.append(
            PolicyProblem(
                display, 1, 1, "extends itself (cycle: " + " -> ".join((*chain, key)) + ")"
            )
        )
        return
    try:
        raw = read(real)
    except OSError as exc:
        problems.append(
            PolicyProblem(display, 0, 0, f"cannot read policy file: {exc.strerror or exc}")
        )
        return
    stream = parse_stream(raw, max_bytes=MAX_POLICY_BYTES)
    for err in stream.errors:
        problems.append(PolicyProblem(display, err.line, err.column, err.message))
    docs = [d for d in stream.documents if d.data is not None]
    if stream.errors:
        return
    if len(docs) != 1:
        problems.append(
            PolicyProblem(
                display, 1, 1, f"a policy file holds exactly one YAML document, found {len(docs)}"
            )
        )
        return
    repeated = _repeated_keys(docs[0].node)
    for key_path, (line, column), first in repeated:
        problems.append(
            PolicyProblem(
                display,
                line,
                column,
                f"{field_path(key_path)}: repeated key (first at line {first}); "
                "YAML would keep only this one, so write each key once",
            )
        )
    if repeated:
        return
    reader = _Reader(_Origin(display, docs[0], raw.decode("utf-8", "replace")), problems)
    body = reader.mapping(docs[0].data, (), _TOP_KEYS)
    if not isinstance(docs[0].data, dict):
        return
    if body.get("apiVersion") != API_VERSION:
        reader.problem(("apiVersion",), f"must be {API_VERSION!r}")
    if body.get("kind") != "Policy":
        reader.problem(("kind",), "must be 'Policy'")

    extends = body.get("extends")
    if isinstance(extends, str):
        extends = [extends]
    parents = reader.str_list(extends, ("extends",))
    for index, parent in enumerate(parents):
        parent_path = parent if parent.startswith(BUILTIN_PREFIX) else str(real.parent / parent)
        missing = _missing_parent(parent, parent_path)
        if missing:
            reader.problem(("extends", index), missing)
            continue
        _read_file(parent_path, layer, problems, rule_names, (*chain, key), read)

    # Before everything that names rules: a file may configure, exempt or forbid suppressing
    # its own custom rules.
    custom = read_custom_rules(
        reader,
        body.get("custom_rules"),
        rule_names,
        [c.code for c in layer.custom_rules],
        display,
    )
    layer.custom_rules.extend(custom)
    if isinstance(rule_names, list):
        rule_names.extend(c.name for c in custom)

    if "scope" in body:
        layer.scope = (_read_scope(reader, body["scope"], ("scope",)), reader.origin, ("scope",))
    if "on_rule_error" in body:
        if body["on_rule_error"] in ON_RULE_ERROR:
            layer.on_rule_error = body["on_rule_error"]
        else:
            reader.problem(
                ("on_rule_error",),
                f"must be one of {', '.join(ON_RULE_ERROR)}, not {body['on_rule_error']!r}",
            )
    if "restated_api_defaults" in body:
        if body["restated_api_defaults"] in RESTATED_API_DEFAULTS:
            layer.restated_api_defaults = body["restated_api_defaults"]
        else:
            reader.problem(
                ("restated_api_defaults",),
                f"must be one of {', '.join(RESTATED_API_DEFAULTS)}, "
                f"not {body['restated_api_defaults']!r}",
            )
    supp = reader.mapping(
        body.get("suppressions"), ("suppressions",), ("allowed", "forbid", "suppressible")
    )
    if "allowed" in supp:
        if isinstance(supp["allowed"], bool):
            layer.suppressions_allowed = supp["allowed"]
        else:
            reader.problem(("suppressions", "allowed"), "must be true or false")
    for i, name in enumerate(reader.str_list(supp.get("forbid"), ("suppressions", "forbid"))):
        if name not in rule_names:
            reader.problem(
                ("suppressions", "forbid", i), f"unknown rule {name!r}{_suggest(name, rule_names)}"
            )
        layer.forbid.add(name)
    if "suppressible" in supp:
        at: FieldPath = ("suppressions", "suppressible")
        names = reader.str_list(supp["suppressible"], at)
        for i, name in enumerate(names):
            if name not in rule_names:
                reader.problem((*at, i), f"unknown rule {name!r}{_suggest(name, rule_names)}")
            elif name in layer.never_suppressible:
                reader.problem(
                    (*at, i),
                    f"{name} can never be suppressed by the object itself; "
                    "add an exemption instead",
                )
        layer.suppressible = frozenset(names)

    trust = reader.mapping(body.get("trust"), ("trust",), _TRUST_KEYS)
    if "cronjob_controllers" in trust:
        trust_path: FieldPath = ("trust", "cronjob_controllers")
        users = reader.str_list(trust["cronjob_controllers"], trust_path)
        if any(not user for user in users):
            reader.problem(trust_path, "must not contain an empty user name")
        layer.cronjob_controllers = users

    layer.exemptions.extend(_read_exemptions(reader, body.get("exemptions"), rule_names))

    rules = body.get("rules")
    if rules is not None and not isinstance(rules, dict):
        reader.problem(("rules",), "must be a mapping of rule name to settings")
        rules = {}
    for name, settings in (rules or {}).items():
        rpath: FieldPath = ("rules", str(name))
        if name not in rule_names:
            reader.problem(
                rpath,
                f"unknown rule {name!r}{_suggest(str(name), rule_names)}; `jobguard rules` lists them",
            )
            continue
        if not isinstance(settings, dict):
            reader.problem(rpath, f"must be a mapping of settings, not {_type_name(settings)}")
            continue
        merged = layer.rules.setdefault(str(name), {})
        for opt, value in settings.items():
            # Re-inserted, not overwritten: the last entry is always the latest file's.
            merged.pop(str(opt), None)
            merged[str(opt)] = (value, reader.origin, (*rpath, str(opt)))
    layer.sources.append(display)


def _repeated_keys(node: yaml.Node | None) -> list[tuple[FieldPath, tuple[int, int], int]]:
    """(path, position of the repeat, line of the first) for each key a mapping repeats.

    Positions come from the repeated key itself: after loading only the last value is left, and
    every later error would point at whichever copy the position lookup found first.
    """
    found: list[tuple[FieldPath, tuple[int, int], int]] = []
    stack: list[tuple[yaml.Node, FieldPath]] = [(node, ())] if node is not None else []
    seen: set[int] = set()
    while stack:
        current, path = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in current.value:
                if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                    continue
                mark = key.start_mark
                if key.value in first_line:
                    found.append(
                        (
                            (*path, key.value),
                            (mark.line + 1, mark.column + 1),
                            first_line[key.value],
                        )
                    )
                else:
                    first_line[key.value] = mark.line + 1
                stack.append((value, (*path, key.value)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(current.value))
    return sorted(found, key=lambda f: f[1])


def _compile_rule(
    rule: Any, raw: Mapping[str, tuple[Any, _Origin, FieldPath]], problems: list[PolicyProblem]
) -> RuleSettings:
    action = rule.default_action
    scope = Scope()
    hints = typing.get_type_hints(rule.options)
    fields = [f.name for f in dataclasses.fields(rule.options)]
    kwargs: dict[str, Any] = {}
    origins: dict[str, tuple[_Origin, FieldPath]] = {}
    for key, (value, origin, path) in raw.items():
        reader = _Reader(origin, problems)
        origins[key] = (origin, path)
        if key == "action":
            if value is False:
                # YAML 1.1 reads an unquoted ``off`` as false: ``action: off`` means off.
                value = Action.OFF.value
            try:
                action = Action(value)
            except ValueError:
                reader.problem(path, "must be one of deny, warn, audit, off")
        elif key == "scope":
            scope = _read_scope(reader, value, path)
        elif key not in fields:
            allowed = [*_RULE_RESERVED, *fields]
            reader.problem(
                path,
                f"unknown option {key!r} for rule {rule.name}{_suggest(key, allowed)}; expected one of: {', '.join(allowed)}",
            )
        else:
            ok, converted = _coerce(value, hints[key])
            if ok:
                kwargs[key] = converted
            else:
                reader.problem(path, f"must be {_describe(hints[key])}, not {value!r}")
    try:
        options = rule.options(**kwargs)
    except (TypeError, ValueError) as exc:  # pragma: no cover - guarded by the checks above
        options = rule.options()
        problems.append(PolicyProblem("<policy>", 0, 0, f"rule {rule.name}: {exc}"))
    validate = getattr(options, "validate", None)
    if validate is not None:
        # The latest file to change this rule made any conflict between its options: the
        # problem is reported there (a max below the inherited default is the user's file's
        # mistake, not the bundled policy's).
        for field_name, message in validate():
            if not origins:  # ``rule: {}``: only the rule's own defaults, which validate
                problems.append(PolicyProblem("<policy>", 0, 0, f"rule {rule.name}: {message}"))
                continue
            latest, latest_path = next(reversed(origins.values()))
            if field_name in origins and origins[field_name][0] is latest:
                origin, path = origins[field_name]
            else:  # from an extended policy, or the rule's own default: point at the rule
                origin, path = latest, latest_path[:-1]
                if field_name in origins:
                    message += f" ({field_name} comes from {origins[field_name][0].file})"
            _Reader(origin, problems).problem(path, message)
    return RuleSettings(action, options, scope)


def load_policy(
    paths: Sequence[str] = (),
    *,
    rules: Sequence[Any] | None = None,
    read: Callable[[Path], bytes] = _read_bytes,
) -> Policy:
    """Load and layer policy files (none: the bundled default). Raises PolicyError.

    ``read`` reads each file (``extends`` included) exactly once: the webhook's reloader passes
    one that records the bytes it parsed.
    """
    from jobguard.rules import ALL_RULES

    registry: list[Any] = list(ALL_RULES if rules is None else rules)
    names = [r.name for r in registry]  # custom rules' names join as the files declare them
    problems: list[PolicyProblem] = []
    layer = _Layer(never_suppressible=frozenset(r.name for r in registry if not r.suppressible))
    for path in paths or (BUILTIN_PREFIX + "default",):
        _read_file(path, layer, problems, names, (), read)
    compiled = {}
    registry.extend(c.rule() for c in layer.custom_rules)
    for rule in registry:
        if rule.name in layer.rules:
            compiled[rule.name] = _compile_rule(rule, layer.rules[rule.name], problems)
    if problems:
        raise PolicyError(problems)
    return Policy(
        rules=MappingProxyType(compiled),
        scope=layer.scope[0] if layer.scope else Scope(),
        suppressions_allowed=True
        if layer.suppressions_allowed is None
        else layer.suppressions_allowed,
        unsuppressible=frozenset(layer.forbid),
        suppressible=layer.suppressible,
        deny_on_rule_error=layer.on_rule_error == "deny",
        restated_defaults_as_info=layer.restated_api_defaults != "action",
        cronjob_controllers=CRONJOB_CONTROLLER_USERS
        if layer.cronjob_controllers is None
        else frozenset(layer.cronjob_controllers),
        sources=tuple(layer.sources),
        exemptions=tuple(layer.exemptions),
        custom=tuple(layer.custom_rules),
    )
