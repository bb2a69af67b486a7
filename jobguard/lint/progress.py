"""The progress line of a long ``jobguard lint`` run: ``jobguard: 1,234 of 5,000 files`` on stderr.

Shown only where a person watches (stderr is a terminal) and only once the run has lasted
:data:`DELAY_SECONDS`, so that short runs, pipes, CI logs and files never see it. It is one
line, rewritten in place (``\\r``) at most every :data:`REFRESH_SECONDS`, and erased before
anything else is printed and at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

DELAY_SECONDS = 2.0
REFRESH_SECONDS = 0.1


class Progress:
    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.delay = delay
        self.last = float("-inf")
        self.width = 0  # of the line on the terminal now (0: none)

    def update(self, done: int, total: int) -> None:
        """Say how far the run is, if it is time to."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.delay or now - self.last < REFRESH_SECONDS:
            return
        self.last = now
        line = f"jobguard: {done:,} of {total:,} files"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def clear(self) -> None:
        """Erase the line (before other output, and at the end)."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
            self.last = float("-inf")  # redraw at the next update
