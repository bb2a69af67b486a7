"""The api rules' building blocks and messages: schema decoding, names, index lists, time zones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.core.kubernetes.indexes import IndexListError, count_indexes
from jobguard.core.kubernetes.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from jobguard.core.kubernetes.schema import did_you_mean, load_schema, structure_errors
from jobguard.core.kubernetes.timezones import time_zone_errors
from jobguard.core.model import Action, Category
from jobguard.core.paths import field_path
from jobguard.policy.model import Policy, RuleSettings
from jobguard.rules import ALL_RULES
from tests.helpers import evaluate_obj, lint_text, pairs

ROOT = Path(__file__).parent.parent.parent
API_RULES = [r for r in ALL_RULES if r.category is Category.API]


def _errors(obj: dict[str, Any], version: tuple[int, int] = (1, 34)) -> list[tuple[str, str]]:
    return [(field_path(e.path), e.message) for e in structure_errors(obj, version)]


def test_the_schema_covers_job_cronjob_pod_spec_metadata_and_status() -> None:
    schema = load_schema()
    job_spec = schema.types["io.k8s.api.batch.v1.JobSpec"]
    assert job_spec["backoffLimit"] == "int32"
    assert job_spec["template"] == "io.k8s.api.core.v1.PodTemplateSpec"
    assert "restartPolicy" in schema.types["io.k8s.api.core.v1.PodSpec"]
    assert "generateName" in schema.types["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    assert "succeeded" in schema.types["io.k8s.api.batch.v1.JobStatus"]
    assert schema.since["io.k8s.api.batch.v1.JobSpec.successPolicy"] == (1, 30)


def test_the_committed_schema_is_what_the_generator_makes() -> None:
    import json

    version = pytest.importorskip("kubernetes_validate.version").__version__
    source = json.loads((ROOT / "jobguard" / "data" / "batch_v1_schema.json").read_text())["source"]
    if not source.startswith(f"kubernetes-validate {version} "):
        pytest.skip(f"the data was generated from {source.split(' (')[0]}, {version} is installed")
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_schema.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_wrong_types_name_the_go_field_and_the_value() -> None:
    obj = {"kind": "Job", "spec": {"backoffLimit": "six", "suspend": "yes"}}
    assert _errors(obj) == [
        (
            "spec.backoffLimit",
            "cannot unmarshal string into Go struct field JobSpec.spec.backoffLimit of type int32"
            ' (spec.backoffLimit must be an integer, not "six")',
        ),
        (
            "spec.suspend",
            "cannot unmarshal string into Go struct field JobSpec.spec.suspend of type bool"
            ' (spec.suspend must be true or false, not "yes")',
        ),
    ]


def test_unknown_fields_get_a_did_you_mean() -> None:
    obj = {
        "kind": "Job",
        "spec": {
            "ttlSecondsAfterFinish": 1,
            "template": {"spec": {"restartpolicy": "Never", "zzz": 1}},
        },
    }
    assert _errors(obj) == [
        (
            "spec.ttlSecondsAfterFinish",
            'strict decoding error: unknown field "spec.ttlSecondsAfterFinish"; did you mean "ttlSecondsAfterFinished"?',
        ),
        (
            "spec.template.spec.restartpolicy",
            'strict decoding error: unknown field "spec.template.spec.restartpolicy"; did you mean "restartPolicy"?',
        ),
        ("spec.template.spec.zzz", 'strict decoding error: unknown field "spec.template.spec.zzz"'),
    ]


def test_int_or_string_quantities_nulls_and_free_form_fields_decode() -> None:
    container = {
        "name": "m",
        "image": "i",
        "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}},
        "ports": [{"containerPort": 80}],
        "readinessProbe": {"httpGet": {"port": "http"}, "tcpSocket": None},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
    }
    obj = {
        "kind": "Job",
        "metadata": {
            "creationTimestamp": None,
            "managedFields": [{"fieldsV1": {"f:x": {"k:{}": {}}}}],
        },
        "spec": {"backoffLimit": None, "template": {"spec": {"containers": [container]}}},
        "status": {"succeeded": 1, "uncountedTerminatedPods": {}},
    }
    assert _errors(obj) == []


def test_integers_out_of_range_and_label_values_that_are_not_strings() -> None:
    obj = {"kind": "Job", "metadata": {"labels": {"v": 1}}, "spec": {"completions": 2**31}}
    assert [p for p, _ in _errors(obj)] == ["metadata.labels[v]", "spec.completions"]
    assert "out of range" in _errors(obj)[1][1]


def test_a_field_newer_than_the_target_version_is_unknown_there() -> None:
    obj = {"kind": "Job", "spec": {"managedBy": "a.io/b"}}
    assert _errors(obj, (1, 30)) == []
    ((path, message),) = _errors(obj, (1, 29))
    assert path == "spec.managedBy"
    assert "added in Kubernetes 1.30" in message


def test_did_you_mean_prefers_case_then_spelling() -> None:
    known = {"restartPolicy": "string", "resources": "x", "ttlSecondsAfterFinished": "int32"}
    assert did_you_mean("RestartPolicy", known) == "restartPolicy"
    assert did_you_mean("ttlSecondAfterFinished", known) == "ttlSecondsAfterFinished"
    assert did_you_mean("image", known) is None
    # only a field that can hold the value: a string is no misspelt integer field
    assert did_you_mean("ttlSecondAfterFinished", known, "1h") is None
    assert did_you_mean("ttlSecondAfterFinished", known, 3600) == "ttlSecondsAfterFinished"


@pytest.mark.parametrize(
    ("check", "value", "ok"),
    [
        (dns1123_label_errors, "pi-2", True),
        (dns1123_label_errors, "a.b", False),
        (dns1123_label_errors, "a" * 64, False),
        (dns1123_subdomain_errors, "a.b-c", True),
        (dns1123_subdomain_errors, "Nightly_Report", False),
        (qualified_name_errors, "example.com/My_Name.1", True),
        (qualified_name_errors, "a/b/c", False),
        (qualified_name_errors, "/x", False),
        (qualified_name_errors, "owner team", False),
        (label_value_errors, "", True),
        (label_value_errors, "billing and finance", False),
    ],
)
def test_name_syntax(check: Any, value: str, ok: bool) -> None:
    assert (check(value) == []) is ok


def test_name_messages_are_apimachinerys() -> None:
    assert dns1123_label_errors("a" * 64) == ["must be no more than 63 characters"]
    assert qualified_name_errors("/x") == ["prefix part must be non-empty"]


@pytest.mark.parametrize(
    ("text", "completions", "count"),
    [("", 3, 0), ("0", 1, 1), ("0,2-4,7-9", 10, 7), ("+1", 3, 1)],
)
def test_index_lists_count_their_indexes(text: str, completions: int, count: int) -> None:
    assert count_indexes(text, completions) == count


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0-2,5", 'too large index: "5"'),
        ("1, 3", 'cannot convert string to integer for index: " 3"'),
        ("3,1", "non-increasing order, previous: 3, current: 1"),
        ("2-2", "non-increasing order, previous: 2, current: 2"),
        (
            "1-2-3",
            "the fragment \"1-2-3\" violates the requirement that an index interval can have at most two parts separated by '-'",
        ),
        ("-1", 'cannot convert string to integer for index: ""'),
    ],
)
def test_index_list_errors_are_the_api_servers(text: str, message: str) -> None:
    with pytest.raises(IndexListError) as info:
        count_indexes(text, 5)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("zone", "errors"),
    [
        ("Europe/Berlin", []),
        ("Etc/GMT+2", []),
        ("UTC", []),
        ("", ["timeZone must be nil or non-empty string"]),
        (
            "Local",
            [
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
            ],
        ),
        (
            "LOCAL",
            [
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
                "unknown time zone LOCAL",
            ],
        ),
        ("Europe/Paris ", ["unknown time zone Europe/Paris "]),
        ("../etc/passwd", ["unknown time zone ../etc/passwd"]),
        ("Europe/Berln", ["unknown time zone Europe/Berln"]),
    ],
)
def test_time_zones_as_the_api_server_checks_them(zone: str, errors: list[str]) -> None:
    assert time_zone_errors(zone) == errors


JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      containers: [{name: main, image: busybox}]
"""


def _restart_policy_at(action: Action) -> Policy:
    """The built-in defaults with restart-policy at ``action`` (its denial subsumes the API
    rule's finding at the same path)."""
    rule = next(r for r in ALL_RULES if r.name == "restart-policy")
    return Policy(rules=MappingProxyType({rule.name: RuleSettings(action, rule.options())}))


def test_a_denied_missing_restart_policy_is_one_error_the_one_with_the_fix() -> None:
    at = "spec.template.spec.restartPolicy"
    assert [p for p in pairs(lint_text(JOB)) if p[1] == at] == [("restart-policy", at)]
    warned = pairs(lint_text(JOB, _restart_policy_at(Action.WARN)))
    assert [p for p in warned if p[1] == at] == [("api-restart-policy", at), ("restart-policy", at)]
    off = pairs(lint_text(JOB, _restart_policy_at(Action.OFF)))
    assert [p for p in off if p[1] == at] == [("api-restart-policy", at)]


def test_api_messages_carry_the_api_servers_text() -> None:
    result = lint_text(JOB, _restart_policy_at(Action.OFF))
    (finding,) = [
        lf.finding
        for o in result.objects
        for lf in o.findings
        if lf.finding.rule == "api-restart-policy"
    ]
    assert finding.message.startswith('Required value: valid values: "OnFailure", "Never"')
    bad = JOB.replace("containers:", "restartPolicy: Sometimes\n      containers:")
    (finding,) = [
        lf.finding
        for o in lint_text(bad, _restart_policy_at(Action.OFF)).objects
        for lf in o.findings
        if lf.finding.rule == "api-restart-policy"
    ]
    assert finding.message.startswith(
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"; '
        'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"'
    )


def test_every_api_rule_is_category_api_and_denies_by_default() -> None:
    # api-warnings, api-feature-gates and api-duplicate-keys report what the API server
    # accepts (a repeated YAML key never reaches it: kubectl keeps the last value): warnings.
    accepted = {"api-warnings", "api-feature-gates", "api-duplicate-keys"}
    assert len(API_RULES) >= 16
    for rule in API_RULES:
        assert rule.code.startswith("JG0")
        assert rule.name.startswith("api-")
        expected = "warn" if rule.name in accepted else "deny"
        assert rule.default_action.value == expected


def test_update_skips_create_only_checks() -> None:
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "n" * 60, "resourceVersion": "3", "uid": "u"},
        "spec": {
            "schedule": "TZ=UTC 0 3 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "m", "image": "i"}],
                        }
                    }
                }
            },
        },
    }
    old = {"spec": {"schedule": "TZ=UTC 0 3 * * *"}}
    created = evaluate_obj(cron, operation="CREATE")
    assert [(f.rule, f.field) for f in created.findings if f.category is Category.API] == [
        ("api-object-meta", "metadata.name"),
        ("api-cronjob-schedule", "spec.schedule"),
    ]
    updated = evaluate_obj(cron, operation="UPDATE", old_object=old)
    assert [f.rule for f in updated.findings if f.category is Category.API] == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
_fields = st.sampled_from(
    [
        "spec",
        "metadata",
        "template",
        "selector",
        "podFailurePolicy",
        "successPolicy",
        "jobTemplate",
        "rules",
        "labels",
        "containers",
        "completionMode",
        "completions",
        "parallelism",
        "schedule",
        "timeZone",
        "manualSelector",
        "onExitCodes",
        "values",
        "succeededIndexes",
    ]
)
_shaped = st.recursive(
    _json, lambda children: st.dictionaries(_fields, children, max_size=4), max_leaves=20
)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["Job", "CronJob"]), body=st.dictionaries(_fields, _shaped, max_size=4))
def test_no_api_rule_fails_on_any_shape_of_document(kind: str, body: dict[str, Any]) -> None:
    report = evaluate_obj({"apiVersion": "batch/v1", "kind": kind, **body})
    assert [f for f in report.findings if f.rule == "internal-error"] == []


def test_lint_text_reports_api_findings_in_registry_order() -> None:
    text = JOB.replace("name: pi}", "name: pi, labels: {v: 1}}")
    assert pairs(lint_text(text, _restart_policy_at(Action.OFF)))[:2] == [
        ("api-structure", "metadata.labels[v]"),
        ("api-restart-policy", "spec.template.spec.restartPolicy"),
    ]


def test_duplicate_keys_are_found_once_per_repeat_and_relative_to_list_items() -> None:
    from jobguard.yamlsource import iter_objects, parse_stream

    text = """
base: &base {a: 1, a: 2}
kind: List
items:
  - {x: 1, y: [{k: 1, k: 2, k: 3}], x: 2}
  - *base
  - *base
"""
    (doc,) = parse_stream(text).documents
    from jobguard.yamlsource import duplicate_keys

    assert duplicate_keys(doc.node) == (
        ("base", "a"),
        ("items", 0, "x"),
        ("items", 0, "y", 0, "k"),
        ("items", 0, "y", 0, "k"),
    )
    objects = list(iter_objects(parse_stream(text)))
    assert [o.duplicate_keys() for o in objects] == [(("x",), ("y", 0, "k"), ("y", 0, "k")), (), ()]
    assert doc.duplicate_keys() == duplicate_keys(doc.node)  # what the loader noted


def test_a_key_overriding_a_merged_one_is_not_a_repeat() -> None:
    """YAML merge keys (``<<``) let a mapping override what it merges; only a key written twice
    in the mapping itself is a repeat."""
    text = JOB.replace(
        "metadata: {name: pi}",
        "x-base: &base {backoffLimit: 2, completions: 1}\nmetadata: {name: pi}",
    ).replace("spec:\n", "spec:\n  <<: *base\n  backoffLimit: 3\n  backoffLimit: 4\n", 1)
    from jobguard.yamlsource import parse_stream

    (doc,) = parse_stream(text).documents
    assert doc.data["spec"]["backoffLimit"] == 4
    assert doc.duplicate_keys() == (("spec", "backoffLimit"),)


def _messages(text: str, rule: str) -> list[tuple[str, str]]:
    return [
        (lf.finding.field, lf.finding.message)
        for obj in lint_text(text).objects
        for lf in obj.findings
        if lf.finding.rule == rule
    ]


def test_restart_policy_with_a_pod_failure_policy_is_an_invalid_value() -> None:
    text = JOB.replace(
        "spec:\n  template:",
        "spec:\n  podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}\n  template:",
    ).replace("containers:", "restartPolicy: OnFailure\n      containers:")
    ((path, message),) = _messages(text, "api-restart-policy")
    assert path == "spec.template.spec.restartPolicy"
    assert message.startswith(
        'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'
    )


CRON = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "SCHEDULE"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox}]
"""


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "0 0 3 * * *",
            'Invalid value: "0 0 3 * * *": expected exactly 5 fields, found 6: [0 0 3 * * *]',
        ),
        ("0 3 * * 7", 'Invalid value: "0 3 * * 7": end of range (7) above maximum (6): 7'),
        (
            "@every 1x",
            'Invalid value: "@every 1x": failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"',
        ),
        (
            "TZ=Europe/Berlin 0 3 * * *",
            'Invalid value: "TZ=Europe/Berlin 0 3 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
        ),
        (
            "TZ=Europe/Nowhere 0 3 * * *",
            'Invalid value: "TZ=Europe/Nowhere 0 3 * * *": provided bad location Europe/Nowhere: '
            'unknown time zone Europe/Nowhere; Invalid value: "TZ=Europe/Nowhere 0 3 * * *": '
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ),
    ],
)
def test_schedule_messages_are_the_api_servers(schedule: str, message: str) -> None:
    assert _messages(CRON.replace("SCHEDULE", schedule), "api-cronjob-schedule") == [
        ("spec.schedule", message)
    ]


@pytest.mark.parametrize(
    "schedule", ["* * * * ?", "@every 1h30m", "0 9 * * MON-FRI", "@midnight", "0 0 29 2 *"]
)
def test_schedules_robfig_accepts_pass(schedule: str) -> None:
    assert _messages(CRON.replace("SCHEDULE", schedule), "api-cronjob-schedule") == []


def test_stale_controller_uid_and_not_auto_generated_selector_messages() -> None:
    text = JOB.replace(
        "spec:\n  template:",
        "spec:\n  selector: {matchLabels: {app: etl}}\n  template:\n    metadata: {labels: {app: etl, controller-uid: old}}",
    ).replace("containers:", "restartPolicy: Never\n      containers:")
    assert _messages(text, "api-selector") == [
        (
            "spec.template.metadata.labels[controller-uid]",
            'Invalid value: "old": must be the new Job\'s uid (the API server assigns a fresh uid '
            "to every Job it creates, so a controller-uid label copied from an existing Job never "
            "matches; remove it)",
        ),
        (
            "spec.selector",
            'Invalid value: {"matchLabels":{"app":"etl"}}: `selector` not auto-generated (the '
            "selector has keys of its own: app; without manualSelector: true the API server "
            "generates the selector, so remove it)",
        ),
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


def _realistic_objects() -> list[dict[str, Any]]:
    import json

    import yaml

    docs: list[Any] = []
    yamls = [
        *(ROOT / "tests" / "fixtures" / "rules").glob("api-*/*.yaml"),
        *(ROOT / "examples").rglob("*.yaml"),
    ]
    for path in sorted(yamls):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    for path in sorted((ROOT / "tests" / "fixtures" / "admission").glob("*.json")):
        obj = json.loads(path.read_text())["request"].get("object")
        if isinstance(obj, dict):
            docs.append(obj)
    return [d for d in docs if d.get("kind") in ("Job", "CronJob")]


REALISTIC = _realistic_objects()


@settings(max_examples=400, deadline=None)
@given(data=st.data(), junk=_json)
def test_no_api_rule_fails_when_any_field_of_a_real_manifest_is_replaced(
    data: st.DataObject, junk: Any
) -> None:
    import copy

    obj = copy.deepcopy(data.draw(st.sampled_from(REALISTIC)))
    path = data.draw(st.sampled_from(_paths(obj)[2:]))  # keep apiVersion/kind
    parent = obj
    for seg in path[:-1]:
        parent = parent[seg]
    parent[path[-1]] = junk
    if obj.get("kind") not in ("Job", "CronJob"):
        return
    report = evaluate_obj(obj)
    assert [f for f in report.findings if f.rule == "internal-error"] == []


@pytest.mark.parametrize(
    ("api_version", "message"),
    [
        (None, "apiVersion not set (kubectl refuses the object); Job is batch/v1"),
        ("batch/v2", 'no matches for kind "Job" in version "batch/v2": Job is served as batch/v1'),
    ],
)
def test_api_version_must_be_batch_v1(api_version: str | None, message: str) -> None:
    obj: dict[str, Any] = {"kind": "Job", "metadata": {"name": "x"}, "spec": {}}
    if api_version is not None:
        obj["apiVersion"] = api_version
    findings = [f for f in evaluate_obj(obj).findings if f.rule == "api-structure"]
    assert [(f.field, f.message) for f in findings] == [("apiVersion", message)]


@pytest.mark.parametrize("schedule", [", * * * *", "* , * * *", "* * * , *", "0 0 , * ,"])
def test_schedules_with_an_empty_field_parse_and_never_fire(schedule: str) -> None:
    from jobguard.core.kubernetes.cron import parse_schedule

    # robfig/cron splits fields with FieldsFunc: "," lists nothing, and the API server accepts it.
    assert parse_schedule(schedule).never_fires()
    report = evaluate_obj(yaml_cron(schedule))
    assert [f for f in report.findings if f.rule == "internal-error"] == []
    assert [f.rule for f in report.findings if f.rule == "api-cronjob-schedule"] == []


def yaml_cron(schedule: str) -> dict[str, Any]:
    import yaml

    obj: dict[str, Any] = yaml.safe_load(CRON.replace("SCHEDULE", schedule))
    return obj
