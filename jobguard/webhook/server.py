"""gunicorn, launched programmatically: ``jobguard serve`` builds a :class:`WebhookServer`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from jobguard.webhook import gunicorn_config
from jobguard.webhook.settings import Settings


def config_defaults() -> dict[str, Any]:
    """The settings of :mod:`jobguard.webhook.gunicorn_config`, lower-case gunicorn names."""
    return {k: v for k, v in vars(gunicorn_config).items() if not k.startswith("_")}


class WebhookServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with jobguard's config module, command-line overrides (None: keep the config
    module's value) and app factory."""

    def __init__(self, settings: Settings, overrides: Mapping[str, Any]):
        self.settings = settings
        self.overrides = {k: v for k, v in overrides.items() if v is not None}
        super().__init__()

    def load_config(self) -> None:
        known = self.cfg.settings
        for key, value in {**config_defaults(), **self.overrides}.items():
            if key in known:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork (no preload): every worker has its own policy holder,
        # metrics files and TLS context.
        from jobguard.webhook.app import create_app

        return create_app(self.settings)
