"""The exported objects: valid Kubernetes 1.36 objects, stable output, scope and suppressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from click.testing import CliRunner

from jobguard.cli import main
from jobguard.export import export_policy, render_yaml
from jobguard.policy import load_policy
from jobguard.policy.loader import bundled_policy_dir
from tests.export import k8s_cel
from tests.helpers import POLICY_FIXTURES

POLICIES = ["default.yaml", "strict.yaml"]


def bundled(name: str) -> list[str]:
    return [str(bundled_policy_dir() / name)]


def objects_for(files: list[str], version: tuple[int, int] = (1, 36)) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(render_yaml(export_policy(load_policy(files), version))))


@pytest.mark.parametrize(
    "files",
    [bundled("default.yaml"), bundled("strict.yaml")]
    + [[str(p)] for p in sorted(POLICY_FIXTURES.glob("*.yaml"))],
    ids=lambda f: Path(f[0]).name,
)
def test_every_exported_object_validates_against_the_1_36_schema_strictly(files: list[str]) -> None:
    objects = objects_for(files)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, "1.36.0", strict=True)


def test_kubernetes_1_35_gets_v1beta1_mutating_policies_and_1_33_none() -> None:
    older = objects_for(bundled("default.yaml"), (1, 35))
    kinds = {(o["apiVersion"], o["kind"]) for o in older}
    assert ("admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicy") in kinds
    for obj in older:
        kubernetes_validate.validate(obj, "1.35.0", strict=True)
    oldest = objects_for(bundled("default.yaml"), (1, 33))
    assert {o["kind"] for o in oldest} == {
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }


def test_the_same_policy_exports_byte_identical_yaml() -> None:
    # the CLI's default version, 1.37
    first = render_yaml(export_policy(load_policy(bundled("strict.yaml")), (1, 37)))
    again = render_yaml(export_policy(load_policy(bundled("strict.yaml")), (1, 37)))
    assert first == again
    runner = CliRunner()
    out = runner.invoke(main, ["export", "--policy", bundled("strict.yaml")[0]])
    assert out.exit_code == 0 and out.output == first


def test_actions_become_one_binding_each_with_the_rules_action() -> None:
    objects = objects_for(bundled("default.yaml"))
    bindings = {
        o["spec"]["policyName"]: o["spec"]["validationActions"]
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicyBinding"
    }
    assert bindings["jobguard-restart-policy"] == ["Deny"]
    assert bindings["jobguard-manual-selector"] == ["Deny"]
    assert bindings["jobguard-backoff-limit"] == ["Warn"]
    assert "jobguard-cronjob-schedule" not in bindings  # left to the webhook
    policies = {
        o["metadata"]["name"]: o for o in objects if o["kind"] == "ValidatingAdmissionPolicy"
    }
    assert policies["jobguard-restart-policy"]["spec"]["failurePolicy"] == "Fail"
    assert policies["jobguard-backoff-limit"]["spec"]["failurePolicy"] == "Ignore"


def test_the_policy_scope_becomes_the_namespace_selector() -> None:
    objects = objects_for(bundled("default.yaml"))
    binding = next(
        o
        for o in objects
        if o["kind"] == "ValidatingAdmissionPolicyBinding"
        and o["metadata"]["name"] == "jobguard-restart-policy"
    )
    assert binding["spec"]["matchResources"] == {
        "namespaceSelector": {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-node-lease", "kube-public", "kube-system"],
                }
            ]
        }
    }


def job(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    pod = {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "etl", "annotations": annotations or {}},
        "spec": {"template": {"spec": pod}, **spec},
    }


def test_a_reasoned_suppression_annotation_lifts_only_its_rule(tmp_path: Path) -> None:
    strict = objects_for(bundled("strict.yaml"))
    obj = job(backoffLimit=50, activeDeadlineSeconds=600, ttlSecondsAfterFinished=3600)
    rules = {f.rule for f in k8s_cel.validate(strict, k8s_cel.Request(obj))}
    assert "backoff-limit" in rules
    quiet = job({"suppress.jobguard.dev/backoff-limit": "vendor chart, tracked"}, backoffLimit=50)
    # backoff-limit denies under strict: the object may not lift it without the policy's leave,
    # and the suppression rule says the annotation is ignored.
    kept = {(f.rule, f.action) for f in k8s_cel.validate(strict, k8s_cel.Request(quiet))}
    assert {("backoff-limit", "Deny"), ("suppression", "Warn")} <= kept
    permits = tmp_path / "permits.yaml"
    permits.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\n"
        f"extends: [{bundled('strict.yaml')[0]}]\n"
        "suppressions:\n  suppressible: [backoff-limit]\n"
    )
    objects = objects_for([str(permits)])
    rules = {f.rule for f in k8s_cel.validate(objects, k8s_cel.Request(quiet))}
    assert "backoff-limit" not in rules and "active-deadline" in rules
    empty = job({"suppress.jobguard.dev/backoff-limit": "  "}, backoffLimit=50)
    failures = k8s_cel.validate(objects, k8s_cel.Request(empty))
    assert ("backoff-limit", "spec.backoffLimit") in {(f.rule, f.path) for f in failures}
    assert ("suppression", "metadata.annotations[suppress.jobguard.dev/*]", "Warn") in {
        (f.rule, f.path, f.action) for f in failures
    }


def test_messages_name_the_field_path_and_value() -> None:
    objects = objects_for(bundled("strict.yaml"))
    failures = k8s_cel.validate(objects, k8s_cel.Request(job(backoffLimit=50)))
    assert (
        "[backoff-limit] spec.backoffLimit: backoffLimit 50 is above the policy's maximum 10"
        in {f.message for f in failures}
    )


def test_update_keeping_an_old_violation_is_not_denied() -> None:
    objects = objects_for(bundled("strict.yaml"))
    old = job(backoffLimit=50, activeDeadlineSeconds=600, ttlSecondsAfterFinished=3600)
    new = {**old, "metadata": {**old["metadata"], "labels": {"team": "data"}}}
    update = k8s_cel.Request(new, operation="UPDATE", old=old)
    assert ("backoff-limit", "Deny") not in {
        (f.rule, f.action) for f in k8s_cel.validate(objects, update)
    }
    create = k8s_cel.Request(new)
    assert ("backoff-limit", "Deny") in {
        (f.rule, f.action) for f in k8s_cel.validate(objects, create)
    }


def test_mutations_never_touch_a_job_on_update_but_refill_a_cronjob_template() -> None:
    objects = objects_for(bundled("strict.yaml"))
    obj = job(backoffLimit=6)
    assert k8s_cel.mutate(objects, k8s_cel.Request(obj, operation="UPDATE", old=obj)) == obj
    created = k8s_cel.mutate(objects, k8s_cel.Request(obj))
    assert (
        created["spec"]["backoffLimit"] == 3 and created["spec"]["ttlSecondsAfterFinished"] == 86400
    )
    cron: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"parallelism": 4, **obj["spec"]}}},
    }
    del cron["spec"]["jobTemplate"]["spec"]["backoffLimit"]
    updated = k8s_cel.mutate(objects, k8s_cel.Request(cron, operation="UPDATE", old=cron))
    template = updated["spec"]["jobTemplate"]["spec"]
    assert template["backoffLimit"] == 3
    assert "completions" not in template  # a work-queue Job never gets completions


def test_cli_explain_lists_native_and_webhook_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["export", "--explain", "--policy", bundled("strict.yaml")[0]])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "jobguard export for Kubernetes 1.37"  # the default version
    row = next(line for line in lines if line.startswith("backoff-limit "))
    assert row.split() == [
        "backoff-limit",
        "deny",
        "native",
        "4",
        "validations,",
        "2",
        "defaults",
        "(MutatingAdmissionPolicy)",
    ]
    assert "options baked in: default=3, max=10" in out.output
    assert next(line for line in lines if line.startswith("cronjob-schedule ")).split()[:3] == [
        "cronjob-schedule",
        "deny",
        "webhook",
    ]
    assert (
        lines[-1]
        == "Run the webhook beside the native policies for: api-warnings, cronjob-schedule"
    )


def test_cli_writes_the_file_and_refuses_old_versions(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "native.yaml"
    out = runner.invoke(main, ["export", "-o", str(target)])
    assert out.exit_code == 0 and out.output == ""
    assert target.read_text() == render_yaml(export_policy(load_policy([]), (1, 37)))
    old = runner.invoke(main, ["export", "--kubernetes-version", "1.29"])
    assert old.exit_code == 2
    assert "ValidatingAdmissionPolicy v1 needs Kubernetes 1.30 or later" in old.output
    missing = runner.invoke(main, ["export", "-o", str(tmp_path / "no" / "such" / "x.yaml")])
    assert missing.exit_code == 2 and "cannot write" in missing.output


def test_the_webhook_only_parts_are_in_the_objects_annotations() -> None:
    objects = objects_for(bundled("default.yaml"))
    for obj in objects:
        if obj["kind"].endswith("Policy"):
            assert obj["metadata"]["annotations"]["jobguard.dev/rules-needing-webhook"] == (
                "api-warnings, cronjob-schedule"
            )


# Kubernetes escapes object property names that are CEL reserved words (``namespace`` is read
# as ``__namespace__``): an expression must never select one of them from an object.
RESERVED = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
]


def expressions(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        found = [v for k, v in obj.items() if k in ("expression", "messageExpression")]
        return found + [e for v in obj.values() for e in expressions(v)]
    if isinstance(obj, list):
        return [e for v in obj for e in expressions(v)]
    return []


def test_no_expression_selects_a_reserved_word_from_an_object() -> None:
    import re

    selected = re.compile(r"(?<!request)\.(" + "|".join(RESERVED) + r")\b")
    files = [bundled("strict.yaml")] + [[str(p)] for p in sorted(POLICY_FIXTURES.glob("*.yaml"))]
    for policy_files in files:
        for text in expressions(objects_for(policy_files)):
            unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
            unquoted = re.sub(r"'(?:[^'\\]|\\.)*'", "''", unquoted)
            assert not selected.search(unquoted), text
