"""The run's summary sections (tests/run_summary.py), also when pytest-xdist runs the tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests import run_summary

_WORKER_OUTPUT_KEY = "jobguard_run_summary"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's lines to the controlling process."""
    output: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if output is not None:
        output[_WORKER_OUTPUT_KEY] = [list(entry) for entry in run_summary.LINES]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: collect a finished worker's lines."""
    for section, line in getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT_KEY, []):
        run_summary.add(section, line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    sections: dict[str, list[str]] = {}
    for section, line in run_summary.LINES:
        sections.setdefault(section, []).append(line)
    for section, lines in sections.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
