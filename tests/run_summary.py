"""Lines a test wants shown at the end of the run (what it measured), kept out of assertions.

Under pytest-xdist a test runs in a worker process; tests/conftest.py hands each worker's lines
to the controlling process, which prints them in the run's summary.
"""

from __future__ import annotations

#: (section title, line), in the order the tests added them.
LINES: list[tuple[str, str]] = []


def add(section: str, line: str) -> None:
    LINES.append((section, line))
