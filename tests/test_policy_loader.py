"""Policy files: validation with file:line errors, layering, scope, immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jobguard.core.model import Action
from jobguard.policy import PolicyError, load_policy
from jobguard.policy.loader import bundled_policy_dir
from jobguard.rules import RULES_BY_NAME
from tests.helpers import lint_text, pairs

HEADER = "apiVersion: jobguard.dev/v1\nkind: Policy\n"


def write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return str(path)


def problems(paths: list[str]) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(paths)
    return [str(p) for p in info.value.problems]


def test_the_bundled_default_policy_loads_and_is_found_by_name() -> None:
    policy = load_policy()
    assert policy.sources == ("jobguard:default",)
    assert (bundled_policy_dir() / "default.yaml").is_file()
    assert policy.settings(RULES_BY_NAME["restart-policy"]).action is Action.DENY


def test_an_unknown_top_level_key_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "rulez:\n  restart-policy: {action: deny}\n")
    assert problems([path]) == [
        f"{path}:3:1: rulez: unknown key 'rulez' (did you mean 'rules'?); expected one of: "
        "apiVersion, kind, metadata, extends, scope, suppressions, rules, exemptions, on_rule_error, "
        "restated_api_defaults, trust, custom_rules"
    ]


def test_an_unknown_rule_and_a_misspelt_option_are_both_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "rules:\n  restart-polcy: {action: deny}\n  restart-policy:\n    action: deny\n    defualt: Never\n",
    )
    found = problems([path])
    assert found[0].startswith(
        f"{path}:4:3: rules.restart-polcy: unknown rule 'restart-polcy' (did you mean 'restart-policy'?)"
    )
    assert found[1].startswith(
        f"{path}:7:5: rules.restart-policy.defualt: unknown option 'defualt' for rule restart-policy (did you mean 'default'?)"
    )
    assert len(found) == 2


def test_bad_values_are_reported_with_the_expected_type(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.yaml", "rules:\n  restart-policy:\n    action: block\n    allowed: Never\n"
    )
    assert problems([path]) == [
        f"{path}:5:5: rules.restart-policy.action: must be one of deny, warn, audit, off",
        f"{path}:6:5: rules.restart-policy.allowed: must be a list of one of 'Never', 'OnFailure', not 'Never'",
    ]


def test_an_unquoted_off_turns_a_rule_off(tmp_path: Path) -> None:
    """YAML 1.1 reads ``off`` as false; the action everyone writes must still mean off."""
    path = write(tmp_path, "p.yaml", "rules:\n  restart-policy: {action: off}\n")
    assert load_policy([path]).settings(RULES_BY_NAME["restart-policy"]).action is Action.OFF
    on = write(tmp_path, "q.yaml", "rules:\n  restart-policy: {action: on}\n")
    assert problems([on]) == [
        f"{on}:4:20: rules.restart-policy.action: must be one of deny, warn, audit, off"
    ]


def test_cross_field_validation_points_at_the_offending_option(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "rules:\n  restart-policy:\n    allowed: [OnFailure]\n    default: Never\n",
    )
    assert problems([path]) == [
        f"{path}:6:5: rules.restart-policy.default: 'Never' is not in allowed ['OnFailure']"
    ]


def test_wrong_api_version_kind_and_yaml_errors_are_errors(tmp_path: Path) -> None:
    bad_header = tmp_path / "h.yaml"
    bad_header.write_text("apiVersion: v1\nkind: ConfigMap\n")
    assert problems([str(bad_header)]) == [
        f"{bad_header}:1:1: apiVersion: must be 'jobguard.dev/v1'",
        f"{bad_header}:2:1: kind: must be 'Policy'",
    ]
    broken = tmp_path / "b.yaml"
    broken.write_text(HEADER + "rules: [\n")
    (msg,) = problems([str(broken)])
    assert msg.startswith(f"{broken}:4:1: invalid YAML")


def test_a_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    assert problems([missing]) == [f"{missing}: cannot read policy file: No such file or directory"]


def test_a_team_file_extends_the_org_default_key_by_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "org.yaml",
        "suppressions:\n  forbid: [restart-policy]\nrules:\n  restart-policy: {action: deny, default: OnFailure}\n",
    )
    team = write(
        tmp_path, "team.yaml", "extends: [org.yaml]\nrules:\n  restart-policy: {action: warn}\n"
    )
    policy = load_policy([team])
    settings = policy.settings(RULES_BY_NAME["restart-policy"])
    assert settings.action is Action.WARN  # the team's override
    assert settings.options.default == "OnFailure"  # inherited from the org file
    assert policy.unsuppressible == frozenset({"restart-policy"})
    assert policy.sources == (str(tmp_path / "org.yaml"), team)


def test_several_policy_options_layer_left_to_right(tmp_path: Path) -> None:
    first = write(
        tmp_path, "a.yaml", "rules:\n  restart-policy: {action: warn, default: OnFailure}\n"
    )
    second = write(tmp_path, "b.yaml", "rules:\n  restart-policy: {action: audit}\n")
    settings = load_policy([first, second]).settings(RULES_BY_NAME["restart-policy"])
    assert (settings.action, settings.options.default) == (Action.AUDIT, "OnFailure")


def test_an_extends_cycle_is_an_error_not_a_hang(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: [b.yaml]\n")
    write(tmp_path, "b.yaml", "extends: [a.yaml]\n")
    (msg,) = problems([a])
    assert "extends itself (cycle:" in msg


def test_the_loaded_policy_is_immutable() -> None:
    policy = load_policy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.suppressions_allowed = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.rules["restart-policy"] = None  # type: ignore[index]


MISSING_RESTART = """\
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: %s, labels: {team: %s}}
spec:
  template:
    spec:
      containers: [{name: main, image: busybox:1.36}]
"""


def test_namespace_globs_and_label_selectors_scope_the_policy(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "scope:\n  namespaces: {include: ['team-*'], exclude: ['team-sandbox']}\n"
        "  labels:\n    matchExpressions: [{key: team, operator: NotIn, values: [legacy]}]\n",
    )
    policy = load_policy([path])

    def rules_hit(ns: str, team: str) -> list[tuple[str, str]]:
        return pairs(lint_text(MISSING_RESTART % (ns, team), policy), "restart-policy")

    assert rules_hit("team-a", "payments") == [
        ("restart-policy", "spec.template.spec.restartPolicy")
    ]
    assert rules_hit("team-sandbox", "payments") == []
    assert rules_hit("default", "payments") == []
    assert rules_hit("team-a", "legacy") == []


def test_a_rule_scope_narrows_one_rule_only(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "rules:\n  restart-policy:\n    scope: {namespaces: {exclude: [batch-legacy]}}\n",
    )
    policy = load_policy([path])
    assert pairs(lint_text(MISSING_RESTART % ("batch-legacy", "x"), policy), "restart-policy") == []
    assert pairs(lint_text(MISSING_RESTART % ("batch", "x"), policy), "restart-policy") != []


def test_a_forbidden_suppression_is_reported_and_does_not_silence(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "suppressions:\n  forbid: [restart-policy]\n")
    text = (
        MISSING_RESTART.replace(
            "labels: {team: %s}}", "annotations: {suppress.jobguard.dev/restart-policy: legacy}}"
        )
        % "ns"
    )
    result = lint_text(text, load_policy([path]))
    # Only the two rules involved: the minimal Job also trips unrelated rules (e.g. resources).
    involved = [p for p in pairs(result) if p[0] in ("suppression", "restart-policy")]
    assert involved == [
        ("suppression", "metadata.annotations[suppress.jobguard.dev/restart-policy]"),
        ("restart-policy", "spec.template.spec.restartPolicy"),
    ]


def test_a_reasoned_suppression_silences_a_warn_rule_but_never_restart_policy() -> None:
    text = (
        MISSING_RESTART.replace(
            "labels: {team: %s}}",
            "annotations: {suppress.jobguard.dev/restart-policy: legacy vendor chart, "
            "suppress.jobguard.dev/ttl-after-finished: cleaned by our reaper}}",
        )
        % "ns"
    )
    result = lint_text(text, load_policy())
    assert pairs(result, "ttl-after-finished") == []  # warn in the default policy
    assert result.objects[0].suppressed == 1
    # restart-policy is never an object's to silence: still reported, and so is the annotation.
    assert pairs(result, "restart-policy") == [
        ("restart-policy", "spec.template.spec.restartPolicy")
    ]
    [ignored] = [
        lf.finding for lf in result.objects[0].findings if lf.finding.rule == "suppression"
    ]
    assert ignored.field == "metadata.annotations[suppress.jobguard.dev/restart-policy]"
    assert ignored.message == (
        "the suppression of 'restart-policy' is ignored: restart-policy can never be "
        "suppressed by the object itself; an exemption in the policy file can lift it"
    )


def test_a_deny_rule_is_suppressible_only_where_the_policy_lists_it(tmp_path: Path) -> None:
    text = (
        MISSING_RESTART.replace(
            "labels: {team: %s}}", "annotations: {suppress.jobguard.dev/backoff-limit: reviewed}}"
        )
        % "ns"
    )
    denies = write(tmp_path, "deny.yaml", "rules:\n  backoff-limit: {action: deny}\n")
    assert pairs(lint_text(text, load_policy([denies])), "backoff-limit") == [
        ("backoff-limit", "spec.backoffLimit")
    ]
    lets = write(
        tmp_path,
        "lets.yaml",
        "extends: [deny.yaml]\nsuppressions:\n  suppressible: [backoff-limit]\n",
    )
    assert pairs(lint_text(text, load_policy([lets])), "backoff-limit") == []


def test_a_rule_that_is_never_suppressible_cannot_be_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "suppressions:\n  suppressible: [manual-selector, nope]\n")
    assert problems([path]) == [
        f"{path}:4:18: suppressions.suppressible[0]: manual-selector can never be suppressed by "
        "the object itself; add an exemption instead",
        f"{path}:4:35: suppressions.suppressible[1]: unknown rule 'nope'",
    ]


def test_suppressions_can_be_switched_off_by_policy(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "suppressions:\n  allowed: false\n")
    text = (
        MISSING_RESTART.replace(
            "labels: {team: %s}}",
            "annotations: {suppress.jobguard.dev/ttl-after-finished: legacy}}",
        )
        % "ns"
    )
    assert pairs(lint_text(text, load_policy([path])), "ttl-after-finished") == [
        ("ttl-after-finished", "spec.ttlSecondsAfterFinished")
    ]


def test_an_extends_entry_naming_nothing_is_reported_where_it_is_written(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "extends: [jobguard:defualt, ../nope.yaml]\n")
    assert problems([path]) == [
        f"{path}:3:11: extends[0]: no bundled policy 'jobguard:defualt' (did you mean "
        "'jobguard:default'?); bundled: jobguard:default, jobguard:strict",
        f"{path}:3:29: extends[1]: no policy file '../nope.yaml' (relative paths are read "
        "beside this file)",
    ]
