"""One table of custom rules x objects, judged by every front end: ``jobguard lint``, the real
webhook (gunicorn, TLS) on /validate, ``jobguard audit`` against the stand-in API server (not a
cluster: tests/audit/standin.py) and the ValidatingAdmissionPolicy ``jobguard export`` writes,
evaluated by an offline stand-in of the API server's VAP evaluation on the C++ evaluator
(tests/cel/vap.py). Each must give exactly the expected verdicts, CREATE and UPDATE."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from jobguard.cel.custom_rule import warning_message
from jobguard.cli import main
from jobguard.export import export_policy, render_yaml
from jobguard.lint.linter import lint_bytes
from jobguard.policy import load_policy
from jobguard.policy.model import Policy
from jobguard.webhook.responses import short
from tests.audit.standin import running as standin_running
from tests.cel import vap
from tests.helpers import evaluate_obj
from tests.webhook.support import Server, SessionCA, all_rules_off, review_for, running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-rules" / "policy.yaml"
NAMESPACE = "prod-batch"

# (rule, action, message): what every front end must report.
Expected = set[tuple[str, str, str]]


def job(
    name: str,
    labels: dict[str, str] | None = None,
    images: tuple[str, ...] = ("registry.corp/app:1",),
    gpu: bool = False,
    deadline: int | None = None,
) -> dict[str, Any]:
    containers = []
    for i, image in enumerate(images):
        container: dict[str, Any] = {"name": f"c{i}", "image": image}
        if gpu:
            container["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
        containers.append(container)
    spec: dict[str, Any] = {
        "backoffLimit": 2,
        "template": {"spec": {"restartPolicy": "Never", "containers": containers}},
    }
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if labels is not None:
        metadata["labels"] = labels
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}


def cronjob(name: str, schedule: str, **kw: Any) -> dict[str, Any]:
    inner = job(name, **kw)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": inner["metadata"],
        "spec": {"schedule": schedule, "jobTemplate": {"spec": inner["spec"]}},
    }


TEAM = {"team": "data"}
NO_TEAM = ("team-label", "deny", "every Job needs a team label")

CREATES: list[tuple[dict[str, Any], Expected]] = [
    (job("good", TEAM), set()),
    (job("no-team", {"app": "x"}), {NO_TEAM}),
    (job("no-labels"), {NO_TEAM}),
    (
        job("hub", TEAM, ("registry.corp/a", "docker.io/b", "quay.io/c")),
        {
            (
                "corp-registry",
                "deny",
                "images must come from registry.corp/, not docker.io/b, quay.io/c",
            )
        },
    ),
    (
        job("gpu", TEAM, gpu=True),
        {("gpu-deadline", "warn", "a GPU Job sets activeDeadlineSeconds")},
    ),
    (job("gpu-bounded", TEAM, gpu=True, deadline=3600), set()),
    (cronjob("hourly", "0 * * * *", labels=TEAM), set()),
    (
        cronjob("often", "*/5 * * * *", labels={}, images=("docker.io/x",)),
        {
            NO_TEAM,
            ("corp-registry", "deny", "images must come from registry.corp/, not docker.io/x"),
            ("hourly-at-most", "deny", "schedule */5 * * * * runs more often than hourly"),
        },
    ),
]

UPDATES: list[tuple[dict[str, Any], dict[str, Any], Expected]] = [
    (
        job("moved", {"team": "web"}),
        job("moved", TEAM),
        {("team-is-kept", "deny", "the team label cannot change")},
    ),
    (job("kept", TEAM, deadline=60), job("kept", TEAM), set()),
    (
        cronjob("moved-cron", "*/10 * * * *", labels={"team": "web"}),
        cronjob("moved-cron", "0 * * * *", labels=TEAM),
        {
            ("team-is-kept", "deny", "the team label cannot change"),
            ("hourly-at-most", "deny", "schedule */10 * * * * runs more often than hourly"),
        },
    ),
]

CUSTOM = {"team-label", "corp-registry", "gpu-deadline", "hourly-at-most", "team-is-kept"}
ACTIONS = {"error": "deny", "warning": "warn", "Deny": "deny", "Warn": "warn"}


@pytest.fixture(scope="module")
def policy_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    directory = tmp_path_factory.mktemp("parity")
    # Only the custom rules judge: every built-in rule off, and the example's rules over it
    # (its `extends` is left out: it would turn the built-in rules back on).
    text = EXAMPLE.read_text().replace("extends: [jobguard:default]\n", "")
    custom = directory / "custom.yaml"
    custom.write_text(text)
    return [str(all_rules_off(directory)), str(custom)]


@pytest.fixture(scope="module")
def policy(policy_files: list[str]) -> Policy:
    return load_policy(policy_files)


def ids(value: Any) -> str:
    return value["metadata"]["name"] if isinstance(value, dict) else ""


def lint_verdicts(
    policy: Policy, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> Expected:
    """What the engine reports for a manifest (lint) or, with ``old``, for an UPDATE of it."""
    if old is not None:
        report = evaluate_obj(obj, policy, operation="UPDATE", old_object=old)
        findings = list(report.findings)
    else:
        result = lint_bytes("obj.yaml", yaml.safe_dump(obj).encode(), policy)
        findings = [lf.finding for o in result.objects for lf in o.findings]
    return {(f.rule, ACTIONS[f.severity.value], f.message) for f in findings if f.rule in CUSTOM}


def export_verdicts(
    policy: Policy,
    obj: dict[str, Any],
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
) -> Expected:
    objects = list(yaml.safe_load_all(render_yaml(export_policy(policy, (1, 36)))))
    return {
        (v.policy.removeprefix("jobguard-"), ACTIONS[v.action], v.message)
        for v in vap.judge(objects, obj, operation, NAMESPACE, old)
        if v.policy.removeprefix("jobguard-") in CUSTOM
    }


_DENIED = re.compile(
    r"ValidatingAdmissionPolicy 'jobguard-([a-z-]+)' with binding 'jobguard-\1' denied request: "
    r"(.*?)(?=; ValidatingAdmissionPolicy '|$)"
)
_WARNED = re.compile(
    r"^Validation failed for ValidatingAdmissionPolicy 'jobguard-([a-z-]+)' with binding "
    r"'jobguard-\1': (.*)$"
)


def webhook_verdicts(server: Server, review: dict[str, Any], expected: Expected) -> Expected:
    """The verdicts in the webhook's answer; a warning, cut to the webhook's one-line length,
    stands for the expected one it is the start of."""
    response = server.review("validate", review)["response"]
    found: Expected = set()
    message = response.get("status", {}).get("message", "")
    assert response["allowed"] is (not message)
    for match in _DENIED.finditer(message):
        found.add((match.group(1), "deny", match.group(2)))
    for warning in response.get("warnings", []):
        full = [
            (rule, action, text)
            for rule, action, text in expected
            if action == "warn" and warning == short(warning_message(rule, text))
        ]
        found.update(full)
        warned = _WARNED.match(warning)
        if warned and not full:
            found.add((warned.group(1), "warn", warned.group(2)))
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, policy_files: list[str]) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("server")
    with running_server(directory, SessionCA(tmp_path_factory.mktemp("ca")), policy_files) as s:
        yield s


@pytest.mark.parametrize(("obj", "expected"), CREATES, ids=[ids(o) for o, _ in CREATES])
def test_create_lint_and_export_agree(
    policy: Policy, obj: dict[str, Any], expected: Expected
) -> None:
    assert lint_verdicts(policy, obj) == expected
    assert export_verdicts(policy, obj) == expected


@pytest.mark.parametrize(("new", "old", "expected"), UPDATES, ids=[ids(n) for n, _, _ in UPDATES])
def test_update_lint_and_export_agree(
    policy: Policy, new: dict[str, Any], old: dict[str, Any], expected: Expected
) -> None:
    assert lint_verdicts(policy, new, old) == expected
    assert export_verdicts(policy, new, "UPDATE", old) == expected


def test_the_real_webhook_agrees_on_create_and_update(server: Server) -> None:
    for obj, expected in CREATES:
        review = review_for(copy.deepcopy(obj))
        assert webhook_verdicts(server, review, expected) == expected, ids(obj)
    for new, old, expected in UPDATES:
        review = review_for(copy.deepcopy(new), operation="UPDATE", old=copy.deepcopy(old))
        assert webhook_verdicts(server, review, expected) == expected, ids(new)


def test_audit_of_the_stored_objects_agrees(policy_files: list[str], tmp_path: Path) -> None:
    with standin_running() as stand_in:
        for obj, _ in CREATES:
            stand_in.state.add(copy.deepcopy(obj))
        kubeconfig = stand_in.kubeconfig(tmp_path / "kubeconfig")
        args = ["audit", "--kubeconfig", str(kubeconfig), "--format", "json"]
        for path in policy_files:
            args += ["--policy", path]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    doc = json.loads(result.stdout)
    found: dict[str, Expected] = {}
    for f in doc["findings"]:
        if f["rule"] in CUSTOM:
            name = f["file"].rsplit("/", 1)[-1]
            found.setdefault(name, set()).add((f["rule"], ACTIONS[f["severity"]], f["message"]))
    assert found == {ids(o): e for o, e in CREATES if e}
    assert result.exit_code == 1  # denials found


def test_the_exported_objects_validate_against_the_1_36_schema(policy: Policy) -> None:
    import kubernetes_validate  # type: ignore[import-untyped]

    objects = list(yaml.safe_load_all(render_yaml(export_policy(policy, (1, 36)))))
    names = {o["metadata"]["name"] for o in objects}
    assert {f"jobguard-{rule}" for rule in CUSTOM} <= names
    for obj in objects:
        kubernetes_validate.validate(obj, "1.36.0", strict=True)


ROBOT = """\
apiVersion: jobguard.dev/v1
kind: Policy
custom_rules:
  - name: robot-only
    match_conditions:
      - {name: prod, expression: "request.namespace.startsWith('prod-')"}
    validations:
      - expression: "request.userInfo.username == 'system:serviceaccount:ci:deployer'"
        messageExpression: "'only the deployer creates Jobs here, not ' + request.userInfo.username"
"""


def test_request_user_info_is_the_requesters_in_the_webhook_and_absent_in_lint(
    tmp_path: Path, policy_files: list[str]
) -> None:
    from jobguard.webhook import admission
    from jobguard.webhook.review import parse_review

    path = tmp_path / "robot.yaml"
    path.write_text(ROBOT)
    policy = load_policy([policy_files[0], str(path)])  # built-in rules off
    obj = job("by-hand", TEAM)
    outcome = admission.validate(parse_review(review_for(copy.deepcopy(obj))), policy)
    message = "only the deployer creates Jobs here, not alice"  # review_for's user
    assert outcome.decision == admission.DENIED
    assert outcome.answer.review["response"]["status"]["message"] == (
        "ValidatingAdmissionPolicy 'jobguard-robot-only' with binding 'jobguard-robot-only' "
        f"denied request: {message}"
    )
    objects = list(yaml.safe_load_all(render_yaml(export_policy(policy, (1, 36)))))
    verdicts = vap.judge(objects, obj, "CREATE", NAMESPACE)
    assert [(v.policy, v.action, v.message) for v in verdicts] == [
        ("jobguard-robot-only", "Deny", message)
    ]
    # lint has no requester: reading userInfo fails, reported as a rule error, never a guess
    result = lint_bytes("obj.yaml", yaml.safe_dump(obj).encode(), policy)
    (finding,) = [lf.finding for o in result.objects for lf in o.findings]
    assert (finding.rule, finding.failed_rule) == ("internal-error", "robot-only")
    assert "userInfo" in finding.message
