"""The real `jobguard` command in a subprocess: exit codes, stdin, formats, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """apiVersion: batch/v1
kind: Job
metadata: {name: good, namespace: batch}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""
MISSING_RESTART = GOOD.replace("      restartPolicy: Never\n", "").replace(
    "name: good", "name: bad"
)
SUPPRESSION_TYPO = GOOD.replace(
    "name: good,", "name: typo, annotations: {suppress.jobguard.dev/nope: why},"
)


def jobguard(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "k8s" / "jobs").mkdir(parents=True)
    (tmp_path / "k8s" / "jobs" / "good.yaml").write_text(GOOD)
    (tmp_path / "k8s" / "service.yml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
    )
    (tmp_path / "k8s" / "notes.txt").write_text("not a manifest")
    return tmp_path


def test_a_clean_tree_exits_zero_and_counts_skipped_objects(tree: Path) -> None:
    run = jobguard("lint", "--format", "json", str(tree / "k8s"))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["version"] == 1
    summary = report["summary"]
    assert (
        summary["files"],
        summary["objects"],
        summary["skipped"],
        summary["errors"],
        summary["problems"],
    ) == (2, 1, 1, 0, 0)
    assert all(f["severity"] != "error" for f in report["findings"])


def test_error_findings_exit_one_with_file_line_and_fix(tree: Path) -> None:
    bad = tree / "k8s" / "bad.yaml"
    bad.write_text(MISSING_RESTART)
    run = jobguard("lint", "--format", "json", str(bad))
    assert run.returncode == 1
    (finding,) = [f for f in json.loads(run.stdout)["findings"] if f["rule"] == "restart-policy"]
    assert finding == {
        "rule": "restart-policy",
        "code": "JG101",
        "category": "api",  # the API server rejects a Job without restartPolicy
        "severity": "error",
        "file": str(bad),
        "line": 6,
        "column": 5,
        "kind": "Job",
        "namespace": "batch",
        "name": "bad",
        "path": "spec.template.spec.restartPolicy",
        "message": "restartPolicy is not set; Jobs must use Never or OnFailure",
        "fix": {
            "safe": True,
            "title": "set restartPolicy: Never",
            "patch": [{"op": "add", "path": "/spec/template/spec/restartPolicy", "value": "Never"}],
        },
    }


def test_text_output_uses_file_line_col_severity_rule(tree: Path) -> None:
    bad = tree / "k8s" / "bad.yaml"
    bad.write_text(MISSING_RESTART)
    run = jobguard("lint", str(bad))
    assert (
        f"{bad}:6:5: error restart-policy spec.template.spec.restartPolicy: restartPolicy is not set"
        in run.stdout
    )
    assert "    fix: set restartPolicy: Never" in run.stdout
    assert "\x1b[" not in run.stdout  # no colour when not a terminal


def test_stdin_takes_a_multi_document_stream() -> None:
    run = jobguard("lint", "--format", "json", "-", stdin=GOOD + "---\n" + MISSING_RESTART)
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert {
        (f["file"], f["name"]) for f in report["findings"] if f["rule"] == "restart-policy"
    } == {("<stdin>", "bad")}
    assert report["summary"]["objects"] == 2


def test_warnings_fail_only_when_asked(tree: Path) -> None:
    typo = tree / "typo.yaml"
    typo.write_text(SUPPRESSION_TYPO)
    assert jobguard("lint", str(typo)).returncode == 0
    assert jobguard("lint", "--fail-on", "warning", str(typo)).returncode == 1


def test_a_bad_file_exits_two_but_the_other_files_are_still_linted(tree: Path) -> None:
    (tree / "k8s" / "broken.yaml").write_text("kind: Job\nspec: [\n")
    (tree / "k8s" / "bad.yaml").write_text(MISSING_RESTART)
    run = jobguard("lint", "--format", "json", str(tree / "k8s"))
    assert run.returncode == 2
    report = json.loads(run.stdout)
    assert [p["file"] for p in report["problems"]] == [str(tree / "k8s" / "broken.yaml")]
    assert any(f["name"] == "bad" and f["rule"] == "restart-policy" for f in report["findings"])


def test_a_missing_path_is_an_input_error(tree: Path) -> None:
    run = jobguard("lint", str(tree / "nope"), str(tree / "k8s"))
    assert run.returncode == 2
    assert f"{tree / 'nope'}: error input no such file or folder" in run.stdout


def test_a_broken_policy_exits_two_and_lints_nothing(tree: Path) -> None:
    policy = tree / "policy.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  restart-policy: {acton: deny}\n"
    )
    run = jobguard("lint", "--policy", str(policy), str(tree / "k8s"))
    assert run.returncode == 2
    assert f"{policy}:4:20: rules.restart-policy.acton: unknown option 'acton'" in run.stderr
    assert "nothing was linted" in run.stderr
    assert run.stdout == ""


def test_usage_errors_exit_two() -> None:
    assert jobguard("lint").returncode == 2
    assert jobguard("lint", "--format", "yaml", "x").returncode == 2
    assert jobguard("lint", "--kubernetes-version", "latest", "-", stdin="").returncode == 2


def test_rules_lists_the_catalogue_and_explain_prints_the_docs() -> None:
    listing = jobguard("rules")
    assert listing.returncode == 0
    assert "JG101  restart-policy" in listing.stdout
    explained = jobguard("explain", "restart-policy")
    assert explained.returncode == 0
    assert explained.stdout.startswith("JG101 restart-policy (policy, default action: deny)")
    assert "Remediation:" in explained.stdout
    assert jobguard("explain", "JG101").stdout == explained.stdout
    unknown = jobguard("explain", "restart-polcy")
    assert unknown.returncode == 2 and "Did you mean 'restart-policy'?" in unknown.stderr
