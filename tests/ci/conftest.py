"""Shared pieces of the CI-integration tests: the real command in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CI_TESTS = Path(__file__).parent
FIX_FIXTURES = CI_TESTS / "fixtures" / "fix"
SARIF_SCHEMA = CI_TESTS / "data" / "sarif-schema-2.1.0.json"


def run_jobguard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture()
def jobguard() -> object:
    return run_jobguard
