"""The run's summary sections (tests/run_summary.py), also when pytest-xdist runs the tests, and
under xdist, the files with slow tests handed out first."""

from __future__ import annotations

from typing import Any

import pytest

from tests import run_summary

_WORKER_OUTPUT_KEY = "jobguard_run_summary"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: the files holding a ``slow`` test first, the rest in their order.

    The workers are handed whole files in collection order; a long file handed out last keeps
    one worker busy while the other has nothing left to do. Started first, it runs while the
    other worker gets through the many short files."""
    if not hasattr(config, "workerinput"):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_files)


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
