"""The composite GitHub Action (action.yml), run step by step as a runner would.

No GitHub runner here: the test stands in for one. It evaluates the only expressions the action
uses (``${{ inputs.NAME }}`` in ``env:`` values) with the action's defaults and the test's
inputs, runs each ``run:`` step with bash in a fresh virtualenv (in place of
actions/setup-python), with ``GITHUB_ACTION_PATH`` at this repository and a ``GITHUB_OUTPUT``
file, and checks what the workflow would see: the exit status, the annotations, the SARIF file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}")
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


def test_inputs_reach_the_scripts_only_through_the_environment() -> None:
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"], f"expression spliced into {step['name']}'s script"
            assert step["shell"] == "bash"
        for value in (step.get("env") or {}).values():
            for name in EXPRESSION.findall(value):
                assert name in ACTION["inputs"], name


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv, where actions/setup-python would have put a Python; the action's
    install step then runs in it for real."""
    where = tmp_path_factory.mktemp("runner") / "venv"
    venv.EnvBuilder(with_pip=True).create(where)
    install = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Install jobguard")
    done = run_step(install, {}, where / "bin", cwd=where.parent)
    assert done.returncode == 0, done.stderr
    return where / "bin"


def run_step(
    step: dict[str, Any], inputs: dict[str, str], bin_dir: Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update(inputs)
    step_env = {
        key: EXPRESSION.sub(lambda m: values[m.group(1)], value)
        for key, value in (step.get("env") or {}).items()
    }
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(step_env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["GITHUB_ACTION_PATH"] = str(ROOT)
    env["GITHUB_OUTPUT"] = str(cwd / "github-output.txt")
    env["NO_COLOR"] = "1"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def lint_step() -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "lint")
    return step


def test_findings_fail_the_step_with_annotations_and_sarif(
    runner_python: Path, tmp_path: Path
) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "job.yaml").write_text(BAD_JOB)
    done = run_step(
        lint_step(), {"paths": "k8s", "sarif-file": "jobguard.sarif"}, runner_python, tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(
        "::error file=k8s/job.yaml,line=6,col=5,title=JG101 restart-policy"
    )
    sarif = json.loads((tmp_path / "jobguard.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "JG101" in rules
    assert "sarif-file=jobguard.sarif\n" in (tmp_path / "github-output.txt").read_text()


def test_policy_and_fail_on_inputs(runner_python: Path, tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(
        BAD_JOB.replace("    spec:\n", "    spec:\n      restartPolicy: Never\n")
    )
    (tmp_path / "off.yaml").write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  resources: {action: off}\n"
    )
    warned = run_step(lint_step(), {"paths": "job.yaml"}, runner_python, tmp_path)
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "::warning file=job.yaml" in warned.stdout
    strict = run_step(
        lint_step(), {"paths": "job.yaml", "fail-on": "warning"}, runner_python, tmp_path
    )
    assert strict.returncode == 1
    without = run_step(
        lint_step(),
        {"paths": "job.yaml", "policy": "off.yaml", "format": "json"},
        runner_python,
        tmp_path,
    )
    assert "resources" not in {f["rule"] for f in json.loads(without.stdout)["findings"]}


def test_hostile_inputs_are_data_not_shell(runner_python: Path, tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(BAD_JOB)
    done = run_step(
        lint_step(),
        {"paths": "job.yaml", "args": "$(touch pwned) ;touch pwned2"},
        runner_python,
        tmp_path,
    )
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "pwned2").exists()
    assert done.returncode == 2  # the words are paths that do not exist: an input error
