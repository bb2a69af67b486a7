"""The release pipeline: the GitHub workflows are valid (check-jsonschema with its vendored
schema, offline), CI runs .ci/run, a tag builds and publishes what the release promises, every
place that names the version names the same one, and the changelog has its section."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobguard import __version__

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
sys.path.insert(0, str(ROOT / "tools"))
import changelog_section  # noqa: E402

from tests.deploy.kube import KUSTOMIZATIONS  # noqa: E402
from tests.deploy.kube import render as kustomize  # noqa: E402


def check_jsonschema() -> str:
    beside = Path(sys.executable).parent / "check-jsonschema"
    found = str(beside) if beside.exists() else shutil.which("check-jsonschema")
    assert found, "check-jsonschema not found: pip install -e '.[test]' installs it"
    return found


def validate_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def steps(job: dict[str, Any]) -> str:
    """A job's steps as text (uses and run lines), to look for what it does."""
    return "\n".join(
        str(step.get("uses", "")) + "\n" + str(step.get("run", "")) for step in job["steps"]
    )


def test_the_workflows_are_valid_github_workflows() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["ci.yml", "release.yml"]
    result = validate_workflows(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    broken = workflow("ci.yml")
    broken["jobs"]["test"]["runs_on"] = broken["jobs"]["test"].pop("runs-on")
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = validate_workflows(path)
    assert result.returncode == 1
    assert "runs_on" in result.stdout


def test_ci_runs_the_ci_script_on_pushes_and_pull_requests() -> None:
    ci = workflow("ci.yml")
    # YAML 1.1 reads the key `on` as true.
    assert set(ci[True]) == {"push", "pull_request"}
    assert ".ci/run" in steps(ci["jobs"]["test"])


def test_a_tag_releases_wheel_image_chart_and_notes() -> None:
    release = workflow("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert ".ci/run" in steps(jobs["test"])
    assert "python -m build" in steps(jobs["dist"])
    image = next(s for s in jobs["image"]["steps"] if s.get("id") == "push")["with"]
    assert image["platforms"] == "linux/amd64,linux/arm64"
    assert image["push"] is True
    chart = steps(jobs["chart"])
    assert (
        "helm package charts/jobguard" in chart
        and 'helm push "jobguard-${VERSION}.tgz" "oci://' in chart
    )
    notes = steps(jobs["release"])
    assert "tools/changelog_section.py" in notes and "gh release create" in notes
    assert jobs["release"]["needs"] == ["dist", "image", "chart"]


def test_the_chart_job_finds_the_values_it_rewrites() -> None:
    """The release pins the pushed image by sed on values.yaml: each line it rewrites exists
    exactly once."""
    values = (ROOT / "charts/jobguard/values.yaml").read_text()
    assert len(re.findall(r"^  repository: ", values, flags=re.MULTILINE)) == 1
    assert len(re.findall(r"^  digest: ", values, flags=re.MULTILINE)) == 1


def test_every_place_names_the_same_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert project == __version__ == "0.2.0"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r'"jobguard\[server\]==([^"]+)"', dockerfile) == [project]
    assert re.findall(r'org\.opencontainers\.image\.version="([^"]+)"', dockerfile) == [project]
    kustomization = yaml.safe_load((ROOT / "deploy/base/kustomization.yaml").read_text())
    assert kustomization["images"] == [
        {"name": "jobguard", "newName": "jobguard", "newTag": project}
    ]
    for name in (*KUSTOMIZATIONS, "deploy/overlays/audit"):
        assert set(container_images(kustomize(name))) == {f"jobguard:{project}"}, name
    chart = yaml.safe_load((ROOT / "charts/jobguard/Chart.yaml").read_text())
    assert (chart["version"], chart["appVersion"]) == (project, project)
    assert changelog_section.section((ROOT / "CHANGELOG.md").read_text(), project)


def container_images(objects: tuple[dict[str, Any], ...]) -> list[str]:
    """The image of every container of every workload in ``objects``."""
    images = []
    for obj in objects:
        spec = obj.get("spec", {})
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod = spec.get("template", {}).get("spec", {})
        images += [c["image"] for c in pod.get("containers", [])]
    return images


def test_the_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert [h[0] for h in headings] == ["Unreleased", "0.2.0", "0.1.0"]
    assert all(date for version, date in headings if version != "Unreleased")
    for version, _ in headings:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.MULTILINE), version
    for kind in re.findall(r"^### (.+)$", text, re.MULTILINE):
        assert kind in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_changelog_section_prints_one_version_and_fails_on_a_missing_one() -> None:
    text = "# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2026-01-02\n\n### Fixed\n\n- b\n\n## [1.0.0] - 2026-01-01\n\n- a\n\n[1.1.0]: https://x\n"
    assert changelog_section.section(text, "1.1.0") == "### Fixed\n\n- b\n"
    assert changelog_section.section(text, "1.0.0") == "- a\n"
    assert changelog_section.section(text, "2.0.0") is None
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools/changelog_section.py"), "9.9.9"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout) == (1, "")
    assert "no section for version 9.9.9" in run.stderr


@pytest.mark.parametrize("version", ["0.2.0"])
def test_the_release_notes_of_this_version_are_not_empty(version: str) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools/changelog_section.py"), version],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("### Added\n")


def test_the_release_packages_a_chart_pinned_to_the_pushed_image(tmp_path: Path) -> None:
    """The chart job's script, run as the workflow runs it (bash, with its environment) on a copy
    of the chart: the packaged chart pulls the pushed image by digest, and lints."""
    from tests.install import helm

    try:
        binary = helm.helm()
    except helm.HelmMissing as missing:
        pytest.skip(str(missing))
    [step] = [
        s
        for s in workflow("release.yml")["jobs"]["chart"]["steps"]
        if "helm package" in s.get("run", "")
    ]
    shutil.copytree(ROOT / "charts" / "jobguard", tmp_path / "charts" / "jobguard")
    digest = "sha256:" + "0123456789abcdef" * 4
    env = {
        "PATH": f"{Path(binary).parent}:/usr/bin:/bin",
        "VERSION": __version__,
        "DIGEST": digest,
        "OWNER": "Example-Org",
        "REGISTRY": "ghcr.io",
    }
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    packaged = tmp_path / f"jobguard-{__version__}.tgz"
    rendered = subprocess.run(
        [binary, "template", "jobguard", str(packaged)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    images = {
        c["image"]
        for obj in yaml.safe_load_all(rendered)
        if obj and obj["kind"] == "Deployment"
        for c in obj["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"ghcr.io/example-org/jobguard@{digest}"}
