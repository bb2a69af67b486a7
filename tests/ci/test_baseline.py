"""Baselines: write, accept, only new findings count, stale entries, broken files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jobguard.lint import baseline
from jobguard.lint.linter import lint_paths
from jobguard.policy.model import builtin_defaults
from tests.ci.conftest import run_jobguard

# Two Jobs without restartPolicy: two restart-policy findings with different keys; the same Job
# twice in one file gives two identical keys.
JOB = """apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: batch}}
spec:
  template:
    spec:
      containers: [{{name: main, image: busybox}}]
"""
POLICY = """apiVersion: jobguard.dev/v1
kind: Policy
rules:
  restart-policy: {action: deny}
"""


def only_restart_policy(tmp: Path) -> str:
    """A policy where only restart-policy and the api rules run (stable counts for this test)."""
    from jobguard.rules import ALL_RULES

    lines = [POLICY]
    for rule in ALL_RULES:
        if rule.name != "restart-policy" and rule.category.value == "policy":
            lines.append(f'  {rule.name}: {{action: "off"}}\n')
    path = tmp / "policy.yaml"
    path.write_text("".join(lines))
    return str(path)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "a.yaml").write_text(JOB.format(name="a"))
    (tmp_path / "k8s" / "twice.yaml").write_text(
        JOB.format(name="t") + "---\n" + JOB.format(name="t")
    )
    return tmp_path


def lint_json(repo: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    run = run_jobguard(
        "lint", "--format", "json", "--policy", only_restart_policy(repo), *args, "k8s", cwd=repo
    )
    return run.returncode, json.loads(run.stdout) if run.stdout else {}, run.stderr


def rules_of(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["file"], f["name"], f["rule"]) for f in report["findings"]]


def test_round_trip_new_findings_fail_and_fixed_ones_are_stale(repo: Path) -> None:
    code, before, _ = lint_json(repo)
    assert code == 1
    assert sorted(set(rules_of(before))) == [
        ("k8s/a.yaml", "a", "restart-policy"),
        ("k8s/twice.yaml", "t", "restart-policy"),
    ]
    code, written, err = lint_json(repo, "--write-baseline", ".jobguard-baseline.json")
    assert code == 0
    assert written == {}  # the baseline and a one-line summary, not the report it records
    assert err == (
        f"jobguard: recorded {len(before['findings'])} findings (2 files) in "
        ".jobguard-baseline.json\n"
    )
    stored = json.loads((repo / ".jobguard-baseline.json").read_text())
    assert stored["version"] == 1
    twice = [
        e
        for e in stored["entries"]
        if e["file"] == "k8s/twice.yaml" and e["rule"] == "restart-policy"
    ]
    assert twice == [
        {
            "file": "k8s/twice.yaml",
            "kind": "Job",
            "namespace": "batch",
            "name": "t",
            "rule": "restart-policy",
            "code": "JG101",
            "path": "spec.template.spec.restartPolicy",
            "count": 2,
        }
    ]

    # Everything accepted: exit 0, nothing shown, nothing stale.
    code, report, err = lint_json(repo, "--baseline", ".jobguard-baseline.json")
    assert (code, report["findings"], err) == (0, [], "")
    assert report["baseline"] == {
        "file": ".jobguard-baseline.json",
        "accepted": len(before["findings"]),
        "stale": [],
    }

    # Lines move (a comment on top) and a third copy of t appears; fix a.
    twice_file = repo / "k8s" / "twice.yaml"
    twice_file.write_text(
        "# moved down\n\n" + twice_file.read_text() + "---\n" + JOB.format(name="t")
    )
    (repo / "k8s" / "a.yaml").write_text(
        JOB.format(name="a").replace("    spec:\n", "    spec:\n      restartPolicy: Never\n")
    )
    code, report, err = lint_json(repo, "--baseline", ".jobguard-baseline.json")
    assert code == 1
    assert rules_of(report) == [("k8s/twice.yaml", "t", "restart-policy")]
    assert report["findings"][0]["line"] == 24  # in the third copy (starts at line 19)
    stale = report["baseline"]["stale"]
    assert sorted(e["rule"] for e in stale) == ["restart-policy"]
    assert all(e["file"] == "k8s/a.yaml" and e["count"] == 1 for e in stale)
    assert (
        "warning: stale baseline entry (fixed? rewrite the baseline): k8s/a.yaml Job batch/a "
        "restart-policy spec.template.spec.restartPolicy (x1)\n"
    ) in err


def test_text_output_says_how_many_were_accepted(repo: Path) -> None:
    policy = only_restart_policy(repo)
    run_jobguard("lint", "--policy", policy, "--write-baseline", "b.json", "k8s", cwd=repo)
    run = run_jobguard("lint", "--policy", policy, "--baseline", "b.json", "k8s", cwd=repo)
    assert run.returncode == 0
    assert run.stdout.splitlines()[-1] == "3 findings accepted by the baseline b.json (not shown)"


def test_the_baseline_matches_from_another_working_directory(repo: Path) -> None:
    policy = only_restart_policy(repo)
    run_jobguard("lint", "--policy", policy, "--write-baseline", "b.json", "k8s", cwd=repo)
    sub = repo / "k8s"
    run = run_jobguard("lint", "--policy", policy, "--baseline", "../b.json", ".", cwd=sub)
    assert run.returncode == 0, run.stdout + run.stderr


def test_stale_entries_only_for_files_that_were_linted(repo: Path) -> None:
    policy = builtin_defaults()
    result = lint_paths([str(repo / "k8s")], policy, jobs=1)
    path = str(repo / "b.json")
    baseline.write(result, path)
    only_a = lint_paths([str(repo / "k8s" / "a.yaml")], policy, jobs=1)
    outcome = baseline.apply(only_a, baseline.load(path), path)
    assert outcome.stale == ()
    assert outcome.result.findings == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            None,
            "b.json: no such baseline file (create it with --write-baseline); nothing was linted",
        ),
        (
            "{not json",
            "b.json:1:2: not a valid baseline (invalid JSON: Expecting property name enclosed in double quotes); nothing was linted",
        ),
        (
            '{"entries": []}',
            'b.json: not a jobguard baseline (expected an object with "version": 1); nothing was linted',
        ),
        ('{"version": 1, "entries": {}}', 'b.json: "entries" must be a list; nothing was linted'),
        (
            '{"version": 1, "entries": [{"file": "x"}]}',
            "b.json: entries[0]: missing kind, namespace, name, code, path, count; nothing was linted",
        ),
        (
            '{"version": 1, "entries": [{"file": "x", "kind": "Job", "namespace": null, "name": "n", "code": "JG101", "path": "p", "count": 0}]}',
            "b.json: entries[0]: count must be a positive integer; nothing was linted",
        ),
    ],
)
def test_a_broken_baseline_is_an_input_error(repo: Path, content: str | None, message: str) -> None:
    if content is not None:
        (repo / "b.json").write_text(content)
    run = run_jobguard("lint", "--baseline", "b.json", "k8s", cwd=repo)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", f"error: {message}\n")
