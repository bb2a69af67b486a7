"""What the install tests measured (image size, build time), shown at the end of the run."""

from __future__ import annotations

from tests import run_summary


def report(line: str) -> None:
    """Show ``line`` in the run's summary (and keep it out of the assertions)."""
    run_summary.add("jobguard install", line)
