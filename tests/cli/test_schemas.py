"""The shipped JSON Schemas describe what jobguard really writes: each is checked against the
output of real runs that exercise every optional part (fixes, problems, baseline, --fix,
configuration), and a schema that accepts anything would fail the negative checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from jobguard import schemas

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
  namespace: batch
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34
"""
BROKEN = "apiVersion: batch/v1\nkind: Job\nspec: [unclosed\n"
STRICT = "apiVersion: jobguard.dev/v1\nkind: Policy\nextends: jobguard:strict\n"


def validator(name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resources(
        (f"https://jobguard.dev/schemas/{n}", Resource.from_contents(schemas.load(n)))
        for n in (schemas.REPORT, schemas.BASELINE)
    )
    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", "lint", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def errors(name: str, doc: Any) -> list[str]:
    return [e.message for e in validator(name).iter_errors(doc)]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "job.yaml").write_text(JOB)
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "strict.yaml").write_text(STRICT)
    (tmp_path / ".jobguard.yaml").write_text("policy: [strict.yaml]\n")
    return tmp_path


def test_the_report_of_findings_fixes_and_problems_matches_its_schema(project: Path) -> None:
    result = run("--format", "json", ".", cwd=project)
    report = json.loads(result.stdout)
    assert report["problems"], "the broken file must give a problem"
    assert any(f["fix"] and not f["fix"]["safe"] for f in report["findings"])
    assert any(f["fix"] and f["fix"]["safe"] for f in report["findings"])
    assert "configuration" in report
    assert errors(schemas.REPORT, report) == []


def test_the_report_with_a_baseline_and_fix_matches_its_schema(project: Path) -> None:
    (project / "broken.yaml").unlink()
    written = run("--write-baseline", "b.json", "job.yaml", cwd=project)
    assert written.returncode == 0, written.stderr
    baseline = json.loads((project / "b.json").read_text())
    assert baseline["entries"]
    assert errors(schemas.BASELINE, baseline) == []

    fixed = run("--fix", "--baseline", "b.json", "--format", "json", "job.yaml", cwd=project)
    report = json.loads(fixed.stdout)
    assert report["fixed"] == [{"file": "job.yaml", "findings": report["fixed"][0]["findings"]}]
    assert report["baseline"]["stale"], "the fixed findings leave stale baseline entries"
    assert errors(schemas.REPORT, report) == []


def test_the_schemas_reject_what_jobguard_never_writes(project: Path) -> None:
    report = json.loads(run("--format", "json", "job.yaml", cwd=project).stdout)
    finding = report["findings"][0]
    wrong = [
        {**report, "version": 2},
        {**report, "findings": [{**finding, "severity": "fatal"}]},
        {**report, "findings": [{**finding, "line": 0}]},
        {**report, "findings": [{k: v for k, v in finding.items() if k != "path"}]},
        {**report, "summary": {**report["summary"], "errors": -1}},
    ]
    for doc in wrong:
        assert errors(schemas.REPORT, doc), doc
    entry = {
        "file": "a.yaml",
        "kind": "Job",
        "namespace": None,
        "name": "pi",
        "rule": "restart-policy",
        "code": "JG101",
        "path": "spec",
        "count": 0,
    }
    assert errors(schemas.BASELINE, {"version": 1, "entries": [entry]})


def test_the_schemas_ship_in_the_package() -> None:
    assert schemas.load(schemas.REPORT)["properties"]["version"] == {"const": 1}
    assert schemas.load(schemas.BASELINE)["properties"]["version"] == {"const": 1}
