"""Structured JSON logs: one line per admission request, one per policy event.

A request line carries identities and the decision, never object contents: no env values, no
images, no finding messages (a message may quote a field's value); rules appear as
``rule@field.path``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

REQUEST_LOGGER = "jobguard.webhook.requests"
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
    """Send both loggers to stderr as JSON lines (idempotent)."""
    for name in (REQUEST_LOGGER, EVENT_LOGGER):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(getattr(h, "_jobguard", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(JsonFormatter())
            handler._jobguard = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
        logger.propagate = False


def request_logger() -> logging.Logger:
    return logging.getLogger(REQUEST_LOGGER)


def event_logger() -> logging.Logger:
    return logging.getLogger(EVENT_LOGGER)
