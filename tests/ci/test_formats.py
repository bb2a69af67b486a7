"""sarif, junit and github formats: validated, parsed back, and carrying the same findings as json."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from jobguard.core.model import Severity
from jobguard.render.github import annotation, escape_data, escape_property
from jobguard.rules import CATALOGUE, RULES_BY_NAME
from tests.ci.conftest import SARIF_SCHEMA, run_jobguard

JOBS = """# two objects with findings, one without
apiVersion: batch/v1
kind: Job
metadata: {name: export, namespace: reports}
spec:
  template:
    spec:
      containers: [{name: main, image: busybox:1.36}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Always
          containers: [{name: main, image: busybox:1.36}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
"""
ODD = """apiVersion: batch/v1
kind: Job
metadata: {name: odd}
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers: [{name: main, image: busybox:1.36}]
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    (root / "k8s").mkdir()
    (root / "k8s" / "jobs.yaml").write_text(JOBS)
    (root / "k8s" / "odd,name:1.yaml").write_text(ODD)  # separators GitHub needs escaped
    (root / "k8s" / "broken.yaml").write_text("apiVersion: batch/v1\nkind: [\n")
    (root / "k8s" / "empty.yaml").write_text("")
    return root


def lint(tree: Path, fmt: str, *extra: str) -> tuple[int, str]:
    run = run_jobguard("lint", "--format", fmt, *extra, "k8s", cwd=tree)
    assert run.stderr == ""
    return run.returncode, run.stdout


@pytest.fixture(scope="module")
def report(tree: Path) -> dict[str, Any]:
    code, out = lint(tree, "json")
    assert code == 2  # broken.yaml is an input error; every other file is still linted
    doc: dict[str, Any] = json.loads(out)
    assert len(doc["findings"]) > 4 and len(doc["problems"]) == 2
    assert {f["severity"] for f in doc["findings"]} == {"error", "warning", "info"}
    return doc


def line_of(f: dict[str, Any]) -> str:
    return (
        f"{f['file']}:{f['line']}:{f['column']}: {f['severity']} {f['code']} {f['rule']} "
        f"{f['path']}: {f['message']}"
    )


# -- SARIF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif(tree: Path) -> dict[str, Any]:
    code, out = lint(tree, "sarif")
    assert code == 2
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_sarif_is_valid_sarif_2_1_0(sarif: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    assert sarif["version"] == "2.1.0"


def test_sarif_results_are_the_json_findings(sarif: dict[str, Any], report: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    got = []
    for r in run["results"]:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        got.append(
            (
                unquote(loc["artifactLocation"]["uri"]),
                loc["region"]["startLine"],
                loc["region"]["startColumn"],
                r["ruleId"],
                r["properties"]["path"],
                {"error": "error", "warning": "warning", "note": "info"}[r["level"]],
            )
        )
    assert got == [
        (f["file"], f["line"], f["column"], f["code"], f["path"], f["severity"])
        for f in report["findings"]
    ]
    assert len({r["partialFingerprints"]["jobguard/v1"] for r in run["results"]}) == len(got)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [
        (n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], n["message"]["text"])
        for n in notes
    ] == [(p["file"], p["message"]) for p in report["problems"]]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/")


def test_sarif_rule_metadata_comes_from_the_rule_docs_and_the_policy(
    sarif: dict[str, Any],
) -> None:
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert len(rules) == len(CATALOGUE)  # every rule, and the engine's internal-error
    restart = RULES_BY_NAME["restart-policy"]
    assert rules[restart.code] == {
        "id": restart.code,
        "name": "restart-policy",
        "shortDescription": {"text": restart.summary},
        "fullDescription": {"text": restart.doc},
        "help": {"text": restart.remediation},
        "defaultConfiguration": {"level": "error", "enabled": True},
        "properties": {"category": "policy", "tags": ["policy"]},
    }
    # warn in the bundled default policy
    assert rules[RULES_BY_NAME["backoff-limit"].code]["defaultConfiguration"]["level"] == "warning"


def test_sarif_levels_follow_a_custom_policy(tree: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        '  backoff-limit: {action: audit}\n  resources: {action: "off"}\n'
    )
    _, out = lint(tree, "sarif", "--policy", str(policy))
    rules = {r["name"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["backoff-limit"]["defaultConfiguration"] == {"level": "note", "enabled": True}
    assert rules["resources"]["defaultConfiguration"] == {"level": "none", "enabled": False}


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_has_a_testcase_per_object_and_a_failure_per_failing_finding(
    tree: Path, report: dict[str, Any]
) -> None:
    code, out = lint(tree, "junit")
    assert code == 2
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {
        f"k8s/{n}" for n in ("broken.yaml", "empty.yaml", "jobs.yaml", "odd,name:1.yaml")
    }
    jobs = suites["k8s/jobs.yaml"]
    assert [c.get("name") for c in jobs.findall("testcase")] == [
        "Job reports/export (document 1)",
        "CronJob nightly (document 2)",
    ]
    failures = [f.text for f in root.iter("failure")]
    quiet = [
        line
        for out_el in root.iter("system-out")
        for line in (out_el.text or "").splitlines()
        if " input " not in line
    ]
    assert failures == [line_of(f) for f in report["findings"] if f["severity"] == "error"]
    assert quiet == [line_of(f) for f in report["findings"] if f["severity"] != "error"]
    assert int(root.get("failures", "")) == len(failures)
    errors = [e.get("message") for e in root.iter("error")]
    assert errors == [p["message"] for p in report["problems"] if p["severity"] == "error"]
    assert int(root.get("errors", "")) == 1
    assert int(root.get("tests", "")) == 2 + 1 + 2  # objects, odd file's Job, two input cases


def test_junit_fail_on_warning_makes_every_finding_a_failure(
    tree: Path, report: dict[str, Any]
) -> None:
    _, out = lint(tree, "junit", "--fail-on", "warning")
    root = ET.fromstring(out)
    at_least_warnings = [f for f in report["findings"] if f["severity"] != "info"]
    assert [f.text for f in root.iter("failure")] == [line_of(f) for f in at_least_warnings]
    _, out = lint(tree, "junit", "--fail-on", "info")
    root = ET.fromstring(out)
    assert [f.text for f in root.iter("failure")] == [line_of(f) for f in report["findings"]]


def test_junit_survives_control_characters_in_messages() -> None:
    from jobguard.core.model import Action, Category, Finding
    from jobguard.lint.linter import FileResult, LintResult, LocatedFinding, ObjectResult
    from jobguard.render import junit

    finding = Finding(
        "r", "JG999", Category.POLICY, Severity.ERROR, Action.DENY, ("a",), "bad\x01x"
    )
    obj = ObjectResult("f.yaml", 0, "Job", "n", None, 1, (LocatedFinding(finding, 1, 1),))
    root = ET.fromstring(junit.render(LintResult([FileResult("f.yaml", (obj,))])))
    assert root.find(".//failure").get("message") == "a: bad\ufffdx"  # type: ignore[union-attr]


# -- GitHub -----------------------------------------------------------------------------------


def test_github_annotations_are_exact(tree: Path, report: dict[str, Any]) -> None:
    code, out = lint(tree, "github")
    assert code == 2
    command = {"error": "error", "warning": "warning", "info": "notice"}
    expected = [
        f"::{command[p['severity']]} file={p['file']}"
        + (f",line={p['line']},col={p['column']}" if p["line"] else "")
        + f",title=jobguard input::{p['message']}"
        for p in report["problems"]
    ]
    for f in report["findings"]:
        ns = f"{f['namespace']}/" if f["namespace"] else ""
        file = f["file"].replace(",", "%2C").replace(":", "%3A")
        expected.append(
            f"::{command[f['severity']]} file={file},line={f['line']},col={f['column']},"
            f"title={f['code']} {f['rule']}::{f['kind']} {ns}{f['name']}: {f['path']}: {f['message']}"
        )
    assert out.splitlines() == expected
    # backoffLimit 6 is what the API server fills in anyway: a notice, not a warning.
    assert "::notice file=k8s/odd%2Cname%3A1.yaml,line=4,col=1,title=JG103 backoff-limit::" in out


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    assert (
        annotation(
            Severity.WARNING, "x: y, 5%\nz", file="a:b,c.yaml", line=3, column=0, title="T,1"
        )
        == "::warning file=a%3Ab%2Cc.yaml,line=3,title=T%2C1::x: y, 5%25%0Az"
    )
    assert (
        annotation(Severity.INFO, "m", file="f", line=0, column=0, title="t")
        == "::notice file=f,title=t::m"
    )


def test_sarif_locations_outside_the_base_are_absolute_file_uris(tmp_path: Path) -> None:
    from jobguard.render.sarif import artifact_location

    base = tmp_path / "repo"
    assert artifact_location(str(base / "k8s" / "a b.yaml"), base) == {
        "uri": "k8s/a%20b.yaml",
        "uriBaseId": "SRCROOT",
    }
    assert artifact_location(str(tmp_path / "elsewhere.yaml"), base) == {
        "uri": (tmp_path / "elsewhere.yaml").as_uri()
    }
    assert artifact_location("<stdin>", base) == {"uri": "stdin"}
