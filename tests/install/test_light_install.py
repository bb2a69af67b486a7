"""The light install: the base package alone lints, and the server commands say what to install.

A fresh virtualenv gets the project without its dependencies (``pip install --no-deps``) plus
exactly the base dependencies pyproject.toml lists, from the package index, so nothing of the
server extra can leak in from the test environment.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_MODULES = ("flask", "gunicorn", "prometheus_client", "cryptography", "kubernetes")
BAD_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: pi, namespace: batch}
spec:
  template:
    spec:
      containers: [{name: pi, image: perl}]
"""

pytestmark = pytest.mark.slow


def base_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


@pytest.fixture(scope="module")
def light_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("light") / "venv"
    venv.EnvBuilder(with_pip=True).create(where)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    for args in (["--no-deps", str(ROOT)], base_requirements()):
        run = subprocess.run([*pip, *args], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
    return where


def jobguard(venv_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(venv_dir / "bin" / "jobguard"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_light_install_has_none_of_the_server_extra(light_venv: Path) -> None:
    python = str(light_venv / "bin" / "python")
    probe = "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if u.find_spec(m)])"
    run = subprocess.run(
        [python, "-c", probe, *SERVER_MODULES], capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == []


def test_lint_works_on_the_light_install(light_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(BAD_JOB)
    run = jobguard(light_venv, "lint", "--no-color", "job.yaml", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "job.yaml:7:" in run.stdout and "restart-policy" in run.stdout
    assert run.stderr == ""


def test_rules_and_explain_work_on_the_light_install(light_venv: Path, tmp_path: Path) -> None:
    listed = jobguard(light_venv, "rules", cwd=tmp_path)
    assert listed.returncode == 0 and "restart-policy" in listed.stdout
    explained = jobguard(light_venv, "explain", "restart-policy", cwd=tmp_path)
    assert explained.returncode == 0 and explained.stdout.startswith("JG101 restart-policy")


@pytest.mark.parametrize("command", ["serve", "certs"])
def test_server_commands_name_the_extra_to_install(
    light_venv: Path, tmp_path: Path, command: str
) -> None:
    run = jobguard(light_venv, command, cwd=tmp_path)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"`jobguard {command}` needs the 'server' extra" in run.stderr
    assert "Install it with: pip install 'jobguard[server]'" in run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "certs").exists()  # it stopped before doing anything


def test_the_test_extra_brings_the_server_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "jobguard[server]" in extras["test"]
