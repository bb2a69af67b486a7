"""A misspelt key: reported with a did-you-mean and an unsafe rename; no default beside it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jobguard.cli import main
from jobguard.policy import load_policy
from tests.helpers import evaluate_obj, load_yaml

TYPO_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: typo
spec:
  ttlSecondsAfterFinish: 3600   # meant ttlSecondsAfterFinished
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
"""


def test_the_typo_is_reported_with_a_did_you_mean_and_an_unsafe_rename() -> None:
    report = evaluate_obj(load_yaml(TYPO_JOB), load_policy(["jobguard:default"]))
    (typo,) = [f for f in report.findings if f.rule == "api-structure"]
    assert typo.field == "spec.ttlSecondsAfterFinish"
    assert typo.message == (
        'strict decoding error: unknown field "spec.ttlSecondsAfterFinish"; '
        'did you mean "ttlSecondsAfterFinished"?'
    )
    assert typo.fix is not None and not typo.fix.safe
    assert typo.patch == (
        {"op": "remove", "path": "/spec/ttlSecondsAfterFinish"},
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 3600},
    )
    # no TTL default beside the typo: it would replace the 3600 the user meant
    assert [f for f in report.findings if f.rule == "ttl-after-finished"] == []


def test_fix_does_not_write_the_default_beside_the_typo(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(TYPO_JOB)
    CliRunner().invoke(main, ["lint", "--fix", str(path)])
    fixed = path.read_text()
    assert "ttlSecondsAfterFinish: 3600   # meant ttlSecondsAfterFinished\n" in fixed
    assert "ttlSecondsAfterFinished:" not in fixed


def test_a_known_look_alike_sibling_is_not_a_typo() -> None:
    # completionMode resembles completions but is a real field: completions is still judged.
    obj = load_yaml(
        TYPO_JOB.replace("  ttlSecondsAfterFinish: 3600", "  completionMode: NonIndexed")
    )
    report = evaluate_obj(obj, load_policy(["jobguard:strict"]))
    assert ("completions-parallelism", "spec.completions") in [
        (f.rule, f.field) for f in report.findings
    ]
    assert [f for f in report.findings if f.rule == "api-structure"] == []
