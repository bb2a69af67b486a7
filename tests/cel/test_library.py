"""The Kubernetes CEL library functions jobguard adds to the C++ evaluator, against the examples
Kubernetes documents for them (k8s.io/apiserver/pkg/cel/library: lists.go, regex.go; cel-go's
ext/sets.go), each evaluated through a compiled expression as a policy's would be."""

from __future__ import annotations

from typing import Any

import pytest

from jobguard.cel.program import (
    CelCompileError,
    CelEvaluationError,
    activation,
    compile_expression,
)


def run(source: str, obj: Any = None) -> Any:
    inputs = activation(
        {"object": obj, "oldObject": None, "request": {}, "params": None, "variables": {}}
    )
    return compile_expression(source).evaluate(inputs)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # lists.go
        ("[1, 2, 3].isSorted()", True),
        ("['a', 'b', 'b', 'c'].isSorted()", True),
        ("[2.0, 1.0].isSorted()", False),
        ("[1, 2, 3].sum()", 6),
        ("[1.0, 2.0, 3.0].sum()", 6.0),
        ("[].sum()", 0),
        ("[1, 2].min()", 1),
        ("[1, 2].max()", 2),
        ("['b', 'a'].min()", "a"),
        ("[1, 2, 2, 3].indexOf(2)", 1),
        ("['a', 'b', 'b', 'c'].lastIndexOf('b')", 2),
        ("[1.0].indexOf(1.1)", -1),
        ("[].indexOf(1)", -1),
        ("[true, 1].indexOf(1)", 1),  # a bool is not the number 1
        # the strings extension's indexOf still works beside the list one
        ("'abcb'.indexOf('b')", 1),
        ("'abcb'.lastIndexOf('b')", 3),
        # regex.go
        ("'abc 123'.find('[0-9]+')", "123"),
        ("'abc 123'.find('xyz')", ""),
        ("'123 abc 456'.findAll('[0-9]+')", ["123", "456"]),
        ("'123 abc 456'.findAll('[0-9]+', 1)", ["123"]),
        ("'123 abc 456'.findAll('xyz')", []),
        ("'123 abc 456'.findAll('[0-9]+', -1)", ["123", "456"]),
        ("'123 abc 456'.findAll('[0-9]+', 0)", []),
        # ext/sets.go
        ("sets.contains([], [])", True),
        ("sets.contains([1, 2, 3, 4], [2, 3])", True),
        ("sets.contains([1, 2, 3], [4])", False),
        ("sets.equivalent([1, 2], [2, 1, 1])", True),
        ("sets.equivalent([1], [1, 2])", False),
        ("sets.intersects([1], [1, 2])", True),
        ("sets.intersects([1], [])", False),
        # the C++ evaluator's own strings extension (version 2, as Kubernetes) and optionals
        ("'a,b'.split(',')", ["a", "b"]),
        ("['a', 'b'].join('-')", "a-b"),
        ("' x '.trim()", "x"),
        ("'%d items'.format([3])", "3 items"),
        ("{'a': 1}.?b.orValue(7)", 7),
        ("'registry.corp/app:1'.matches('^registry[.]corp/')", True),
    ],
)
def test_documented_examples(expression: str, expected: Any) -> None:
    assert run(expression) == expected


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("[].min()", "min called on empty list"),
        ("[].max()", "max called on empty list"),
        ("[1, 'a'].isSorted()", "not comparable"),
        ("'a'.find('(')", "invalid regex '('"),
    ],
)
def test_documented_errors_are_evaluation_errors(expression: str, error: str) -> None:
    with pytest.raises(CelEvaluationError, match=error.replace("(", r"\(")):
        run(expression)


@pytest.mark.parametrize(
    ("expression", "name"),
    [
        ("quantity('1Gi').isInteger()", "quantity"),
        ("url('https://x').getHost() == 'x'", "url"),
        ("ip('10.0.0.1').family() == 4", "ip"),
        ("cidr('10.0.0.0/8').containsIP('10.1.1.1')", "cidr"),
        ("semver('1.0.0').major() == 1", "semver"),
        ("isQuantity('1Gi')", "isQuantity"),
        ("{'a': 1}.all(k, v, v > 0)", "all"),
        ("[1].transformList(i, v, v * 2) == [2]", "transformList"),
        ("authorizer.group('').resource('jobs').check('create').allowed()", "authorizer"),
        ("namespaceObject.metadata.name == 'x'", "namespaceObject"),
    ],
)
def test_what_jobguard_cannot_evaluate_is_a_compile_error_saying_so(
    expression: str, name: str
) -> None:
    with pytest.raises(CelCompileError) as info:
        compile_expression(expression)
    assert [p.message.split(":")[0] for p in info.value.problems] == [name]
    assert "jobguard cannot evaluate it" in info.value.problems[0].message


def test_functions_kubernetes_does_not_offer_are_unknown() -> None:
    # cel-go's math extension is not in Kubernetes' environment: an expression using it would
    # fail in the cluster, so it fails here.
    with pytest.raises(CelCompileError, match="undeclared reference to 'greatest'"):
        compile_expression("math.greatest([1, 2]) == 2")
    with pytest.raises(CelCompileError, match="undeclared reference to 'reverse'"):
        compile_expression("'ab'.reverse() == 'ba'")  # strings extension version 3


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(CelCompileError) as info:
        compile_expression("object.a &&\n  object.b +")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (2, 13)
    assert "Syntax error" in problem.message


def test_a_runaway_comprehension_stops_at_the_iteration_budget() -> None:
    # 300 x 300 iterations: past the evaluator's 10,000 per evaluation.
    with pytest.raises(CelEvaluationError, match="Iteration budget exceeded"):
        run("object.all(a, object.all(b, a + b >= 0))", list(range(300)))
    assert run("object.all(a, object.all(b, a + b >= 0))", list(range(99))) is True


def test_a_missing_field_is_an_evaluation_error_as_in_kubernetes() -> None:
    with pytest.raises(CelEvaluationError, match="nope"):
        run("object.nope == 1", {"a": 1})
    assert run("has(object.nope)", {"a": 1}) is False


def test_objects_nested_past_what_the_readers_let_through_still_evaluate() -> None:
    # The YAML reader refuses nesting past 1,000 levels and the webhook's JSON readers past
    # about 1,000 (orjson's 1,024, then Python's recursion limit); the evaluator's conversion
    # recurses on the C stack, so twice that must be safe.
    nested: dict[str, Any] = {}
    current = nested
    for _ in range(2000):
        current["a"] = {}
        current = current["a"]
    assert run("has(object.a.a) && !has(object.b)", nested) is True
