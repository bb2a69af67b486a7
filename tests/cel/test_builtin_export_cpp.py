"""The built-in rules' exported ValidatingAdmissionPolicies on the C++ evaluator (the CEL
project's own implementation, tests/cel/vap.py), over every rule fixture: each finds what
/validate finds, as tests/export/test_parity.py checks on cel-python.

Policies using ``quantity()`` (Kubernetes' quantity library, which the Python binding of the
C++ evaluator cannot carry) cannot be evaluated here: they stay with the cel-python stand-in,
and the test says which they are.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from jobguard.cel.program import CelCompileError, compile_expression
from jobguard.webhook import admission
from tests.cel import vap
from tests.export.test_parity import (
    ACTIONS,
    CASES,
    VERSION,
    as_stored,
    decodable,
    exported,
    namespace_of,
    pattern,
    review,
)
from tests.helpers import policy_for

_MESSAGE = re.compile(r"^\[(?P<rule>[a-z0-9-]+)\] (?P<path>[^:]+): ")


def _compiles(policy: dict[str, Any]) -> bool:
    spec = policy["spec"]
    sources = [c["expression"] for c in spec.get("matchConditions", [])]
    sources += [v["expression"] for v in spec.get("variables", [])]
    for validation in spec["validations"]:
        sources += [validation["expression"], validation.get("messageExpression", "true")]
    try:
        for source in sources:
            compile_expression(source)
    except CelCompileError:
        return False
    return True


@cache
def evaluable(policy_name: str | None) -> tuple[list[dict[str, Any]], frozenset[str]]:
    """The exported objects the C++ evaluator can run, and the rules left out."""
    objects, _native = exported(policy_name)
    left_out = {
        o["metadata"]["labels"]["jobguard.dev/rule"]
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicy" and not _compiles(o)
    }
    kept = [o for o in objects if o["metadata"]["labels"]["jobguard.dev/rule"] not in left_out]
    return kept, frozenset(left_out)


def cpp_verdicts(policy_name: str | None, obj: dict[str, Any]) -> tuple[vap.Verdict, ...]:
    """The C++ evaluator's verdicts on ``obj`` (as stored) under the evaluable exported policy.

    Evaluated once per fixture object: the per-object comparison below and the check that
    every native rule denies or warns on some fixture both read it."""
    return _cpp_verdicts(policy_name, json.dumps(obj, sort_keys=True))


@cache
def _cpp_verdicts(policy_name: str | None, text: str) -> tuple[vap.Verdict, ...]:
    obj = json.loads(text)
    objects, _left_out = evaluable(policy_name)
    return tuple(vap.judge(objects, obj, "CREATE", namespace_of(obj)))


@pytest.mark.parametrize(("policy_name", "obj"), CASES)
def test_exported_validations_on_the_cpp_evaluator_find_what_validate_finds(
    policy_name: str | None, obj: dict[str, Any]
) -> None:
    if not decodable(obj):
        pytest.skip("the API server rejects this object: it never reaches validating admission")
    obj = as_stored(obj)
    _objects, left_out = evaluable(policy_name)
    _all, native = exported(policy_name)
    namespace = namespace_of(obj)
    outcome = admission.validate(review(obj, namespace), policy_for(policy_name), VERSION)
    webhook = {
        (f.rule, pattern(f.field), ACTIONS[f.action.value])
        for f in outcome.findings
        if f.rule in native - left_out
    }
    found = set()
    for verdict in cpp_verdicts(policy_name, obj):
        match = _MESSAGE.match(verdict.message)
        assert match is not None, verdict.message
        found.add((match["rule"], match["path"], verdict.action))
    assert found == webhook


def test_only_the_quantity_comparisons_are_left_to_cel_python() -> None:
    left_out: set[str] = set()
    for param in CASES:
        left_out |= evaluable(param.values[0])[1]
    assert left_out == {"resources"}


def test_every_native_rule_evaluated_here_denies_or_warns_on_some_fixture() -> None:
    compared: set[str] = set()
    for param in CASES:
        policy_name, obj = param.values
        if not decodable(obj):
            continue
        verdicts = cpp_verdicts(policy_name, as_stored(obj))
        compared |= {v.policy.removeprefix("jobguard-") for v in verdicts}
    _objects, native = exported(None)
    # restart-policy: every fixture of it is an object the API server rejects (see
    # tests/export/test_parity.py); resources: quantity(), left to cel-python.
    assert native - {"restart-policy", "resources"} <= compared
