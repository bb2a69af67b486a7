"""`jobguard rules`, `jobguard explain` and the help text, run as the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jobguard.rules import CATALOGUE


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
    )


def test_rules_json_lists_every_rule_with_its_default_and_in_force_action() -> None:
    result = run("rules", "--format", "json")
    assert result.returncode == 0
    listed = json.loads(result.stdout)
    assert listed["version"] == 1
    by_name = {r["name"]: r for r in listed["rules"]}
    assert set(by_name) == {rule.name for rule in CATALOGUE}
    restart = by_name["restart-policy"]
    assert restart["code"] == "JG101"
    assert restart["category"] == "policy"
    assert restart["action"] == restart["default_action"] == "deny"
    assert restart["options"] == {"allowed": ["Never", "OnFailure"], "default": "Never"}


def test_rules_policy_shows_what_the_policy_changes(tmp_path: Path) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
        "  backoff-limit: {action: deny, default: 2}\n"
        "  resources: {action: off}\n"
    )
    result = run("rules", "--policy", str(policy), "--format", "json")
    assert result.returncode == 0, result.stderr
    by_name = {r["name"]: r for r in json.loads(result.stdout)["rules"]}
    assert by_name["backoff-limit"]["action"] == "deny"
    assert by_name["backoff-limit"]["options"]["default"] == 2
    assert by_name["resources"]["action"] == "off"
    text = run("rules", "--policy", str(policy))
    line = next(x for x in text.stdout.splitlines() if " backoff-limit " in x)
    assert line.split()[:4] == ["JG103", "backoff-limit", "policy", "deny"]


def test_rules_with_a_broken_policy_is_a_clear_error(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  no-such-rule: {}\n")
    result = run("rules", "--policy", str(policy))
    assert result.returncode == 2
    assert "no-such-rule" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_prints_plain_text_by_name_or_code() -> None:
    by_name = run("explain", "restart-policy")
    by_code = run("explain", "JG101")
    assert by_name.returncode == by_code.returncode == 0
    assert by_name.stdout == by_code.stdout
    assert by_name.stdout.startswith("JG101 restart-policy (policy, default action: deny)\n")
    assert "``" not in by_name.stdout
    assert ".. " not in by_name.stdout
    assert "::" not in by_name.stdout
    assert "Options:\n  allowed " in by_name.stdout


def test_explain_an_unknown_rule_suggests_the_nearest() -> None:
    result = run("explain", "restart-polcy")
    assert result.returncode == 2
    assert "restart-policy" in result.stderr


def test_help_summaries_are_whole_sentences() -> None:
    result = run("--help")
    commands = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert {line.split()[0] for line in commands if line.strip()} >= {
        "certs",
        "explain",
        "lint",
        "rules",
        "serve",
    }
    for line in commands:
        assert not line.rstrip().endswith("..."), line
