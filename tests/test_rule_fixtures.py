"""Every rule's fixtures: fail-*.yaml files give the exact (rule, path) list, pass-*.yaml give none.

A fixture file is a YAML stream (usually a Job and a CronJob form of the same case). Header
comments drive the test:

    # expect: spec.template.spec.restartPolicy                       one line per expected finding
    # expect: spec.jobTemplate.spec.template.spec.restartPolicy      of the rule under test, in order
    # error: spec.template.spec.os: Unsupported value: "Linux": ...   or the API server's error
                                                                     line each finding's
                                                                     "path: message" starts with
    # policy: strict-restart.yaml                                    optional, from fixtures/policies
    # version: 1.29                                                  optional target Kubernetes version
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobguard.core.engine import evaluate
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.lint.linter import lint_bytes
from jobguard.rules import REGISTRY
from jobguard.yamlsource import iter_objects, parse_stream
from tests.helpers import RULE_FIXTURES, pairs, policy_for


def _header(path: Path, key: str) -> list[str]:
    prefix = f"# {key}:"
    return [
        line[len(prefix) :].strip()
        for line in path.read_text().splitlines()
        if line.startswith(prefix)
    ]


def _version(path: Path) -> Version:
    version = _header(path, "version")
    if version:
        major, minor = version[0].split(".")
        return (int(major), int(minor))
    return DEFAULT_KUBERNETES_VERSION


def _cases(prefix: str) -> list[Path]:
    return sorted(RULE_FIXTURES.glob(f"*/{prefix}-*.yaml"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("fixture", _cases("fail"), ids=_id)
def test_fail_fixture_reports_exactly_the_expected_paths(fixture: Path) -> None:
    rule = fixture.parent.name
    policy = policy_for(next(iter(_header(fixture, "policy")), None))
    result = lint_bytes(str(fixture), fixture.read_bytes(), policy, _version(fixture))
    assert not result.problems, result.problems
    paths = _header(fixture, "expect") or [e.split(": ", 1)[0] for e in _header(fixture, "error")]
    expected = [(rule, p) for p in paths]
    assert expected, f"{fixture} has no '# expect:' or '# error:' lines"
    assert pairs(result, rule) == expected


@pytest.mark.parametrize("fixture", [f for f in _cases("fail") if _header(f, "error")], ids=_id)
def test_fail_fixture_messages_start_with_the_api_servers_error_text(fixture: Path) -> None:
    rule = fixture.parent.name
    policy = policy_for(next(iter(_header(fixture, "policy")), None))
    result = lint_bytes(str(fixture), fixture.read_bytes(), policy, _version(fixture))
    lines = [
        f"{lf.finding.field}: {lf.finding.message}"
        for obj in result.objects
        for lf in obj.findings
        if lf.finding.rule == rule
    ]
    expected = _header(fixture, "error")
    assert len(lines) == len(expected), lines
    for line, error in zip(lines, expected, strict=True):
        assert line.startswith(error), (line, error)


@pytest.mark.parametrize("fixture", _cases("pass"), ids=_id)
def test_pass_fixture_reports_nothing_for_its_rule(fixture: Path) -> None:
    rule = fixture.parent.name
    policy = policy_for(next(iter(_header(fixture, "policy")), None))
    result = lint_bytes(str(fixture), fixture.read_bytes(), policy, _version(fixture))
    assert not result.problems, result.problems
    assert result.objects, "a pass fixture must contain at least one Job or CronJob"
    assert pairs(result, rule) == []


@pytest.mark.parametrize("fixture", _cases("fail"), ids=_id)
def test_applying_the_safe_fixes_clears_the_fixed_findings(fixture: Path) -> None:
    policy = policy_for(next(iter(_header(fixture, "policy")), None))
    version = _version(fixture)
    for src in iter_objects(parse_stream(fixture.read_bytes())):
        view = JobView.of(src.data, kubernetes_version=version)
        if view is None:
            continue
        report = evaluate(Subject.of(view), policy, rules=REGISTRY)
        fixed_keys = {(f.rule, f.field) for f in report.findings if f.fix and f.fix.safe}
        if not fixed_keys:
            continue
        fixed_obj, _patch = report.fixed()
        again = evaluate(
            Subject.of(JobView(fixed_obj, kubernetes_version=version)), policy, rules=REGISTRY
        )
        assert not fixed_keys & {(f.rule, f.field) for f in again.findings}
