"""Policy exemptions: validated with file:line errors, applied by the engine and (files) by lint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobguard.policy import PolicyError, load_policy
from jobguard.policy.model import Exemption
from tests.ci.conftest import run_jobguard
from tests.helpers import evaluate_obj, lint_text, load_yaml, pairs

HEADER = "apiVersion: jobguard.dev/v1\nkind: Policy\n"
VENDOR_JOB = """apiVersion: batch/v1
kind: Job
metadata: {name: prometheus-compact, namespace: monitoring-eu}
spec:
  template:
    spec:
      containers: [{name: main, image: busybox}]
"""


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(HEADER + body)
    return str(path)


def problems(path: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy([path])
    return [str(p) for p in info.value.problems]


def test_an_exemption_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exemptions:\n"
        "- rules: [restart-policy, backoff-limit]\n"
        "  reason: vendored chart\n"
        "  kinds: [Job]\n"
        "  namespaces: [monitoring-*]\n"
        "  names: [prometheus-*]\n"
        "  files: [charts/vendor/*]\n",
    )
    assert load_policy([path]).exemptions == (
        Exemption(
            rules=("restart-policy", "backoff-limit"),
            reason="vendored chart",
            kinds=("Job",),
            namespaces=("monitoring-*",),
            names=("prometheus-*",),
            files=("charts/vendor/*",),
        ),
    )


def test_exemptions_accumulate_across_layers(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(HEADER + "exemptions: [{rules: ['*'], reason: a, names: [x]}]\n")
    team = tmp_path / "team.yaml"
    team.write_text(
        HEADER
        + "extends: [base.yaml]\nexemptions: [{rules: [resources], reason: b, kinds: [CronJob]}]\n"
    )
    assert [e.reason for e in load_policy([str(team)]).exemptions] == ["a", "b"]


def test_bad_exemptions_are_reported_with_file_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exemptions:\n"
        "- rules: [restart-polcy]\n"  # line 4
        "  namespaces: [x]\n"
        "  reason: ok\n"
        "- rules: ['*']\n"  # line 7
        "  names: [x]\n"
        "- rules: [resources]\n"  # line 9
        "  reason: r\n"
        "- rules: [resources]\n"  # line 11
        "  reason: r\n"
        "  kinds: [Pod]\n"
        "  nmaes: [x]\n"
        "- reason: r\n"  # line 15
        "  names: [x]\n",
    )
    assert problems(path) == [
        f"{path}:4:11: exemptions[0].rules[0]: unknown rule 'restart-polcy' (did you mean 'restart-policy'?)",
        f"{path}:7:3: exemptions[1]: an exemption needs a reason (a non-empty string)",
        f"{path}:9:3: exemptions[2]: an exemption needs at least one of kinds, namespaces, names, files (to turn a rule off everywhere, set its action to off)",
        f"{path}:14:3: exemptions[3].nmaes: unknown key 'nmaes' (did you mean 'names'?); expected one of: rules, reason, kinds, namespaces, names, files",
        f"{path}:13:11: exemptions[3].kinds[0]: must be Job or CronJob, not 'Pod'",
        f'{path}:15:3: exemptions[4]: an exemption names the rules it lifts (rule names, or ["*"])',
    ]


def test_exemptions_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "exemptions: {rules: [resources]}\n")
    assert problems(path) == [
        f"{path}:3:1: exemptions: must be a list of exemptions, not a mapping"
    ]


def test_the_engine_moves_exempted_findings_to_suppressed(tmp_path: Path) -> None:
    policy = load_policy(
        [
            write(
                tmp_path,
                "exemptions:\n- {rules: [restart-policy], reason: vendor, namespaces: [monitoring-*], names: [prometheus-*]}\n",
            )
        ]
    )
    report = evaluate_obj(load_yaml(VENDOR_JOB), policy)
    assert "restart-policy" not in [f.rule for f in report.findings]
    assert [f.rule for f in report.suppressed] == ["restart-policy"]
    other = load_yaml(VENDOR_JOB.replace("prometheus-compact", "mine"))
    assert "restart-policy" in [f.rule for f in evaluate_obj(other, policy).findings]


def test_star_exempts_every_rule_and_kinds_must_match(tmp_path: Path) -> None:
    policy = load_policy(
        [write(tmp_path, "exemptions:\n- {rules: ['*'], reason: vendor, kinds: [CronJob]}\n")]
    )
    assert evaluate_obj(load_yaml(VENDOR_JOB), policy).findings != ()
    cron = """apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: x}
spec:
  schedule: "* * * * *"
  jobTemplate: {spec: {template: {spec: {containers: [{name: m, image: b}]}}}}
"""
    report = evaluate_obj(load_yaml(cron), policy)
    assert report.findings == ()
    assert len(report.suppressed) > 3


def test_file_globs_apply_in_lint_only(tmp_path: Path) -> None:
    policy = load_policy(
        [
            write(
                tmp_path,
                "exemptions:\n- {rules: [restart-policy], reason: vendor, files: ['charts/vendor/*']}\n",
            )
        ]
    )
    vendored = lint_text(VENDOR_JOB, policy)  # file "test.yaml": no match
    assert ("restart-policy", "spec.template.spec.restartPolicy") in pairs(vendored)
    from jobguard.lint.linter import lint_bytes

    inside = lint_bytes("charts/vendor/prom/job.yaml", VENDOR_JOB.encode(), policy)
    assert "restart-policy" not in [r for r, _ in pairs(inside)]
    assert (inside.objects[0].suppressed, inside.objects[0].exempted) == (0, 1)
    absolute = lint_bytes(os.path.abspath("charts/vendor/job.yaml"), VENDOR_JOB.encode(), policy)
    assert "restart-policy" not in [r for r, _ in pairs(absolute)]
    # the webhook evaluates without a file: a files-only exemption never applies there
    assert "restart-policy" in [
        f.rule for f in evaluate_obj(load_yaml(VENDOR_JOB), policy).findings
    ]


def test_cli_applies_a_file_exemption(tmp_path: Path) -> None:
    (tmp_path / "charts" / "vendor").mkdir(parents=True)
    (tmp_path / "charts" / "vendor" / "job.yaml").write_text(VENDOR_JOB)
    (tmp_path / "mine.yaml").write_text(VENDOR_JOB)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        HEADER
        + "extends: [jobguard:default]\n"
        + "exemptions:\n- {rules: ['*'], reason: third-party chart, files: ['charts/vendor/*']}\n"
    )
    run = run_jobguard(
        "lint", "--policy", "policy.yaml", "--format", "github", "charts", "mine.yaml", cwd=tmp_path
    )
    files = {line.split("file=")[1].split(",")[0] for line in run.stdout.splitlines()}
    assert files == {"mine.yaml"}
    assert run.returncode == 1


def test_the_webhook_applies_namespace_exemptions_but_never_file_ones(tmp_path: Path) -> None:
    """Through the real Flask app: the validating webhook's answer with each kind of exemption."""
    import json as jsonlib

    from jobguard.webhook.app import create_app
    from jobguard.webhook.settings import Settings
    from tests.webhook.support import all_rules_off, review_for, write_policy

    job = load_yaml(VENDOR_JOB)

    def allowed(exemption: dict[str, object]) -> bool:
        policy = write_policy(
            tmp_path / "policy.yaml",
            {"restart-policy": {"action": "deny"}},
            exemptions=[exemption],
        )
        settings = Settings(policy_paths=(str(all_rules_off(tmp_path)), str(policy)))
        client = create_app(settings).test_client()
        review = review_for(job)
        r = client.post("/validate", data=jsonlib.dumps(review), content_type="application/json")
        assert r.status_code == 200, r.data
        return bool(r.get_json()["response"]["allowed"])

    assert allowed(
        {"rules": ["restart-policy"], "reason": "vendor", "namespaces": ["monitoring-*"]}
    )
    assert not allowed({"rules": ["restart-policy"], "reason": "vendor", "namespaces": ["prod"]})
    assert not allowed({"rules": ["*"], "reason": "vendor", "files": ["*"]})
