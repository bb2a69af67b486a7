"""custom_rules in a policy file: compiled at load (errors at file:line:col), then judged by the
engine like every rule (action, scope, exemptions, suppressions, on_rule_error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jobguard.core.model import Action, Severity
from jobguard.policy import PolicyError, load_policy
from jobguard.policy.model import Policy
from tests.helpers import evaluate_obj, lint_text

HEADER = "apiVersion: jobguard.dev/v1\nkind: Policy\n"

TEAM_LABEL = """\
custom_rules:
  - name: team-label
    code: JGC001
    description: Every Job names its owning team.
    match_conditions:
      - name: not-system
        expression: "!object.metadata.?namespace.orValue('').startsWith('kube-')"
    variables:
      - name: labels
        expression: "object.metadata.?labels.orValue({})"
    validations:
      - expression: "'team' in variables.labels"
        message: every Job needs a team label
        path: metadata.labels
      - expression: "variables.job.template.spec.containers.all(c, c.image.startsWith('registry.corp/'))"
        messageExpression: "'images must come from registry.corp/, not ' + variables.job.template.spec.containers.map(c, c.image).join(', ')"
        path: job.template.spec.containers
"""


def write(tmp_path: Path, body: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return str(path)


def problems(paths: list[str]) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(paths)
    return [str(p) for p in info.value.problems]


def job(
    labels: dict[str, str] | None = None, image: str = "registry.corp/app:1", **meta: Any
) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}
    metadata: dict[str, Any] = {"name": "j", **meta}
    if labels is not None:
        metadata["labels"] = labels
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {"template": template},
    }


def cronjob(labels: dict[str, str], image: str) -> dict[str, Any]:
    inner = job(labels, image)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": inner["metadata"],
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": inner["spec"]}},
    }


def custom(report: Any, rule: str = "team-label") -> list[tuple[str, str, str]]:
    return [(f.field, f.message, f.severity.value) for f in report.findings if f.rule == rule]


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_policy([write(tmp_path, TEAM_LABEL)])


def test_a_custom_rule_reports_each_false_validation_at_its_path(policy: Policy) -> None:
    report = evaluate_obj(job({"app": "x"}, "docker.io/busybox"), policy)
    assert custom(report) == [
        ("metadata.labels", "every Job needs a team label", "error"),
        (
            "spec.template.spec.containers",
            "images must come from registry.corp/, not docker.io/busybox",
            "error",
        ),
    ]
    assert {f.code for f in report.findings if f.rule == "team-label"} == {"JGC001"}
    assert custom(evaluate_obj(job({"team": "a"}), policy)) == []


def test_variables_job_is_the_job_spec_of_a_cronjob_too(policy: Policy) -> None:
    report = evaluate_obj(cronjob({"team": "a"}, "quay.io/x"), policy)
    assert custom(report) == [
        (
            "spec.jobTemplate.spec.template.spec.containers",
            "images must come from registry.corp/, not quay.io/x",
            "error",
        )
    ]


def test_a_false_match_condition_skips_the_rule(policy: Policy) -> None:
    assert custom(evaluate_obj(job({}, "quay.io/x", namespace="kube-system"), policy)) == []
    assert len(custom(evaluate_obj(job({}, "quay.io/x", namespace="team-a"), policy))) == 2


def test_action_scope_exemptions_and_suppressions_apply_to_custom_rules(tmp_path: Path) -> None:
    write(tmp_path, TEAM_LABEL, "base.yaml")
    team = write(
        tmp_path,
        "extends: [base.yaml]\n"
        "rules:\n  team-label: {action: warn}\n"
        "exemptions:\n  - {rules: [team-label], reason: vendored, names: ['vendor-*']}\n",
        "team.yaml",
    )
    policy = load_policy([team])
    report = evaluate_obj(job({}), policy)
    assert custom(report) == [("metadata.labels", "every Job needs a team label", "warning")]
    exempt = evaluate_obj(job({}, name="vendor-x"), policy)
    assert custom(exempt) == [] and [f.rule for f in exempt.suppressed] == ["team-label"]
    annotated = job({}, annotations={"suppress.jobguard.dev/team-label": "migrating"})
    assert custom(evaluate_obj(annotated, policy)) == []
    forbid = write(
        tmp_path, "extends: [base.yaml]\nsuppressions: {forbid: [team-label]}\n", "f.yaml"
    )
    assert len(custom(evaluate_obj(annotated, load_policy([forbid])))) == 1


def test_old_object_and_request_are_those_of_the_admission_request(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "custom_rules:\n"
        "  - name: keep-team\n"
        "    validations:\n"
        "      - expression: \"request.operation != 'UPDATE' || "
        'oldObject.metadata.labels.team == object.metadata.labels.team"\n'
        "        message: the team label cannot change\n",
    )
    policy = load_policy([path])
    new, old = job({"team": "b"}), job({"team": "a"})
    update = evaluate_obj(new, policy, operation="UPDATE", old_object=old)
    assert custom(update, "keep-team") == [("", "the team label cannot change", "error")]
    assert custom(evaluate_obj(new, policy), "keep-team") == []  # a manifest: a CREATE


def test_an_expression_failing_on_an_object_is_a_rule_error_per_on_rule_error(
    tmp_path: Path,
) -> None:
    body = (
        "custom_rules:\n"
        "  - name: deadline\n"
        "    validations:\n"
        "      - expression: variables.job.activeDeadlineSeconds <= 3600\n"
    )
    for on_error, severity in (("warn", Severity.WARNING), ("deny", Severity.ERROR)):
        policy = load_policy([write(tmp_path, body + f"on_rule_error: {on_error}\n")])
        (finding,) = [f for f in evaluate_obj(job({}), policy).findings if f.failed_rule]
        assert finding.rule == "internal-error" and finding.failed_rule == "deadline"
        assert finding.severity is severity
        assert "activeDeadlineSeconds" in finding.message


def test_a_runaway_expression_is_a_rule_error_not_a_stall(tmp_path: Path) -> None:
    body = (
        "custom_rules:\n"
        "  - name: runaway\n"
        "    validations:\n"
        "      - expression: object.spec.template.spec.containers.all(a, "
        "object.spec.template.spec.containers.all(b, a.name != b.name || a == b))\n"
        "on_rule_error: deny\n"
    )
    policy = load_policy([write(tmp_path, body)])
    many = job({})
    many["spec"]["template"]["spec"]["containers"] = [
        {"name": f"c{i}", "image": "x"} for i in range(200)
    ]
    (finding,) = [f for f in evaluate_obj(many, policy).findings if f.failed_rule == "runaway"]
    assert "Iteration budget exceeded" in finding.message
    assert finding.action is Action.DENY


def test_lint_points_at_the_validation_path_in_the_file(policy: Policy) -> None:
    text = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  labels:\n    app: x\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers:\n        - name: c\n          image: registry.corp/a\n"
    )
    result = lint_text(text, policy)
    found = [
        (lf.line, lf.finding.field)
        for obj in result.objects
        for lf in obj.findings
        if lf.finding.rule == "team-label"
    ]
    assert found == [(5, "metadata.labels")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'custom_rules:\n  - name: a\n    validations:\n      - expression: "object.x +"\n',
            "p.yaml:6:32: custom_rules[0].validations[0].expression: Syntax error",
        ),
        (
            "custom_rules:\n  - name: a\n    validations:\n      - expression: object.x + nope\n",
            "p.yaml:6:32: custom_rules[0].validations[0].expression: undeclared reference to 'nope'",
        ),
        (
            "custom_rules:\n  - name: a\n    validations:\n      - expression: |\n"
            "          object.a &&\n            quantity('1') == 1\n",
            "p.yaml:8:21: custom_rules[0].validations[0].expression: quantity: Kubernetes offers it, "
            "jobguard cannot evaluate it",
        ),
        (
            "custom_rules:\n  - name: restart-policy\n    validations:\n      - expression: 'true'\n",
            "p.yaml:4:5: custom_rules[0].name: rule name 'restart-policy' is already taken",
        ),
        (
            "custom_rules:\n  - name: Team_Label\n    validations:\n      - expression: 'true'\n",
            "p.yaml:4:5: custom_rules[0].name: a custom rule needs a kebab-case name",
        ),
        (
            "custom_rules:\n  - name: a\n    code: X1\n    validations:\n      - expression: 'true'\n",
            "p.yaml:5:5: custom_rules[0].code: a custom rule's code is JGC",
        ),
        (
            "custom_rules:\n  - name: a\n    validations: []\n",
            "p.yaml:5:5: custom_rules[0].validations: a custom rule needs at least one validation",
        ),
        (
            "custom_rules:\n  - name: a\n    validation:\n      - expression: 'true'\n",
            "p.yaml:5:5: custom_rules[0].validation: unknown key 'validation' (did you mean 'validations'?)",
        ),
        (
            "custom_rules:\n  - name: a\n    variables: [{name: job, expression: '1'}]\n"
            "    validations: [{expression: 'true'}]\n",
            "p.yaml:5:18: custom_rules[0].variables[0].name: variable name 'job' is already used",
        ),
        (
            "custom_rules:\n  - name: a\n    validations: [{expression: 'true', path: 'a..b'}]\n",
            "p.yaml:5:40: custom_rules[0].validations[0].path: empty segment in path 'a..b'",
        ),
    ],
)
def test_policy_errors_carry_file_line_and_column(tmp_path: Path, body: str, expected: str) -> None:
    found = problems([write(tmp_path, body)])
    file, rest = expected.split(":", 1)
    assert found[0].startswith(f"{tmp_path / file}:{rest}"), found


def test_the_same_custom_rule_in_two_files_is_an_error(tmp_path: Path) -> None:
    base = write(tmp_path, TEAM_LABEL, "base.yaml")
    again = write(tmp_path, "extends: [base.yaml]\n" + TEAM_LABEL, "again.yaml")
    found = problems([again])
    assert any("rule name 'team-label' is already taken" in p for p in found)
    assert base


def test_variables_of_several_rules_stay_each_rules_own(tmp_path: Path) -> None:
    # Both rules name a variable "count" with different expressions; "twice" reads "count" (dependent).
    body = (
        "custom_rules:\n"
        "  - name: containers\n"
        "    variables:\n"
        "      - {name: count, expression: 'size(variables.job.template.spec.containers)'}\n"
        "      - {name: twice, expression: 'variables.count * 2'}\n"
        "    validations:\n"
        "      - {expression: 'variables.twice == 2', message: one container}\n"
        "  - name: labels\n"
        "    variables:\n"
        "      - {name: count, expression: 'size(object.metadata.?labels.orValue({}))'}\n"
        "    validations:\n"
        "      - {expression: 'variables.count >= 2', message: two labels}\n"
        "  - name: broken\n"
        "    variables:\n"
        "      - {name: deadline, expression: 'variables.job.activeDeadlineSeconds'}\n"
        "    validations:\n"
        "      - {expression: 'variables.deadline < 60', message: short}\n"
    )
    policy = load_policy([write(tmp_path, body)])
    obj = job({"a": "1"})
    obj["spec"]["template"]["spec"]["containers"].append({"name": "d", "image": "x"})
    report = evaluate_obj(obj, policy)
    assert custom(report, "containers") == [("", "one container", "error")]
    assert custom(report, "labels") == [("", "two labels", "error")]
    (error,) = [f for f in report.findings if f.failed_rule == "broken"]
    assert "variable 'deadline' failed" in error.message
    assert "activeDeadlineSeconds" in error.message
    assert custom(evaluate_obj(job({"a": "1", "b": "2"}), policy), "labels") == []


def test_match_conditions_cannot_read_variables(tmp_path: Path) -> None:
    body = (
        "custom_rules:\n  - name: a\n"
        "    match_conditions: [{name: gpu, expression: 'has(variables.job.suspend)'}]\n"
        "    validations: [{expression: 'true'}]\n"
    )
    (problem,) = problems([write(tmp_path, body)])
    assert "match_conditions[0].expression: a match condition cannot read variables" in problem
