"""A quiet default: the text report lists errors and warnings and counts infos, and ``--fix``
writes nothing the API server fills in anyway unless the policy asks. Each test runs the real
command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jobguard.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# A one-pod Job that leaves completions, parallelism and backoffLimit to the API server, and
# has no TTL (a real change: without one the finished Job is kept forever).
LEFT_TO_DEFAULTS = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: report
spec:
  # completions, parallelism and backoffLimit intentionally left to defaults
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: report:1.0
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {memory: 64Mi}
"""


def lint(*args: str) -> Result:
    return CliRunner().invoke(main, ["lint", "--no-config", *args])


def test_text_lists_errors_and_warnings_and_counts_infos() -> None:
    result = lint(str(EXAMPLES))
    counts = json.loads(lint("--format", "json", str(EXAMPLES)).stdout)["summary"]
    assert counts["infos"] >= 10
    lines = result.stdout.splitlines()
    assert not [line for line in lines if ": info " in line]
    assert sum(": error " in line for line in lines) == counts["errors"]
    assert sum(": warning " in line for line in lines) == counts["warnings"]
    assert f"{counts['infos']} infos (not shown: --show-infos)" in lines[-1]


@pytest.mark.parametrize("flags", [["--show-infos"], ["--min-severity", "info"]])
def test_infos_are_listed_on_request(flags: list[str]) -> None:
    counts = json.loads(lint("--format", "json", str(EXAMPLES)).stdout)["summary"]
    lines = lint(*flags, str(EXAMPLES)).stdout.splitlines()
    assert sum(": info " in line for line in lines) == counts["infos"]
    assert "not shown" not in lines[-1]


def test_min_severity_error_lists_errors_only_but_never_hides_what_fails() -> None:
    lines = lint("--min-severity", "error", str(EXAMPLES)).stdout.splitlines()
    assert not [line for line in lines if ": warning " in line or ": info " in line]
    assert "warnings (not shown)" in lines[-1]
    failing = lint("--min-severity", "error", "--fail-on", "warning", str(EXAMPLES))
    assert failing.exit_code == 1
    assert any(": warning " in line for line in failing.stdout.splitlines())


def test_machine_formats_keep_every_finding() -> None:
    report = json.loads(lint("--format", "json", str(EXAMPLES)).stdout)
    assert report["summary"]["infos"] == sum(f["severity"] == "info" for f in report["findings"])


def test_fix_does_not_write_restated_api_defaults(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(LEFT_TO_DEFAULTS)
    result = lint("--fix", str(path))
    assert result.exit_code == 0, result.output
    fixed = path.read_text()
    # Only the TTL, which changes what happens to the finished Job.
    assert fixed.count("\n") == LEFT_TO_DEFAULTS.count("\n") + 1
    added = set(fixed.splitlines()) - set(LEFT_TO_DEFAULTS.splitlines())
    assert added == {"  ttlSecondsAfterFinished: 259200"}
    assert "# completions, parallelism and backoffLimit intentionally left to defaults" in fixed


def test_diff_shows_nothing_restated_either(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(LEFT_TO_DEFAULTS)
    diff = lint("--diff", str(path)).stdout
    added = [
        line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    ]
    assert added == ["+  ttlSecondsAfterFinished: 259200"]


def test_the_policy_can_ask_for_restated_defaults(tmp_path: Path) -> None:
    policy = tmp_path / "explicit.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nextends: [jobguard:default]\n"
        "restated_api_defaults: action\n"
    )
    for policy_args in (["--policy", str(policy)], ["--policy", "jobguard:strict"]):
        path = tmp_path / "job.yaml"
        path.write_text(LEFT_TO_DEFAULTS)
        lint("--fix", *policy_args, str(path))
        added = set(path.read_text().splitlines()) - set(LEFT_TO_DEFAULTS.splitlines())
        assert {"  completions: 1", "  parallelism: 1"} <= added, policy_args
