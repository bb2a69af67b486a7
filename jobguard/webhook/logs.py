"""Structured JSON logs: one line per admission request, one per policy event.

A request line carries identities and the decision, never object contents: no env values, no
images, no finding messages (a message may quote a field's value); rules appear as
``rule@field.path``.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import IO, Any

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


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class RequestLog:
    """One JSON line per admission request, written straight to a stream.

    The request line is on the hot path: going through ``logging`` (a LogRecord with caller
    lookup, handler lock, formatter) cost as much as judging the object. Same line format as
    :class:`JsonFormatter`; policy and certificate events still go through ``logging``.
    """

    def __init__(self, stream: IO[str] | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, level: str, fields: dict[str, Any]) -> None:
        line = json.dumps(
            {"time": _now(), "level": level, **fields}, separators=(",", ":"), default=str
        )
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(line + "\n")
            stream.flush()


def event_logger() -> logging.Logger:
    return logging.getLogger(EVENT_LOGGER)
