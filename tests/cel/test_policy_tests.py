"""``jobguard test``: the shipped example's tests pass; a wrong expectation fails with exit 1;
JUnit output; test files that cannot run exit 2. Also ``jobguard rules``/``explain`` and SARIF
listing custom rules."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner, Result

from jobguard.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-rules"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_shipped_examples_tests_pass() -> None:
    result = run("test", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("12 results, 0 mismatched")
    assert "MISMATCH" not in result.output


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target)
    return target


def test_a_wrong_expectation_is_a_mismatch_and_exit_1(tmp_path: Path) -> None:
    target = copy_example(tmp_path)
    tests = target / "tests.yaml"
    text = tests.read_text()
    text = text.replace(
        "    resource: Job/no-team\n    result: fail\n    message: every Job needs a team label",
        "    resource: Job/no-team\n    result: pass",
    )
    text = text.replace("message: the team label cannot change", "message: another message")
    tests.write_text(text)
    result = run("test", str(target))
    assert result.exit_code == 1
    rows = [line.split() for line in result.output.splitlines() if "MISMATCH" in line]
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("team-label", "Job/no-team", "pass", "fail"),
        ("team-is-kept", "Job/good", "fail", "fail"),
    ]
    assert "(message differs)" in result.output
    assert result.output.rstrip().endswith("12 results, 2 mismatched")


def test_junit_output(tmp_path: Path) -> None:
    target = copy_example(tmp_path)
    tests = target / "tests.yaml"
    tests.write_text(
        tests.read_text().replace(
            "    resource: Job/train\n    result: fail", "    resource: Job/train\n    result: skip"
        )
    )
    result = run("test", str(target), "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.output.split("\n", 1)[1])
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("12", "1", "0")
    (failed,) = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed.get("name") == "gpu-deadline Job/train skip"
    failure = failed.find("failure")
    assert failure is not None and failure.get("message") == "expected skip, got fail"


def test_a_test_file_that_cannot_run_exits_2(tmp_path: Path) -> None:
    target = copy_example(tmp_path)
    (target / "policy.yaml").write_text(
        (target / "policy.yaml")
        .read_text()
        .replace("'team' in variables.labels", "'team' in labelz")
    )
    result = run("test", str(target))
    assert result.exit_code == 2
    assert "the policy has errors" in result.output
    assert "undeclared reference to 'labelz'" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("test", str(empty)).exit_code == 2


def test_rules_and_explain_list_custom_rules_with_their_source() -> None:
    policy = str(EXAMPLE / "policy.yaml")
    listing = run("rules", "--policy", policy)
    (line,) = [row for row in listing.output.splitlines() if row.startswith("JGC002")]
    assert line.split()[1:4] == ["corp-registry", "policy", "deny"]
    assert line.endswith(f"(custom rule, {policy}:22)")
    entries = json.loads(run("rules", "--policy", policy, "--format", "json").output)["rules"]
    (gpu,) = [e for e in entries if e["name"] == "gpu-deadline"]
    assert (gpu["code"], gpu["action"], gpu["source"]) == ("JGC003", "warn", f"{policy}:33")
    explained = run("explain", "--policy", policy, "JGC004")
    assert explained.exit_code == 0
    assert explained.output.startswith("JGC004 hourly-at-most (policy, default action: deny)")
    assert "object.spec.schedule.split(' ')[0].matches('^[0-9]+$')" in explained.output
    assert run("explain", "hourly-at-most").exit_code == 2  # without the policy: unknown


def test_sarif_describes_custom_rules(tmp_path: Path) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text((EXAMPLE / "jobs.yaml").read_text())
    result = run(
        "lint", "--policy", str(EXAMPLE / "policy.yaml"), "--format", "sarif", str(manifest)
    )
    log = json.loads(result.output)
    (sarif_run,) = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert {"JGC001", "JGC002", "JGC003", "JGC004", "JGC005"} <= set(ids)
    assert len(ids) == len(set(ids))  # each rule described once
    custom = [r for r in sarif_run["results"] if r["ruleId"].startswith("JGC")]
    assert custom and all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in custom)
