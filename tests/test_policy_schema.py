"""The policy JSON Schema: generated from the policy model, shipped as the checked-in file, printed
by `jobguard schema policy`, referenced by the bundled policies, and in step with the loader:
on a table of documents, the schema and the loader accept and refuse the same ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from jobguard import schemas
from jobguard.cli import main
from jobguard.policy import PolicyError, load_policy
from jobguard.policy.schema import option_schema, policy_schema, policy_schema_text

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "jobguard" / "schemas" / "policy-v1.schema.json"
HEADER = "apiVersion: jobguard.dev/v1\nkind: Policy\n"
#: Where policy files live in the repository.
POLICY_HOMES = ("policies", "examples", "deploy", "charts", "tests/fixtures")
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def validator() -> jsonschema.Draft202012Validator:
    schema = policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(document: Any) -> list[str]:
    return [e.message for e in validator().iter_errors(document)]


def policy_files() -> list[Path]:
    """Every policy file of the repository: bundled, examples, deploy overlays, test fixtures
    that are meant to load (the fuzz corpus is made of broken ones)."""
    found = []
    candidates = (p for top in POLICY_HOMES for p in sorted((ROOT / top).glob("**/*.yaml")))
    for path in candidates:
        if path.is_relative_to(ROOT / "tests/fixtures/fuzz"):
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        if len(docs) == 1 and isinstance(docs[0], dict) and docs[0].get("kind") == "Policy":
            found.append(path)
    return found


def test_the_shipped_schema_is_the_generated_one() -> None:
    assert SHIPPED.read_text() == policy_schema_text(), (
        "regenerate it: jobguard schema policy > jobguard/schemas/policy-v1.schema.json"
    )
    assert schemas.load(schemas.POLICY) == policy_schema()


def test_jobguard_schema_policy_prints_it() -> None:
    result = CliRunner().invoke(main, ["schema", "policy"])
    assert result.exit_code == 0
    assert result.output == SHIPPED.read_text()


@pytest.mark.parametrize("name", ["report", "baseline"])
def test_jobguard_schema_prints_the_other_shipped_schemas(name: str) -> None:
    result = CliRunner().invoke(main, ["schema", name])
    assert result.exit_code == 0
    assert json.loads(result.output) == schemas.load(f"{name}-v1.schema.json")


def test_every_policy_file_in_the_repository_is_valid_and_loads() -> None:
    files = policy_files()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    assert {"policies/default.yaml", "policies/strict.yaml"} <= names
    assert "deploy/overlays/fail-closed/on-rule-error.yaml" in names
    for path in files:
        assert schema_errors(yaml.safe_load(path.read_text())) == [], path
        load_policy([str(path)])


@pytest.mark.parametrize("name", ["default.yaml", "strict.yaml"])
def test_bundled_policies_point_editors_at_the_shipped_schema(name: str) -> None:
    path = ROOT / "policies" / name
    match = SCHEMA_LINE.search(path.read_text())
    assert match is not None, f"{path} has no yaml-language-server $schema line"
    assert (path.parent / match.group(1)).resolve() == SHIPPED


def test_every_rule_and_option_is_described() -> None:
    from jobguard.rules import ALL_RULES

    described = policy_schema()["properties"]["rules"]["anyOf"][0]["properties"]
    assert list(described) == [rule.name for rule in ALL_RULES]
    backoff = described["backoff-limit"]["properties"]
    assert backoff["default"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 6}
    assert backoff["action"]["default"] == "warn"
    restart = described["restart-policy"]["properties"]
    assert restart["allowed"]["items"] == {"enum": ["Never", "OnFailure"]}


def test_an_option_type_the_generator_does_not_know_is_an_error_not_a_gap() -> None:
    with pytest.raises(ValueError, match="no JSON Schema for the option type"):
        option_schema(dict[str, int])


CUSTOM = (
    "custom_rules:\n"
    "  - name: team-label\n"
    "    code: JGC001\n"
    "    action: warn\n"
    "    kinds: [Job]\n"
    "    match_conditions: [{name: not-system, expression: \"!object.metadata.namespace.startsWith('kube-')\"}]\n"
    '    variables: [{name: labels, expression: "object.metadata.?labels.orValue({})"}]\n'
    "    validations:\n"
    "      - {expression: \"'team' in variables.labels\", message: needs a team, path: metadata.labels}\n"
)


def custom(**changes: str) -> str:
    """CUSTOM with lines replaced (key: new line) or appended (key starting with +)."""
    text = CUSTOM
    for old, new in changes.items():
        text = text.replace(old, new) if not old.startswith("+") else text + new
    return text


#: (what it is, the policy document after the header). The loader and the schema must agree.
ACCEPTED = [
    ("empty policy", ""),
    ("extends as a string", "extends: jobguard:default\n"),
    ("extends as a list", "extends: [jobguard:default]\n"),
    ("metadata of any shape", "metadata: {name: team-a, labels: {a: b}}\n"),
    ("keys written without values", "scope:\nsuppressions:\nrules:\nexemptions:\n"),
    (
        "full scope",
        "scope:\n  namespaces: {include: ['team-*'], exclude: [team-x]}\n"
        "  labels:\n    matchLabels: {tier: batch}\n"
        "    matchExpressions:\n      - {key: a, operator: In, values: [b]}\n"
        "      - {key: c, operator: DoesNotExist}\n",
    ),
    ("suppressions", "suppressions: {allowed: false, forbid: [restart-policy]}\n"),
    ("on_rule_error deny", "on_rule_error: deny\n"),
    ("restated_api_defaults action", "restated_api_defaults: action\n"),
    ("action off unquoted (YAML 1.1 false)", "rules:\n  backoff-limit: {action: off}\n"),
    ("integer or null option", "rules:\n  backoff-limit: {default: 3, max: null}\n"),
    ("literal list option", "rules:\n  restart-policy: {allowed: [Never], default: Never}\n"),
    ("string option", "rules:\n  resources: {max_cpu: '2', requests: [cpu]}\n"),
    ("rule scope", "rules:\n  resources:\n    scope: {namespaces: {exclude: [ml]}}\n"),
    (
        "exemption",
        "exemptions:\n  - rules: ['*']\n    reason: vendored\n    kinds: [CronJob]\n",
    ),
    ("custom rule", CUSTOM),
    (
        "custom rule configured, forbidden and exempted",
        CUSTOM
        + "rules:\n  team-label: {action: deny, scope: {namespaces: {exclude: [ml]}}}\n"
        + "suppressions: {forbid: [team-label]}\n"
        + "exemptions:\n  - {rules: [team-label], reason: legacy, namespaces: [old]}\n",
    ),
    (
        "custom rule, the least",
        "custom_rules:\n  - {name: x, validations: [{expression: 'true'}]}\n",
    ),
    (
        "exemption by file",
        "exemptions:\n  - {rules: [resources], reason: chart, files: ['charts/*']}\n",
    ),
]
REFUSED = [
    ("unknown top-level key", "rulez: {}\n"),
    ("extends a number", "extends: 3\n"),
    ("extends a list of numbers", "extends: [1]\n"),
    ("scope not a mapping", "scope: everything\n"),
    ("unknown scope key", "scope: {names: [a]}\n"),
    ("namespace include not strings", "scope: {namespaces: {include: [1]}}\n"),
    ("matchLabels values not strings", "scope: {labels: {matchLabels: {a: 1}}}\n"),
    ("requirement without key", "scope: {labels: {matchExpressions: [{operator: Exists}]}}\n"),
    (
        "requirement empty key",
        "scope: {labels: {matchExpressions: [{key: '', operator: Exists}]}}\n",
    ),
    ("bad operator", "scope: {labels: {matchExpressions: [{key: a, operator: Is}]}}\n"),
    ("In without values", "scope: {labels: {matchExpressions: [{key: a, operator: In}]}}\n"),
    (
        "In with no values",
        "scope: {labels: {matchExpressions: [{key: a, operator: In, values: []}]}}\n",
    ),
    ("suppressions.allowed a string", "suppressions: {allowed: 'yes'}\n"),
    ("forbid an unknown rule", "suppressions: {forbid: [no-such-rule]}\n"),
    ("unknown suppressions key", "suppressions: {allow: true}\n"),
    ("on_rule_error unknown", "on_rule_error: crash\n"),
    ("on_rule_error null", "on_rule_error:\n"),
    ("restated_api_defaults unknown", "restated_api_defaults: never\n"),
    ("rules a list", "rules: [backoff-limit]\n"),
    ("unknown rule", "rules:\n  backoff-limt: {action: warn}\n"),
    ("rule settings null", "rules:\n  backoff-limit:\n"),
    ("rule settings a string", "rules:\n  backoff-limit: warn\n"),
    ("unknown action", "rules:\n  backoff-limit: {action: on}\n"),
    ("unknown option", "rules:\n  backoff-limit: {defualt: 3}\n"),
    ("integer option a string", "rules:\n  backoff-limit: {default: '3'}\n"),
    ("integer option a boolean", "rules:\n  backoff-limit: {default: true}\n"),
    ("boolean option an integer", "rules:\n  active-deadline: {require: 1}\n"),
    ("literal option outside", "rules:\n  restart-policy: {default: Always}\n"),
    ("list option a string", "rules:\n  restart-policy: {allowed: Never}\n"),
    ("rule scope not a mapping", "rules:\n  resources: {scope: [a]}\n"),
    ("exemptions a mapping", "exemptions: {rules: ['*']}\n"),
    ("exemption without rules", "exemptions:\n  - {reason: r, kinds: [Job]}\n"),
    ("exemption with no rules", "exemptions:\n  - {rules: [], reason: r, kinds: [Job]}\n"),
    ("exemption unknown rule", "exemptions:\n  - {rules: [nope], reason: r, kinds: [Job]}\n"),
    ("exemption without reason", "exemptions:\n  - {rules: ['*'], kinds: [Job]}\n"),
    ("exemption blank reason", "exemptions:\n  - {rules: ['*'], reason: '  ', kinds: [Job]}\n"),
    ("exemption without selector", "exemptions:\n  - {rules: ['*'], reason: r}\n"),
    ("exemption empty selectors", "exemptions:\n  - {rules: ['*'], reason: r, names: []}\n"),
    ("exemption unknown kind", "exemptions:\n  - {rules: ['*'], reason: r, kinds: [Pod]}\n"),
    ("custom rules a mapping", "custom_rules: {name: x}\n"),
    (
        "custom rule without validations",
        custom(**{"    validations:\n": "    validations: []\n", "      - {expression": "#"}),
    ),
    ("custom rule name not kebab-case", custom(**{"name: team-label": "name: Team_Label"})),
    ("custom rule code", custom(**{"code: JGC001": "code: JG001"})),
    ("custom rule kind", custom(**{"kinds: [Job]": "kinds: [Pod]"})),
    ("custom rule no kinds", custom(**{"kinds: [Job]": "kinds: []"})),
    ("custom rule action", custom(**{"action: warn": "action: block"})),
    ("custom rule unknown key", custom(**{"+": "    severity: high\n"})),
    ("custom rule variable named job", custom(**{"name: labels": "name: job"})),
    ("custom rule variable not an identifier", custom(**{"name: labels": "name: team-labels"})),
    (
        "custom rule validation without expression",
        custom(**{"{expression: \"'team' in variables.labels\", ": "{"}),
    ),
    ("custom rule empty expression", custom(**{"\"'team' in variables.labels\"": "' '"})),
    ("unknown rule in rules without custom rules", "rules:\n  team-label: {action: warn}\n"),
    ("exemption unknown key", "exemptions:\n  - {rules: ['*'], reason: r, kind: [Job]}\n"),
]
#: Refused by the loader only: what no schema can know (files on disk, an option's bounds and
#: cross-field checks in the options' validate()). The schema checks shape, the loader the rest.
LOADER_ONLY = [
    ("extends a missing file", "extends: [missing.yaml]\n"),
    ("custom rule with a built-in's name", custom(**{"name: team-label": "name: backoff-limit"})),
    ("CEL that does not compile", custom(**{"'team' in variables.labels": "'team' in"})),
    (
        "two custom rules of one name",
        CUSTOM + CUSTOM.replace("custom_rules:\n", "").replace("JGC001", "JGC002"),
    ),
    (
        "a typo in rules beside custom rules (any kebab name may be one)",
        CUSTOM + "rules:\n  backoff-limt: {action: warn}\n",
    ),
    ("extends an unknown bundled policy", "extends: [jobguard:nope]\n"),
    ("option below its minimum", "rules:\n  backoff-limit: {default: -1}\n"),
    ("default above max", "rules:\n  backoff-limit: {default: 9, max: 3}\n"),
    ("quantity that does not parse", "rules:\n  resources: {max_cpu: lots}\n"),
]


def loader_accepts(tmp_path: Path, body: str) -> bool:
    path = tmp_path / "policy.yaml"
    path.write_text(HEADER + body)
    try:
        load_policy([str(path)])
    except PolicyError:
        return False
    return True


def schema_accepts(body: str) -> bool:
    return schema_errors(yaml.safe_load(HEADER + body)) == []


@pytest.mark.parametrize(("what", "body"), ACCEPTED, ids=[w for w, _ in ACCEPTED])
def test_loader_and_schema_both_accept(tmp_path: Path, what: str, body: str) -> None:
    assert loader_accepts(tmp_path, body), what
    assert schema_accepts(body), schema_errors(yaml.safe_load(HEADER + body))


@pytest.mark.parametrize(("what", "body"), REFUSED, ids=[w for w, _ in REFUSED])
def test_loader_and_schema_both_refuse(tmp_path: Path, what: str, body: str) -> None:
    assert not loader_accepts(tmp_path, body), what
    assert not schema_accepts(body), what


@pytest.mark.parametrize(("what", "body"), LOADER_ONLY, ids=[w for w, _ in LOADER_ONLY])
def test_what_only_the_loader_can_refuse(tmp_path: Path, what: str, body: str) -> None:
    assert not loader_accepts(tmp_path, body), what
    assert schema_accepts(body), what


@pytest.mark.parametrize("field", ["apiVersion", "kind"])
def test_both_require_the_header(tmp_path: Path, field: str) -> None:
    document = yaml.safe_load(HEADER)
    del document[field]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PolicyError):
        load_policy([str(path)])
    assert schema_errors(document) == [f"'{field}' is a required property"]


def test_both_refuse_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("- apiVersion: jobguard.dev/v1\n  kind: Policy\n")
    with pytest.raises(PolicyError):
        load_policy([str(path)])
    assert schema_errors(yaml.safe_load(path.read_text())) == [
        "[{'apiVersion': 'jobguard.dev/v1', 'kind': 'Policy'}] is not of type 'object'"
    ]


def test_a_custom_rule_from_an_extended_file_may_be_configured(tmp_path: Path) -> None:
    """The schema cannot see the parent's custom rules: where a file extends another, it lets
    any rule name through and the loader decides."""
    (tmp_path / "org.yaml").write_text(HEADER + CUSTOM)
    team = HEADER + "extends: [org.yaml]\nrules:\n  team-label: {action: deny}\n"
    (tmp_path / "team.yaml").write_text(team)
    load_policy([str(tmp_path / "team.yaml")])
    assert schema_errors(yaml.safe_load(team)) == []
