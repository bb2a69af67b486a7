"""Every gunicorn internal jobguard.webhook.gunicorn_config and jobguard.webhook.worker rely on
exists in the gunicorn
installed (the version pyproject.toml pins): without them ``jobguard serve`` fails to start or
silently loses a protection."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import gunicorn  # type: ignore[import-untyped]
from gunicorn import config as gunicorn_config_settings
from gunicorn import util
from gunicorn.workers import gthread  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "jobguard" / "webhook" / "gunicorn_config.py"


def test_close_graceful_exists_with_the_arguments_the_wrapper_passes() -> None:
    assert inspect.getsource(util).count("def close_graceful(") == 1
    import jobguard.webhook.gunicorn_config as ours

    wrapped = ours._close_graceful
    assert wrapped.__module__ == "gunicorn.util"
    assert wrapped.__name__ == "close_graceful"
    params = inspect.signature(wrapped).parameters
    assert {"sock", "timeout", "max_drain"} <= set(params)
    assert gthread.util.close_graceful is ours._close_with_short_linger


def test_the_first_bytes_wait_is_a_module_constant_of_the_gthread_worker() -> None:
    assert isinstance(gthread.DEFAULT_WORKER_DATA_TIMEOUT, (int, float))
    assert "DEFAULT_WORKER_DATA_TIMEOUT" in inspect.getsource(gthread)


def test_every_setting_the_config_file_assigns_is_a_gunicorn_setting() -> None:
    known = {s.name for s in gunicorn_config_settings.KNOWN_SETTINGS}
    assigned = set(re.findall(r"^([a-z][a-z_]*) = ", CONFIG.read_text(), re.MULTILINE))
    hooks = set(re.findall(r"^def ([a-z][a-z_]*)\(", CONFIG.read_text(), re.MULTILINE))
    assert assigned - known == set()
    assert hooks - known == set()


def test_the_installed_gunicorn_is_the_major_version_pyproject_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = [d for d in project["project"]["optional-dependencies"]["server"] if "gunicorn" in d]
    low, high = re.fullmatch(r"gunicorn>=(\d+)(?:\.\d+)*,<(\d+)", pin).groups()  # type: ignore[union-attr]
    major = int(gunicorn.__version__.split(".")[0])
    assert int(low) <= major < int(high) == int(low) + 1


def test_the_worker_overrides_gthread_methods_that_exist_with_the_arguments_it_expects() -> None:
    """jobguard.webhook.worker.WebhookWorker replaces these gthread methods and calls into
    the others: each must exist with the parameters the override takes."""
    expected = {
        "accept": ["self", "listener"],
        "on_client_socket_readable": ["self", "conn", "client"],
        "wait_for_and_dispatch_events": ["self", "timeout"],
        "finish_request": ["self", "conn", "fs"],
        "handle": ["self", "conn"],
        "enqueue_req": ["self", "conn"],
        "init_process": ["self"],
    }
    for name, params in expected.items():
        assert list(inspect.signature(getattr(gthread.ThreadWorker, name)).parameters) == params
    source = inspect.getsource(gthread.ThreadWorker)
    # the loop passes its select timeout through the method the worker shortens
    assert "self.wait_for_and_dispatch_events(timeout=" in source
    # kept-alive connections are registered with the callback the worker replaces
    assert "partial(self.on_client_socket_readable, conn)" in source
    for attribute in ("keepalived_conns", "poller", "nr_conns", "tpool", "method_queue"):
        assert f"self.{attribute}" in source


def test_a_connection_skips_waiting_and_tls_wrapping_once_marked_initialized() -> None:
    """The worker hands a thread a connection with its TLS done and its request received: it
    sets ``initialized`` and ``data_ready``, which gthread's handle() and TConn.init() honour."""
    handle = inspect.getsource(gthread.ThreadWorker.handle)
    assert "if not conn.initialized and not conn.data_ready:" in handle
    assert "req = next(conn.parser)" in handle
    init = inspect.getsource(gthread.TConn.init)
    assert "if self.initialized:\n            return" in init
    assert list(inspect.signature(gthread.TConn.__init__).parameters) == [
        "self",
        "cfg",
        "sock",
        "client",
        "server",
    ]


def test_the_parser_keeps_read_ahead_bytes_in_an_unreader_buffer() -> None:
    """The worker feeds a received request through ``unreader.unread`` and takes read-ahead
    back with ``take_buffered``; the application peeks at ``body.reader.unreader.buf``."""
    from gunicorn.http.body import Body, LengthReader  # type: ignore[import-untyped]
    from gunicorn.http.unreader import IterUnreader  # type: ignore[import-untyped]

    unreader = IterUnreader([b""])
    unreader.unread(b"abc")
    assert unreader.buf.getvalue() == b"abc"
    assert unreader.take_buffered() == b"abc"
    body = Body(LengthReader(unreader, 3))
    assert body.reader.unreader is unreader


def test_listeners_can_be_handed_over_as_file_descriptors() -> None:
    """``jobguard serve`` binds its ports and passes ``fd://N`` binds (gunicorn's own form)."""
    from gunicorn import sock

    assert util.parse_address("fd://7") == 7
    assert "fdaddr" in inspect.getsource(sock.create_sockets)
    assert list(inspect.signature(sock.ssl_context).parameters) == ["conf"]
