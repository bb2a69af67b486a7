"""What the install tests measured (image size, build time), shown at the end of the run."""

from __future__ import annotations

import pytest

_REPORT: list[str] = []


def report(line: str) -> None:
    """Show ``line`` in the run's summary (and keep it out of the assertions)."""
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.section("jobguard install")
        for line in _REPORT:
            terminalreporter.write_line(line)
