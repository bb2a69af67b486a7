"""``jobguard test``: unit tests for policies, as ``kyverno test`` and ``gator verify`` offer.

A test file (any ``*.yaml``/``*.yml`` whose document is ``kind: Test``)::

    apiVersion: jobguard.dev/v1
    kind: Test
    name: the example's custom rules          # optional; the file name otherwise
    policies: [policy.yaml]                   # relative to the test file; layered in order
    resources:                                # files (relative), or objects written inline
      - jobs.yaml
      - {apiVersion: batch/v1, kind: Job, metadata: {name: inline}, spec: {...}}
    old_resources: [stored.yaml]              # optional: the old objects of UPDATEs
    results:
      - rule: team-label                      # a rule name or code (built-in or custom)
        resources: [Job/no-team, Job/prod/x]  # Kind/name or Kind/namespace/name
        result: fail                          # pass | fail | skip | error
        message: every Job needs a team label # optional: one finding's message, exactly
      - rule: team-is-kept
        resource: Job/moved                   # one resource
        old: Job/moved                        # optional: an UPDATE from this old_resources one
        result: fail

Each object is judged as ``jobguard lint`` judges it (a manifest: the CREATE it will be; with
``old``: an UPDATE). ``fail``: the rule reports a finding; ``skip``: the rule does not judge the
object (off, another kind, outside its scope, exempted, suppressed, a custom rule's match
conditions false); ``error``: the rule failed on it; ``pass``: none of these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobguard.cel.custom_rule import CustomRuleError
from jobguard.core.engine import INTERNAL_ERROR_RULE, applies, evaluate
from jobguard.core.rule import Rule
from jobguard.core.subject import Operation, Subject
from jobguard.core.view import JobView
from jobguard.policy import Policy, PolicyError, load_policy
from jobguard.rules import REGISTRY
from jobguard.yamlsource import iter_objects, parse_stream

__all__ = ["Case", "TestFileError", "discover", "run_file"]

API_VERSION = "jobguard.dev/v1"
RESULTS = ("pass", "fail", "skip", "error")
_KEYS = ("apiVersion", "kind", "name", "policies", "resources", "old_resources", "results")
_RESULT_KEYS = ("rule", "resource", "resources", "old", "result", "message")


class TestFileError(Exception):
    """A test file that cannot be run (its policy, a resource or a result entry is wrong)."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Case:
    """One expectation of one rule on one resource, and what happened."""

    file: str
    test: str
    rule: str
    resource: str
    expected: str
    actual: str
    expected_message: str | None = None
    messages: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        if self.expected != self.actual:
            return False
        return self.expected_message is None or self.expected_message in self.messages


def is_test_file(path: Path) -> bool:
    try:
        stream = parse_stream(path.read_bytes())
    except OSError:
        return False
    docs = [d.data for d in stream.documents if d.data is not None]
    return (
        len(docs) == 1
        and isinstance(docs[0], dict)
        and docs[0].get("kind") == "Test"
        and docs[0].get("apiVersion") == API_VERSION
    )


def discover(paths: Sequence[str]) -> list[Path]:
    """The test files among ``paths`` (files, or directories searched recursively)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
            found += [p for p in candidates if p.is_file() and is_test_file(p)]
        else:
            found.append(path)
    return found


def _resource_id(obj: dict[str, Any]) -> list[str]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    kind, name, namespace = obj.get("kind"), meta.get("name"), meta.get("namespace")
    ids = [f"{kind}/{name}"]
    if namespace:
        ids.append(f"{kind}/{namespace}/{name}")
    return ids


def _load_resources(base: Path, entries: Any, key: str = "resources") -> dict[str, dict[str, Any]]:
    if not isinstance(entries, list) or not entries:
        raise TestFileError(f"{key}: a list of files or objects is required")
    objects: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, dict):
            objects.append(entry)
            continue
        if not isinstance(entry, str):
            raise TestFileError(f"resources: {entry!r} is neither a file nor an object")
        try:
            raw = (base / entry).read_bytes()
        except OSError as exc:
            raise TestFileError(f"resources: cannot read {entry}: {exc.strerror or exc}") from None
        stream = parse_stream(raw)
        if stream.errors:
            err = stream.errors[0]
            raise TestFileError(f"{entry}:{err.line}:{err.column}: {err.message}")
        objects += [o.data for o in iter_objects(stream) if isinstance(o.data, dict)]
    by_id: dict[str, dict[str, Any]] = {}
    for obj in objects:
        full = _resource_id(obj)[-1]
        if full in by_id:
            raise TestFileError(f"{key}: {full} is there twice")
        for name in _resource_id(obj):
            by_id[name] = obj
    return by_id


def _find_rule(policy: Policy, name: str) -> Rule:
    for rule in policy.extend(REGISTRY).rules:
        if name in (rule.name, rule.code) or name.upper() == rule.code:
            return rule
    raise TestFileError(f"results: unknown rule {name!r}")


def outcome(
    policy: Policy, rule: Rule, obj: dict[str, Any], old: dict[str, Any] | None
) -> tuple[str, tuple[str, ...]]:
    """What ``rule`` does with ``obj`` (pass, fail, skip, error) and its findings' messages."""
    view = JobView.of(obj)
    if view is None:
        raise TestFileError(f"{_resource_id(obj)[0]} is not a Job or CronJob")
    subject = (
        Subject.of(view, Operation.UPDATE, old_object=old) if old is not None else Subject.of(view)
    )
    report = evaluate(subject, policy, rules=REGISTRY, patches=False)
    mine = [f for f in report.findings if f.rule == rule.name]
    if any(f.rule == INTERNAL_ERROR_RULE and f.failed_rule == rule.name for f in report.findings):
        return "error", ()
    if mine:
        return "fail", tuple(f.message for f in mine)
    if any(f.rule == rule.name for f in report.suppressed):
        return "skip", ()
    active = dict(policy.active_rules(policy.extend(REGISTRY).rules, view.kind))
    settings = next((s for r, s in active.items() if r.name == rule.name), None)
    in_scope = policy.in_scope(view.namespace, view.labels)
    if settings is None or not applies(rule, settings, in_scope, view):
        return "skip", ()
    custom = next((c for c in policy.custom if c.name == rule.name), None)
    try:
        if custom is not None and not custom.matches(view, subject):
            return "skip", ()
    except CustomRuleError:
        return "error", ()
    return "pass", ()


def _entries(doc: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise TestFileError("results: a list of expected results is required")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise TestFileError(f"results[{i}]: must be a mapping")
        unknown = sorted(set(entry) - set(_RESULT_KEYS))
        if unknown:
            raise TestFileError(
                f"results[{i}]: unknown key {unknown[0]!r}; expected: {', '.join(_RESULT_KEYS)}"
            )
        if entry.get("result") not in RESULTS:
            raise TestFileError(f"results[{i}].result: must be one of {', '.join(RESULTS)}")
        yield i, entry


def run_file(path: Path) -> list[Case]:
    """Run one test file; TestFileError when it cannot be run."""
    try:
        stream = parse_stream(path.read_bytes())
    except OSError as exc:
        raise TestFileError(f"cannot read: {exc.strerror or exc}") from None
    docs = [d.data for d in stream.documents if d.data is not None]
    if stream.errors or len(docs) != 1 or not isinstance(docs[0], dict):
        raise TestFileError("a test file holds one YAML mapping (kind: Test)")
    doc = docs[0]
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != "Test":
        raise TestFileError(f"not a test file: apiVersion {API_VERSION} and kind Test expected")
    unknown = sorted(set(doc) - set(_KEYS))
    if unknown:
        raise TestFileError(f"unknown key {unknown[0]!r}; expected: {', '.join(_KEYS)}")
    base = path.parent
    policies = doc.get("policies", [])
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise TestFileError("policies: a list of policy files is required")
    try:
        policy = load_policy([p if p.startswith("jobguard:") else str(base / p) for p in policies])
    except PolicyError as exc:
        raise TestFileError(f"the policy has errors:\n{exc}") from None
    resources = _load_resources(base, doc.get("resources"))
    old_resources = (
        _load_resources(base, doc["old_resources"], "old_resources")
        if "old_resources" in doc
        else {}
    )
    test = str(doc.get("name") or path.name)
    cases = []
    for i, entry in _entries(doc):
        rule = _find_rule(policy, str(entry.get("rule")))
        names = entry.get("resources", [entry["resource"]] if "resource" in entry else [])
        if not isinstance(names, list) or not names:
            raise TestFileError(f"results[{i}]: name the resource or resources judged")
        old_name = entry.get("old")
        old = None
        if old_name is not None:
            if old_name not in old_resources:
                raise TestFileError(f"results[{i}].old: no old_resources entry {old_name!r}")
            old = old_resources[old_name]
        message = entry.get("message")
        for name in names:
            if name not in resources:
                raise TestFileError(f"results[{i}]: no resource {name!r}")
            actual, messages = outcome(policy, rule, resources[name], old)
            cases.append(
                Case(
                    str(path),
                    test,
                    rule.name,
                    str(name),
                    str(entry["result"]),
                    actual,
                    None if message is None else str(message),
                    messages,
                )
            )
    return cases
