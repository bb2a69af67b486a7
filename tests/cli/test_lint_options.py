"""The lint command line people expect: configuration discovery, paths, selection, exit codes,
output and colour. Each test runs the real ``jobguard`` command in a subprocess."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34
"""
CLEAN_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: clean
spec:
  completions: 1
  parallelism: 1
  backoffLimit: 3
  ttlSecondsAfterFinished: 3600
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: pi
        image: perl:5.34
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {memory: 64Mi}
"""
STRICT_POLICY = "apiVersion: jobguard.dev/v1\nkind: Policy\nextends: jobguard:strict\n"
ESC = "\x1b["
# The environment without anything that changes colour or the policy.
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("NO_COLOR", "FORCE_COLOR", "JOBGUARD_POLICY", "TERM")
}


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**BASE_ENV, **(env or {})},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def finding_rules(stdout: str) -> list[str]:
    return [f["rule"] for f in json.loads(stdout)["findings"]]


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree with a Job two folders down."""
    root = tmp_path / "repo"
    (root / "team" / "jobs").mkdir(parents=True)
    (root / "team" / "jobs" / "job.yaml").write_text(JOB)
    git(root, "init", "-q")
    return root


# -- configuration --------------------------------------------------------------------------


def test_configuration_in_a_parent_folder_is_found_and_named(repo: Path) -> None:
    (repo / ".jobguard.yaml").write_text("policy: [strict.yaml]\n")
    (repo / "strict.yaml").write_text(STRICT_POLICY)
    here = repo / "team" / "jobs"
    found = run("lint", "--format", "json", "job.yaml", cwd=here)
    assert found.returncode == 1
    assert f"jobguard: configuration {repo / '.jobguard.yaml'}" in found.stderr
    # strict requires activeDeadlineSeconds; the default policy does not.
    assert "active-deadline" in finding_rules(found.stdout)
    plain = run("lint", "--no-config", "--format", "json", "job.yaml", cwd=here)
    assert "active-deadline" not in finding_rules(plain.stdout)
    assert "configuration" not in plain.stderr


def test_pyproject_tool_table_is_a_configuration(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.jobguard]\nselect = ["restart-policy"]\n')
    result = run("lint", "--format", "json", "team/jobs/job.yaml", cwd=repo)
    assert finding_rules(result.stdout) == ["restart-policy"]
    assert f"jobguard: configuration {repo / 'pyproject.toml'}" in result.stderr


def test_configuration_above_the_repository_root_is_not_used(repo: Path) -> None:
    (repo.parent / ".jobguard.yaml").write_text("select: [restart-policy]\n")
    result = run("lint", "--format", "json", "team/jobs/job.yaml", cwd=repo)
    assert "configuration" not in result.stderr
    assert len(finding_rules(result.stdout)) > 1


def test_a_broken_configuration_is_an_input_error_naming_the_key(repo: Path) -> None:
    (repo / ".jobguard.yaml").write_text("selcet: [restart-policy]\n")
    result = run("lint", "team/jobs/job.yaml", cwd=repo)
    assert result.returncode == 2
    assert "selcet" in result.stderr
    assert "select" in result.stderr  # the did-you-mean


def test_jobguard_policy_environment_variable_and_policy_flag(repo: Path) -> None:
    (repo / "strict.yaml").write_text(STRICT_POLICY)
    env = {"JOBGUARD_POLICY": str(repo / "strict.yaml")}
    strict = run("lint", "--format", "json", "team/jobs/job.yaml", cwd=repo, env=env)
    assert "active-deadline" in finding_rules(strict.stdout)
    default = run(
        "lint",
        "--policy",
        "jobguard:default",
        "--format",
        "json",
        "team/jobs/job.yaml",
        cwd=repo,
        env=env,
    )
    assert "active-deadline" not in finding_rules(default.stdout)


# -- paths ----------------------------------------------------------------------------------


def test_gitignored_folders_are_not_linted_and_the_summary_says_so(repo: Path) -> None:
    (repo / "node_modules").mkdir()
    (repo / "node_modules" / "job.yaml").write_text(JOB)
    (repo / ".gitignore").write_text("node_modules/\n")
    result = run("lint", "--no-config", ".", cwd=repo)
    assert "node_modules" not in result.stdout
    assert "(1 file ignored by git, not linted)" in result.stdout
    everything = run("lint", "--no-config", "--no-respect-gitignore", ".", cwd=repo)
    assert "node_modules/job.yaml" in everything.stdout


def test_exclude_globs_match_a_component_or_a_path(repo: Path) -> None:
    (repo / "vendor").mkdir()
    (repo / "vendor" / "job.yaml").write_text(JOB)
    (repo / "team" / "out.rendered.yaml").write_text(JOB)
    component = run(
        "lint",
        "--no-config",
        "--exclude",
        "vendor",
        "--exclude",
        "*.rendered.yaml",
        "--format",
        "json",
        ".",
        cwd=repo,
    )
    files = {f["file"] for f in json.loads(component.stdout)["findings"]}
    assert files == {"team/jobs/job.yaml"}
    path = run("lint", "--no-config", "--exclude", "team/jobs", "--format", "json", ".", cwd=repo)
    files = {f["file"] for f in json.loads(path.stdout)["findings"]}
    assert files == {"team/out.rendered.yaml", "vendor/job.yaml"}


def test_stdin_filename_names_the_findings_and_matches_file_exemptions(tmp_path: Path) -> None:
    named = run(
        "lint",
        "--no-config",
        "--stdin-filename",
        "jobs/pi.yaml",
        "--format",
        "json",
        "-",
        cwd=tmp_path,
        stdin=JOB,
    )
    assert {f["file"] for f in json.loads(named.stdout)["findings"]} == {"jobs/pi.yaml"}
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nexemptions:\n"
        "- files: ['jobs/*.yaml']\n  rules: [restart-policy]\n  reason: legacy\n"
    )
    exempt = run(
        "lint",
        "--no-config",
        "--policy",
        str(policy),
        "--stdin-filename",
        "jobs/pi.yaml",
        "--format",
        "json",
        "-",
        cwd=tmp_path,
        stdin=JOB,
    )
    assert "restart-policy" not in finding_rules(exempt.stdout)
    assert "restart-policy" in finding_rules(named.stdout)


# -- selection and exit codes ----------------------------------------------------------------


def test_select_and_ignore_by_name_or_code(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    picked = run(
        "lint",
        "--no-config",
        "--select",
        "restart-policy,JG103",
        "--format",
        "json",
        "job.yaml",
        cwd=tmp_path,
    )
    assert finding_rules(picked.stdout) == ["restart-policy", "backoff-limit"]
    everything = finding_rules(
        run("lint", "--no-config", "--format", "json", "job.yaml", cwd=tmp_path).stdout
    )
    ignored = run(
        "lint", "--no-config", "--ignore", "resources", "--format", "json", "job.yaml", cwd=tmp_path
    )
    assert finding_rules(ignored.stdout) == [r for r in everything if r != "resources"]
    unknown = run("lint", "--no-config", "--select", "restart-polcy", "job.yaml", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "unknown rule 'restart-polcy'" in unknown.stderr


def test_exit_codes_with_and_without_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    (tmp_path / "clean.yaml").write_text(CLEAN_JOB)
    (tmp_path / "broken.yaml").write_text("kind: Job\nspec: [unclosed\n")
    assert run("lint", "--no-config", "clean.yaml", cwd=tmp_path).returncode == 0
    assert run("lint", "--no-config", "job.yaml", cwd=tmp_path).returncode == 1
    assert run("lint", "--no-config", "--exit-zero", "job.yaml", cwd=tmp_path).returncode == 0
    # Broken input is never waved through.
    broken = run("lint", "--no-config", "--exit-zero", "broken.yaml", cwd=tmp_path)
    assert broken.returncode == 2
    # --fail-on lowers the bar: the default policy's warnings now fail.
    assert (
        run(
            "lint",
            "--no-config",
            "--fail-on",
            "warning",
            "--select",
            "resources",
            "job.yaml",
            cwd=tmp_path,
        ).returncode
        == 1
    )
    assert (
        run("lint", "--no-config", "--select", "resources", "job.yaml", cwd=tmp_path).returncode
        == 0
    )


# -- output ---------------------------------------------------------------------------------


def test_quiet_prints_findings_only_and_output_writes_a_file(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    loud = run("lint", "--no-config", "--select", "restart-policy", "job.yaml", cwd=tmp_path)
    quiet = run("lint", "--no-config", "-q", "--select", "restart-policy", "job.yaml", cwd=tmp_path)
    assert "1 file, 1 Job/CronJob" in loud.stdout
    assert "1 file" not in quiet.stdout
    assert quiet.stdout.startswith("Job pi (job.yaml:1)\njob.yaml:7:5: error restart-policy ")
    written = run(
        "lint", "--no-config", "-o", "report.json", "--format", "json", "job.yaml", cwd=tmp_path
    )
    assert written.returncode == 1
    assert written.stdout == ""
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["version"] == 1
    assert report["findings"][0]["rule"] == "restart-policy"


ORDER_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: order
spec:
  template:
    spec:
      restartPolicy: Always
      containers:
        - name: main
          image: busybox:1.36
"""


def test_text_output_lists_an_objects_findings_in_line_order(tmp_path: Path) -> None:
    """The JSON report keeps the rules' order; the text lists positions as a compiler does,
    rules' order kept among the findings at one position."""
    (tmp_path / "job.yaml").write_text(ORDER_JOB)
    select = "restart-policy,backoff-limit,ttl-after-finished,resources"
    text = run(
        "lint", "--no-config", "-q", "--show-infos", "--select", select, "job.yaml", cwd=tmp_path
    )
    located = [
        line.split(" ")[0] + " " + line.split(" ")[2]
        for line in text.stdout.splitlines()
        if line.startswith("job.yaml:")
    ]
    assert located == [
        "job.yaml:5:1: backoff-limit",
        "job.yaml:5:1: ttl-after-finished",
        "job.yaml:8:7: restart-policy",
        "job.yaml:10:11: resources",
    ]
    report = run(
        "lint", "--no-config", "--format", "json", "--select", select, "job.yaml", cwd=tmp_path
    )
    assert finding_rules(report.stdout)[0] == "restart-policy"


def test_statistics_counts_findings_per_rule(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    result = run(
        "lint",
        "--no-config",
        "--statistics",
        "--show-infos",
        "--select",
        "restart-policy,resources,completions-parallelism",
        "job.yaml",
        cwd=tmp_path,
    )
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        # completions 1 and parallelism 1 are what the API server fills in: info.
        "2  JG102  completions-parallelism (info)",
        "1  JG101  restart-policy (error)",
        "1  JG111  resources (warning)",
    ]
    assert result.returncode == 1


def test_write_baseline_creates_the_baseline_it_is_also_reading(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    first = run(
        "lint",
        "--no-config",
        "--baseline",
        "b.json",
        "--write-baseline",
        "b.json",
        "job.yaml",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "b.json").exists()
    again = run("lint", "--no-config", "--baseline", "b.json", "job.yaml", cwd=tmp_path)
    assert again.returncode == 0


def test_diff_says_so_when_only_unfixable_findings_remain(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(CLEAN_JOB.replace("name: clean", "name: Bad_Name"))
    result = run("lint", "--no-config", "--diff", "bad.yaml", cwd=tmp_path)
    assert result.stdout == ""
    assert "jobguard: --diff: nothing for --fix to write" in result.stderr


# -- colour ---------------------------------------------------------------------------------


def run_in_terminal(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """The command's output as a terminal shows it (stdout is a pseudo-terminal)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "jobguard", *args],
        cwd=cwd,
        env={**BASE_ENV, "TERM": "xterm", **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError("no output from the command within 60 s")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        ((), {}, False),
        (("--color",), {}, True),
        (("--no-color",), {}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        (("--no-color",), {"FORCE_COLOR": "1"}, False),
        ((), {"NO_COLOR": "1"}, False),
    ],
)
def test_colour_into_a_pipe(
    tmp_path: Path, flags: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    result = run("lint", "--no-config", *flags, "job.yaml", cwd=tmp_path, env=env)
    assert (ESC in result.stdout) is coloured
    assert "restart-policy" in result.stdout


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [((), {}, True), ((), {"NO_COLOR": "1"}, False), (("--no-color",), {}, False)],
)
def test_colour_in_a_terminal(
    tmp_path: Path, flags: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    shown = run_in_terminal("lint", "--no-config", *flags, "job.yaml", cwd=tmp_path, env=env)
    assert "restart-policy" in shown
    assert (ESC in shown) is coloured


def test_json_output_is_never_coloured(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(JOB)
    result = run("lint", "--no-config", "--color", "--format", "json", "job.yaml", cwd=tmp_path)
    assert ESC not in result.stdout
    json.loads(result.stdout)
