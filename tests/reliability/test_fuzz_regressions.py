"""Saved fuzzing inputs, replayed through the same targets ``fuzz/run.py`` fuzzes.

``tests/fixtures/fuzz/<target>/`` holds inputs that once broke jobguard or sit at an edge it must
keep handling (a 100 KB ``@every`` duration parsed in quadratic time, a 5,000-digit cron number
that crashed a rule, a lone surrogate in a uid answered with a 500, an object nested 3,000 deep,
alias bombs, merge keys...). Each target asserts jobguard's contract for that entry point (see
fuzz/targets.py); here every saved input must meet it, within a time budget.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fuzz.targets import TARGETS
from tests.helpers import FIXTURES

SAVED = sorted(p for p in (FIXTURES / "fuzz").glob("*/*") if p.is_file())


def test_every_target_has_saved_inputs() -> None:
    assert {p.parent.name for p in SAVED} == set(TARGETS)


@pytest.mark.parametrize("saved", SAVED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_saved_input_meets_its_targets_contract(saved: Path) -> None:
    started = time.monotonic()
    TARGETS[saved.parent.name](saved.read_bytes())
    assert time.monotonic() - started < 5
