"""Structured JSON logs: one line per admission request, one per policy event.

A request line carries identities and the decision, never object contents: no env values, no
images, no finding messages (a message may quote a field's value); rules appear as
``rule@field.path``.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
import weakref
from typing import IO, Any

from jobguard.webhook import fastjson

EVENT_LOGGER = "jobguard.webhook"


class JsonFormatter(logging.Formatter):
    """``record.msg`` is a dict of fields; the line adds time and level."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        if isinstance(record.msg, dict):
            fields.update(record.msg)
        else:
            fields["message"] = record.getMessage()
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, separators=(",", ":"), default=str)


def configure(level: int = logging.INFO) -> None:
    """Send the event logger to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger(EVENT_LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_jobguard", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._jobguard = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


_formatted_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def _now() -> str:
    """The UTC time with milliseconds, as ``2026-01-31T12:00:00.123Z``.

    strftime and gmtime cost a fifth of a request's log line: the first line in a second
    formats them and the others reuse that text. The pair is replaced in one assignment, so a
    thread never reads one second's text with another's number.
    """
    global _formatted_second
    now = time.time()
    second = int(now)
    cached_second, text = _formatted_second
    if cached_second != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _formatted_second = (second, text)
    return f"{text}.{int((now - second) * 1000):03d}Z"


#: How long a request line may wait in memory before it is written. Envoy's access logs wait
#: up to 1 s; a quarter of that keeps ``kubectl logs -f`` feeling live.
FLUSH_INTERVAL = 0.25
#: Lines held before the writer is woken early, and the most ever held: with the output blocked
#: (a full pipe nobody reads) lines beyond this are dropped and counted, never waited for.
FLUSH_LINES = 256
MAX_PENDING_LINES = 20_000


class RequestLog:
    """One JSON line per admission request, written by a background thread.

    The request line is on the hot path. Going through ``logging`` (a LogRecord with caller
    lookup, handler lock, formatter) cost as much as judging the object, and even a direct
    ``write`` + ``flush`` per request cost a system call and a hand-over of the GIL under
    load (about a sixth of the webhook's own CPU per request, measured with bench/webhook.py).
    So a request only appends its line to a list; a writer thread writes what has gathered
    every :data:`FLUSH_INTERVAL` seconds (sooner past :data:`FLUSH_LINES` lines) in one
    write, and at exit. A request never waits for the log: if the output blocks, lines past
    :data:`MAX_PENDING_LINES` are dropped and a line saying how many is written once the
    output moves again. A worker killed with SIGKILL loses at most the last interval's lines.
    Same line format as :class:`JsonFormatter`; policy and certificate events still go through
    ``logging``.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        interval: float = FLUSH_INTERVAL,
        flush_lines: int = FLUSH_LINES,
        max_pending: int = MAX_PENDING_LINES,
    ):
        # Bound now: lines go where stderr was when the app was built, even if it is swapped
        # later (as pytest does around each test).
        self._stream = stream or sys.stderr
        self._interval = interval
        self._flush_lines = flush_lines
        self._max_pending = max_pending
        self._pending: list[str] = []
        self._dropped = 0
        self._lock = threading.Lock()  # guards _pending and _dropped; never held over I/O
        self._write_lock = threading.Lock()  # one writer at a time, lines stay in order
        self._wake = threading.Event()
        self._writer_started = False
        _LOGS.add(self)

    def write(self, level: str, fields: dict[str, Any]) -> None:
        # Back to text for the text stream: fastjson's output is always valid UTF-8.
        line = fastjson.dumps({"time": _now(), "level": level, **fields}, default=str).decode()
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._dropped += 1
                return
            self._pending.append(line + "\n")
            pending = len(self._pending)
        if not self._writer_started:
            self._start_writer()
        if pending >= self._flush_lines:
            self._wake.set()

    def flush(self) -> None:
        """Write every line gathered so far (the writer thread's job; also at exit)."""
        with self._write_lock:
            with self._lock:
                lines, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
            if dropped:
                note: dict[str, Any] = {"time": _now(), "level": "warning"}
                note.update(event="log_lines_dropped", count=dropped)
                lines.append(json.dumps(note, separators=(",", ":")) + "\n")
            if not lines:
                return
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):  # a closed or broken output: nothing to log to
                pass

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer_started:
                return
            self._writer_started = True
        thread = threading.Thread(target=self._run, name="jobguard-request-log", daemon=True)
        thread.start()
        atexit.register(self.flush)

    def _forget_writer(self) -> None:
        """In a forked child: the parent's writer thread did not come along."""
        self._writer_started = False

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()


_LOGS: weakref.WeakSet[RequestLog] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for log in list(_LOGS):
        log._forget_writer()


os.register_at_fork(after_in_child=_after_fork_in_child)


def event_logger() -> logging.Logger:
    return logging.getLogger(EVENT_LOGGER)
