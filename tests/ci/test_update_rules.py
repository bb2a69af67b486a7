"""Update rules before merge: pairs of manifests (old as deployed, new as in the pull request),
`lint --old OLD NEW`, and `lint --changed-since REF` in a real git repository."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.paths import field_path
from tests.ci.conftest import run_jobguard
from tests.helpers import git

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: report
  namespace: batch
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example/report:1.0
"""


def _job() -> dict[str, Any]:
    obj: dict[str, Any] = yaml.safe_load(JOB)
    return obj


def _errors(
    old: dict[str, Any], new: dict[str, Any], version: tuple[int, int] = (1, 36)
) -> list[tuple[str, str]]:
    return [(field_path(e.path), e.message) for e in job_update_errors(old, new, version)]


def _changed(change: Any) -> dict[str, Any]:
    new = _job()
    change(new["spec"])
    return new


def test_a_new_image_is_a_template_change_the_api_server_rejects() -> None:
    new = _changed(
        lambda s: s["template"]["spec"]["containers"][0].update(image="registry.example/report:1.1")
    )
    ((path, message),) = _errors(_job(), new)
    assert path == "spec.template"
    assert "field is immutable (changed: spec.template.spec.containers[0].image)" in message
    assert message.startswith("Invalid value: ")
    assert message.endswith(
        'the API server rejects this update of the existing Job "report". To apply it, give the '
        "Job a new name (or create it with metadata.generateName), or delete the Job and create "
        "it again (kubectl replace --force)"
    )


def test_mutable_fields_and_written_out_defaults_are_no_change() -> None:
    def mutable(spec: dict[str, Any]) -> None:
        spec.update(
            backoffLimit=6,
            parallelism=1,
            activeDeadlineSeconds=600,
            ttlSecondsAfterFinished=3600,
            suspend=False,
            completionMode="NonIndexed",  # the default, written out
        )

    assert _errors(_job(), _changed(mutable)) == []
    relabelled = _job()
    relabelled["metadata"]["labels"] = {"team": "a"}
    assert _errors(_job(), relabelled) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("completionMode", "Indexed"),
        (
            "podFailurePolicy",
            {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]},
        ),
        ("managedBy", "kueue.x-k8s.io/multikueue"),
        ("selector", {"matchLabels": {"app": "report"}}),
    ],
)
def test_each_immutable_field_is_reported_at_its_path(field: str, value: Any) -> None:
    paths = [p for p, _ in _errors(_job(), _changed(lambda s: s.update({field: value})))]
    assert f"spec.{field}" in paths
    assert all(p != "spec.template" for p in paths)


def test_removing_a_success_policy_is_a_change_too() -> None:
    old = _changed(
        lambda s: s.update(
            completionMode="Indexed",
            completions=3,
            successPolicy={"rules": [{"succeededCount": 1}]},
        )
    )
    new = copy.deepcopy(old)
    del new["spec"]["successPolicy"]
    assert [p for p, _ in _errors(old, new)] == ["spec.successPolicy"]


def test_completions_of_an_indexed_job_change_only_in_tandem_with_parallelism() -> None:
    old = _changed(lambda s: s.update(completionMode="Indexed", completions=4, parallelism=4))
    scaled = copy.deepcopy(old)
    scaled["spec"].update(completions=8, parallelism=8)
    assert _errors(old, scaled) == []
    alone = copy.deepcopy(old)
    alone["spec"]["completions"] = 8
    assert _errors(old, alone) == [
        (
            "spec.completions",
            "Invalid value: 8: can only be modified in tandem with spec.parallelism (an Indexed "
            "Job may change completions only when parallelism is set to the same value)",
        )
    ]
    non_indexed_old = _changed(lambda s: s.update(completions=4))
    non_indexed_new = _changed(lambda s: s.update(completions=5))
    assert [p for p, _ in _errors(non_indexed_old, non_indexed_new)] == ["spec.completions"]


def test_a_suspended_job_may_change_its_scheduling_directives_only() -> None:
    old = _changed(lambda s: s.update(suspend=True))
    moved = copy.deepcopy(old)
    pod = moved["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"pool": "batch"}
    pod["tolerations"] = [{"key": "batch", "operator": "Exists"}]
    moved["spec"]["template"]["metadata"] = {"labels": {"queue": "a"}}
    assert _errors(old, moved) == []
    pod["containers"][0]["image"] = "registry.example/report:2"
    assert [p for p, _ in _errors(old, moved)] == ["spec.template"]
    # Not suspended: the same scheduling change is a template change.
    running = _changed(lambda s: s["template"]["spec"].update(nodeSelector={"pool": "batch"}))
    assert [p for p, _ in _errors(_job(), running)] == ["spec.template"]


def test_a_cronjob_has_no_immutable_fields() -> None:
    cron: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"schedule": "0 3 * * *"},
    }
    changed = copy.deepcopy(cron)
    changed["spec"]["schedule"] = "0 4 * * *"
    assert job_update_errors(cron, changed, (1, 36)) == []


def _lint_json(*args: str, cwd: Path) -> tuple[int, list[dict[str, Any]], str]:
    run = run_jobguard("lint", "--format", "json", *args, cwd=cwd)
    report = json.loads(run.stdout) if run.stdout else {}
    findings = [f for f in report.get("findings", []) if f["rule"] == "api-job-update"]
    return run.returncode, findings, run.stderr


def test_lint_old_compares_two_files(tmp_path: Path) -> None:
    (tmp_path / "deployed.yaml").write_text(JOB)
    (tmp_path / "new.yaml").write_text(JOB.replace("report:1.0", "report:1.1"))
    code, findings, err = _lint_json("--old", "deployed.yaml", "new.yaml", cwd=tmp_path)
    assert code == 1, err
    assert [(f["path"], f["severity"], f["line"]) for f in findings] == [
        ("spec.template", "error", 8)  # the line of "template:"
    ]
    (tmp_path / "same.yaml").write_text(JOB)
    code, findings, err = _lint_json("--old", "deployed.yaml", "same.yaml", cwd=tmp_path)
    assert findings == [], err
    missing = run_jobguard("lint", "--old", "nope.yaml", "new.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert "--old: cannot read nope.yaml" in missing.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_since_reports_a_template_change_of_a_deployed_job(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "report.yaml").write_text(JOB)
    (tmp_path / "k8s" / "moved.yaml").write_text(JOB.replace("name: report", "name: moved"))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "deployed")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "k8s" / "report.yaml").write_text(JOB.replace("report:1.0", "report:1.1"))
    # The same object moved to another file, changed: still an update of the deployed one.
    git(tmp_path, "rm", "-q", "k8s/moved.yaml")
    (tmp_path / "k8s" / "all.yaml").write_text(
        JOB.replace("name: report", "name: moved").replace("backoffLimit: 3", "completions: 2")
    )
    (tmp_path / "k8s" / "fresh.yaml").write_text(JOB.replace("name: report", "name: fresh"))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "change")

    run = run_jobguard("lint", "--format", "json", "--changed-since", "main", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    found = sorted(
        (f["name"], f["path"]) for f in report["findings"] if f["rule"] == "api-job-update"
    )
    assert found == [("moved", "spec.completions"), ("report", "spec.template")]
