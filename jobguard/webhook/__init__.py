"""The admission webhook (``jobguard serve``): Flask app, AdmissionReview handling, gunicorn.

``create_app`` lives in :mod:`jobguard.webhook.app`. This package file imports nothing, so that
``jobguard serve`` can prepare the environment (the Prometheus multiprocess directory) before
prometheus_client is first imported.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from jobguard.webhook.app import create_app

        return create_app
    if name == "Settings":
        from jobguard.webhook.settings import Settings

        return Settings
    raise AttributeError(name)
