"""The conventions people bring from ruff, kubeconform and kube-linter: the current folder by
default, paths named on the command line always linted (unless --force-exclude), a clear note
when nothing was found, ``--fix -`` as a filter, a short ``--write-baseline``, ``rules`` by
code, and a missing kubeconfig named. Each test runs the real command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jobguard.cli import main
from tests.helpers import git

ROOT = Path(__file__).resolve().parents[2]
OMITTED = ROOT / "examples" / "bad" / "restart-policy-omitted.yaml"
CLEAN = ROOT / "examples" / "good" / "pi.yaml"


def jobguard(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def linted_files(result: Result) -> list[str]:
    return sorted({f["file"] for f in json.loads(result.stdout)["findings"]})


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree (the working directory) with a Job in jobs/, one in build/ (ignored by
    git) and one in vendor/."""
    for folder in ("jobs", "build", "vendor"):
        (tmp_path / folder).mkdir()
        shutil.copy(OMITTED, tmp_path / folder / "job.yaml")
    (tmp_path / ".gitignore").write_text("build/\n")
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_path_lints_the_current_folder(repo: Path) -> None:
    result = jobguard("lint", "--no-config", "--format", "json")
    assert result.exit_code == 1
    assert linted_files(result) == ["jobs/job.yaml", "vendor/job.yaml"]
    assert json.loads(result.stdout)["summary"]["ignored"] == 1


def test_a_path_named_on_the_command_line_is_linted_even_when_excluded(repo: Path) -> None:
    named = jobguard(
        "lint", "--no-config", "--format", "json", "--exclude", "vendor", "vendor/job.yaml"
    )
    assert linted_files(named) == ["vendor/job.yaml"]
    ignored = jobguard("lint", "--no-config", "--format", "json", "build/job.yaml")
    assert linted_files(ignored) == ["build/job.yaml"]
    folder = jobguard("lint", "--no-config", "--format", "json", "build")
    assert linted_files(folder) == ["build/job.yaml"]
    # A folder walk still leaves out what the exclude names.
    walked = jobguard("lint", "--no-config", "--format", "json", "--exclude", "vendor", ".")
    assert linted_files(walked) == ["jobs/job.yaml"]


def test_force_exclude_applies_excludes_and_gitignore_to_named_paths(repo: Path) -> None:
    for args in (["--exclude", "vendor", "vendor/job.yaml"], ["build/job.yaml"], ["build"]):
        result = jobguard("lint", "--no-config", "--force-exclude", *args)
        assert result.exit_code == 0, (args, result.output)
        assert "Job pi" not in result.stdout
        assert result.stderr.startswith("jobguard: no manifest file (.yaml, .yml, .json) to lint")


def test_a_run_that_finds_no_manifest_says_so(repo: Path) -> None:
    (repo / "empty").mkdir()
    (repo / "empty" / "README.md").write_text("no manifests here\n")
    quiet = jobguard("lint", "--no-config", "empty")
    assert quiet.exit_code == 0
    assert quiet.stderr == "jobguard: no manifest file (.yaml, .yml, .json) to lint in empty\n"
    strict = jobguard("lint", "--no-config", "--fail-on-empty", "empty")
    assert strict.exit_code == 2
    assert strict.stderr == "error: no manifest file (.yaml, .yml, .json) to lint in empty\n"
    ignored = jobguard("lint", "--no-config", "--exclude", "jobs", "--exclude", "vendor", ".")
    assert ignored.stderr == (
        "jobguard: no manifest file (.yaml, .yml, .json) to lint in . "
        "(1 file ignored by git and 2 files excluded)\n"
    )
    found = jobguard("lint", "--no-config", "--fail-on-empty", "jobs")
    assert found.exit_code == 1
    assert "no manifest" not in found.stderr


def test_fix_of_stdin_prints_the_fixed_document_and_reports_on_stderr() -> None:
    source = OMITTED.read_text()
    result = jobguard("lint", "--no-config", "--fix", "-", stdin=source)
    assert result.exit_code == 0, result.output  # what remains is a warning
    assert (
        result.stdout == source + "      restartPolicy: Never\n  ttlSecondsAfterFinished: 259200\n"
    )
    assert "<stdin>:13:11: warning resources" in result.stderr
    assert "restart-policy" not in result.stderr
    clean = CLEAN.read_text()
    unchanged = jobguard("lint", "--no-config", "--fix", "-", stdin=clean)
    assert (unchanged.exit_code, unchanged.stdout) == (0, clean)


def test_diff_of_stdin_is_a_diff_named_as_stdin_filename() -> None:
    result = jobguard(
        "lint",
        "--no-config",
        "--diff",
        "--stdin-filename",
        "k8s/job.yaml",
        "-",
        stdin=OMITTED.read_text(),
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/k8s/job.yaml\n+++ b/k8s/job.yaml\n")
    assert "+      restartPolicy: Never\n" in result.stdout


def test_fix_of_stdin_refuses_other_paths_beside_it(repo: Path) -> None:
    result = jobguard("lint", "--no-config", "--fix", "-", "jobs")
    assert result.exit_code == 2
    assert "--fix - and --diff - read stdin alone" in result.stderr


def test_write_baseline_prints_a_summary_line_not_the_report(repo: Path) -> None:
    result = jobguard("lint", "--no-config", "--write-baseline", "baseline.json", "jobs", "vendor")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "jobguard: recorded 10 findings (2 files) in baseline.json\n"
    entries = json.loads((repo / "baseline.json").read_text())["entries"]
    assert sum(e["count"] for e in entries) == 10  # infos included: the baseline is whole


def test_rules_are_listed_by_code() -> None:
    lines = [line for line in jobguard("rules").stdout.splitlines() if line.startswith("JG")]
    codes = [line.split()[0] for line in lines]
    assert codes == sorted(codes)
    assert len(codes) > 30
    api = [line.split()[0] for line in jobguard("rules", "--category", "api").stdout.splitlines()]
    assert api == sorted(api)


def test_audit_names_a_missing_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    result = jobguard("audit", "--kubeconfig", str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"error: --kubeconfig {missing}: no such file; nothing was audited\n"
    monkeypatch.setenv("KUBECONFIG", str(missing))
    from_env = jobguard("audit")
    assert from_env.exit_code == 2
    assert f"KUBECONFIG={missing}: no such file" in from_env.stderr


def test_fix_of_an_excluded_stdin_passes_it_through_under_force_exclude() -> None:
    source = OMITTED.read_text()
    args = [
        "lint",
        "--no-config",
        "--fix",
        "--exclude",
        "vendor",
        "--stdin-filename",
        "vendor/x.yaml",
    ]
    forced = jobguard(*args, "--force-exclude", "-", stdin=source)
    assert (forced.exit_code, forced.stdout) == (0, source)
    named = jobguard(*args, "-", stdin=source)
    assert "restartPolicy: Never" in named.stdout  # named by stdin: linted and fixed
