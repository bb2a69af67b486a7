"""The CI formats and --diff stay on the light lint path: no server or cluster library loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("flask", "gunicorn", "kubernetes", "cryptography", "prometheus_client")
JOB = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {template: {spec: {containers: []}}}\n"


def imported(tmp_path: Path, *args: str) -> set[str]:
    (tmp_path / "job.yaml").write_text(JOB)
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "jobguard", "lint", *args, "job.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode in (0, 1), run.stderr
    return {
        line.split("|")[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "json"])
def test_report_formats_import_nothing_heavy(tmp_path: Path, fmt: str) -> None:
    modules = imported(tmp_path, "--format", fmt)
    assert "jobguard" in modules
    assert not modules & set(HEAVY)


def test_diff_imports_nothing_heavy(tmp_path: Path) -> None:
    modules = imported(tmp_path, "--diff")
    assert "jobguard" in modules
    assert not modules & set(HEAVY)


def test_a_policy_without_custom_rules_does_not_load_the_cel_library(tmp_path: Path) -> None:
    # about 10 ms and 13 MiB of every run; it is loaded when a policy declares custom rules
    modules = imported(tmp_path)
    assert "jobguard" in modules
    assert "cel_expr_python" not in modules
