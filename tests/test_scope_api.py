"""Policy scope decides which policy rules apply; what the API server rejects is reported
wherever the object lives (lint), while the webhook leaves objects outside the scope alone."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from jobguard.cli import main
from jobguard.policy import load_policy
from jobguard.render.json_report import report_dict
from jobguard.render.text import summary_line
from jobguard.webhook.app import create_app
from jobguard.webhook.settings import Settings
from tests.helpers import lint_text, pairs
from tests.webhook.support import review_for

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"

KUBE_SYSTEM_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: Bad_Name
  namespace: kube-system
spec:
  backoffLimit: -1
  template:
    spec:
      restartPolicy: Never
      containers: []
"""

#: Valid for the API server, but the default policy has plenty to say (no TTL, no deadline...).
KUBE_SYSTEM_VALID_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: cleanup
  namespace: kube-system
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""

API_FINDINGS = [
    ("api-object-meta", "metadata.name"),
    ("api-non-negative", "spec.backoffLimit"),
    ("api-pod-template", "spec.template.spec.containers"),
]


def test_api_errors_are_reported_outside_the_policy_scope() -> None:
    result = lint_text(KUBE_SYSTEM_JOB, load_policy([str(DEFAULT_POLICY)]))
    assert pairs(result) == API_FINDINGS
    assert [o.in_scope for o in result.objects] == [False]


def test_the_same_object_in_scope_gets_the_policy_rules_too() -> None:
    text = KUBE_SYSTEM_JOB.replace("kube-system", "batch")
    found = pairs(lint_text(text, load_policy([str(DEFAULT_POLICY)])))
    # api-warnings: accepted with a warning by the API server, so a policy matter here
    assert [p for p in found if p[0].startswith("api-")] == [
        *API_FINDINGS,
        ("api-warnings", "metadata.name"),
    ]
    assert ("ttl-after-finished", "spec.ttlSecondsAfterFinished") in found


def test_policy_rules_do_not_judge_an_object_outside_the_scope() -> None:
    result = lint_text(KUBE_SYSTEM_VALID_JOB, load_policy([str(DEFAULT_POLICY)]))
    assert pairs(result) == []
    assert [o.in_scope for o in result.objects] == [False]


def test_a_missing_restart_policy_outside_the_scope_is_the_api_finding() -> None:
    no_restart = KUBE_SYSTEM_VALID_JOB.replace("      restartPolicy: Never\n", "")
    found = pairs(lint_text(no_restart, load_policy([str(DEFAULT_POLICY)])))
    assert found == [("api-restart-policy", "spec.template.spec.restartPolicy")]


def test_summary_counts_objects_outside_the_scope(tmp_path: Path) -> None:
    result = lint_text(KUBE_SYSTEM_JOB, load_policy([str(DEFAULT_POLICY)]))
    from jobguard.lint.linter import LintResult

    whole = LintResult([result])
    assert report_dict(whole)["summary"]["out_of_scope"] == 1
    assert summary_line(whole) == (
        "1 file, 1 Job/CronJob, 0 other objects skipped: 3 errors, 0 warnings, 0 infos, "
        "1 outside the policy's scope (api rules only)"
    )


def test_lint_exits_non_zero_on_api_errors_outside_the_scope(tmp_path: Path) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(KUBE_SYSTEM_JOB)
    run = CliRunner().invoke(
        main, ["lint", "--policy", str(DEFAULT_POLICY), "--format", "json", str(manifest)]
    )
    assert run.exit_code == 1, run.output
    report = json.loads(run.output)
    assert [(f["rule"], f["path"]) for f in report["findings"]] == API_FINDINGS
    assert report["summary"]["out_of_scope"] == 1


def test_webhook_leaves_objects_outside_the_scope_unjudged() -> None:
    import yaml

    client = create_app(Settings(policy_paths=(str(DEFAULT_POLICY),))).test_client()
    obj = yaml.safe_load(KUBE_SYSTEM_VALID_JOB)
    del obj["spec"]["template"]["spec"]["containers"][0]["image"]  # even with something wrong
    review = review_for(obj)
    for webhook in ("mutate", "validate"):
        r = client.post(f"/{webhook}", data=json.dumps(review), content_type="application/json")
        assert r.status_code == 200
        assert r.get_json()["response"] == {"uid": review["request"]["uid"], "allowed": True}
    inside = review_for({**obj, "metadata": {"name": "cleanup", "namespace": "batch"}})
    r = client.post("/mutate", data=json.dumps(inside), content_type="application/json")
    assert "patch" in r.get_json()["response"]  # the same object inside the scope is fixed
