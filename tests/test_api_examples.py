"""The api rules against real objects: the examples, and what a real API server accepted.

examples/good must draw no api finding; each examples/bad file lists the api findings it
demonstrates in `# expect: <rule> <path>` header lines, as `jobguard lint` reports them under the
bundled default policy (restart-policy's finding, which carries the fix, stands for the API
server's api-restart-policy rejection and has category api). The admission fixtures are requests a
kube-apiserver (v1.24) really sent: the API server accepted every object in them except 003
and 025, which it rejected for their restartPolicy; linting each request's object for the
request's operation must agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jobguard.core.model import Category
from jobguard.lint.linter import lint_bytes
from jobguard.policy import Policy, load_policy
from tests.helpers import FIXTURES, api_only, evaluate_obj

ROOT = Path(__file__).parent.parent
GOOD = sorted((ROOT / "examples" / "good").glob("*.yaml"))
BAD = sorted((ROOT / "examples" / "bad").glob("*.yaml"))
ADMISSION = sorted((FIXTURES / "admission").glob("*.json"))
REJECTED_BY_THE_API_SERVER = {
    "003-mutate-Job-CREATE-noname.json": [
        ("api-restart-policy", "spec.template.spec.restartPolicy")
    ],
    "025-mutate-CronJob-CREATE-cleanup-tmp.json": [
        ("api-restart-policy", "spec.jobTemplate.spec.template.spec.restartPolicy")
    ],
}


def _api_pairs(path: Path, policy: Policy | None = None) -> list[str]:
    result = lint_bytes(str(path), path.read_bytes(), policy or api_only())
    assert not result.problems, result.problems
    assert result.objects
    return [
        f"{lf.finding.rule} {lf.finding.field}"
        for obj in result.objects
        for lf in obj.findings
        if lf.finding.category is Category.API
    ]


def test_there_are_good_and_bad_examples() -> None:
    assert len(GOOD) >= 5
    assert len(BAD) >= 5


@pytest.mark.parametrize("example", GOOD, ids=lambda p: p.name)
def test_good_examples_draw_no_api_finding(example: Path) -> None:
    assert _api_pairs(example) == []


@pytest.mark.parametrize("example", BAD, ids=lambda p: p.name)
def test_bad_examples_draw_exactly_the_api_findings_they_list(example: Path) -> None:
    expected = [
        line[len("# expect: ") :]
        for line in example.read_text().splitlines()
        if line.startswith("# expect: ")
    ]
    assert expected, "a bad example lists what it demonstrates"
    assert _api_pairs(example, load_policy([])) == expected


def _request(path: Path) -> dict[str, Any]:
    request: dict[str, Any] = json.loads(path.read_text())["request"]
    return request


@pytest.mark.parametrize(
    "fixture", [p for p in ADMISSION if _request(p).get("object")], ids=lambda p: p.name
)
def test_objects_the_api_server_accepted_draw_no_api_error_and_rejected_ones_exactly_theirs(
    fixture: Path,
) -> None:
    request = _request(fixture)
    report = evaluate_obj(
        request["object"],
        api_only(),
        operation=request["operation"],
        old_object=request.get("oldObject"),
    )
    api = [(f.rule, f.field) for f in report.findings if f.category is Category.API]
    assert api == REJECTED_BY_THE_API_SERVER.get(fixture.name, [])


def test_the_rejected_restart_policy_carries_the_api_servers_own_message() -> None:
    request = _request(FIXTURES / "admission" / "003-mutate-Job-CREATE-noname.json")
    report = evaluate_obj(request["object"], api_only())
    (finding,) = [f for f in report.findings if f.rule == "api-restart-policy"]
    assert finding.message.startswith('Required value: valid values: "OnFailure", "Never" (')


def test_a_validating_stage_object_linted_as_an_export_is_told_apart_by_resource_version() -> None:
    """The same created object, once stored (resourceVersion set) and copied to a new create,
    has stale controller-uid labels: the uid it carries will be replaced."""
    request = _request(FIXTURES / "admission" / "002-validate-Job-CREATE-pi.json")
    obj = request["object"]
    assert [f for f in evaluate_obj(obj).findings if f.category is Category.API] == []
    exported = {**obj, "metadata": {**obj["metadata"], "resourceVersion": "4711"}}
    api = [(f.rule, f.field) for f in evaluate_obj(exported).findings if f.category is Category.API]
    # resourceVersion itself is no error: kubectl create and apply accept it (v1.36).
    assert api == [("api-selector", "spec.template.metadata.labels[controller-uid]")]
