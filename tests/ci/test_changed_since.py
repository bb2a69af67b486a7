"""--changed-since against a real temporary git repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jobguard.lint.changed import ChangedFilesError, changed_files, within
from tests.ci.conftest import run_jobguard
from tests.helpers import git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

JOB = """apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  template:
    spec:
      containers: [{{name: main, image: busybox}}]
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "other").mkdir()
    for name in ("old", "edited", "deleted"):
        (tmp_path / "k8s" / f"{name}.yaml").write_text(JOB.format(name=name))
    (tmp_path / "README.md").write_text("docs\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "k8s" / "edited.yaml").write_text(JOB.format(name="edited2"))
    (tmp_path / "k8s" / "added.yml").write_text(JOB.format(name="added"))
    (tmp_path / "other" / "also.json").write_text(
        json.dumps(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "also"},
                "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "b"}]}}},
            }
        )
    )
    (tmp_path / "README.md").write_text("more docs\n")
    git(tmp_path, "rm", "-q", "k8s/deleted.yaml")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "feature work")
    # a commit on main after the branch point is not the branch's change (REF...HEAD)
    git(tmp_path, "checkout", "-q", "main")
    (tmp_path / "k8s" / "old.yaml").write_text(JOB.format(name="old-on-main"))
    git(tmp_path, "commit", "-q", "-am", "main moves on")
    git(tmp_path, "checkout", "-q", "feature")
    # uncommitted work: an unstaged edit, a staged new file, an untracked file, an ignored file
    (tmp_path / ".gitignore").write_text("ignored.yaml\n")
    (tmp_path / "k8s" / "ignored.yaml").write_text(JOB.format(name="ignored"))
    (tmp_path / "k8s" / "staged.yaml").write_text(JOB.format(name="staged"))
    git(tmp_path, "add", "k8s/staged.yaml")
    (tmp_path / "k8s" / "untracked.yaml").write_text(JOB.format(name="untracked"))
    return tmp_path


def test_changed_files_are_the_branch_changes_plus_uncommitted_work(repo: Path) -> None:
    assert changed_files("main", str(repo)) == [
        "k8s/added.yml",
        "k8s/edited.yaml",
        "k8s/staged.yaml",
        "k8s/untracked.yaml",
        "other/also.json",
    ]


def test_paths_are_relative_to_the_working_directory_and_paths_filter(repo: Path) -> None:
    assert changed_files("main", str(repo / "k8s")) == [
        "../other/also.json",
        "added.yml",
        "edited.yaml",
        "staged.yaml",
        "untracked.yaml",
    ]
    files = changed_files("main", str(repo))
    assert within(files, [str(repo / "other")]) == []  # relative to the process cwd, not repo
    import os

    here = os.getcwd()
    try:
        os.chdir(repo)
        assert within(files, ["other"]) == ["other/also.json"]
        assert within(files, ["k8s/added.yml", "other/also.json"]) == [
            "k8s/added.yml",
            "other/also.json",
        ]
    finally:
        os.chdir(here)


def test_cli_lints_only_changed_files(repo: Path) -> None:
    run = run_jobguard("lint", "--format", "json", "--changed-since", "main", cwd=repo)
    report = json.loads(run.stdout)
    names = sorted({f["name"] for f in report["findings"]})
    assert names == ["added", "also", "edited2", "staged", "untracked"]
    assert report["summary"]["files"] == 5
    assert run.returncode == 1
    narrowed = run_jobguard("lint", "--format", "json", "--changed-since", "main", "k8s", cwd=repo)
    assert json.loads(narrowed.stdout)["summary"]["files"] == 4


def test_nothing_changed_lints_nothing_and_passes(repo: Path) -> None:
    run = run_jobguard("lint", "--format", "json", "--changed-since", "HEAD", "README.md", cwd=repo)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["files"] == 0


def test_unknown_ref_and_no_repository_are_clear_errors(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = run_jobguard("lint", "--changed-since", "origin/nope", cwd=repo)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        "error: --changed-since: unknown git ref 'origin/nope' (fetch it first, e.g. git fetch origin main)\n"
    )
    outside = tmp_path_factory.mktemp("plain")
    run = run_jobguard("lint", "--changed-since", "main", cwd=outside)
    assert run.returncode == 2
    assert run.stderr == f"error: --changed-since: {outside} is not inside a git repository\n"
    with pytest.raises(ChangedFilesError):
        changed_files("--output=/tmp/x", str(repo))


def test_without_paths_or_changed_since_the_current_folder_is_linted(repo: Path) -> None:
    run = run_jobguard("lint", "--format", "json", cwd=repo)
    named = run_jobguard("lint", "--format", "json", ".", cwd=repo)
    assert run.returncode == named.returncode
    assert json.loads(run.stdout)["findings"] == json.loads(named.stdout)["findings"]
    assert json.loads(run.stdout)["summary"]["files"] > 0
