"""Every gunicorn internal jobguard.webhook.gunicorn_config relies on exists in the gunicorn
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
