"""gunicorn, launched programmatically: ``jobguard serve`` builds a :class:`WebhookServer`."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from jobguard.webhook import gunicorn_config
from jobguard.webhook.listeners import by_port
from jobguard.webhook.settings import Settings


def config_defaults() -> dict[str, Any]:
    """The settings of :mod:`jobguard.webhook.gunicorn_config`, lower-case gunicorn names."""
    return {k: v for k, v in vars(gunicorn_config).items() if not k.startswith("_")}


def close_refused_connections(app: Any) -> Any:
    """WSGI wrapper: when the app refused a body unread (``CLOSE_CONNECTION`` in the environ),
    tell gunicorn to close the connection instead of draining the body to keep it alive.

    gunicorn passes its Response's bound ``start_response``; ``force_close`` is its own switch.
    """
    from jobguard.webhook.app import CLOSE_CONNECTION

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if environ.get(CLOSE_CONNECTION):
                force_close = getattr(
                    getattr(start_response, "__self__", None), "force_close", None
                )
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class WebhookServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with jobguard's config module, command-line overrides (None: keep the config
    module's value) and app factory, serving on ``listeners``: sockets ``jobguard serve`` bound
    itself (so that a port in use is its own clear error, not gunicorn's five retries)."""

    def __init__(
        self,
        settings: Settings,
        overrides: Mapping[str, Any],
        listeners: Sequence[socket.socket] = (),
    ):
        self.settings = settings
        self.overrides = {k: v for k, v in overrides.items() if v is not None}
        if listeners:
            self.overrides["bind"] = [f"fd://{sock.fileno()}" for sock in listeners]
        super().__init__()

    def load_config(self) -> None:
        known = self.cfg.settings
        for key, value in {**config_defaults(), **self.overrides}.items():
            if key in known:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork (no preload): every worker has its own policy holder,
        # metrics files and TLS context.
        from jobguard.webhook.app import create_app, metrics_app

        app = create_app(self.settings)
        self.metrics = app.extensions["jobguard"].metrics
        return by_port(
            close_refused_connections(app), metrics_app(self.metrics), self.settings.metrics_port
        )

    def count_dropped_request(self) -> None:
        """Called by the worker (jobguard.webhook.worker) for a request it dropped at the
        request deadline."""
        metrics = getattr(self, "metrics", None)
        if metrics is not None:
            metrics.dropped_requests.inc()
