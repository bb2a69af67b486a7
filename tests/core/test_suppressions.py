"""Suppression annotations in the engine: what they may name comes with the rule set the caller
passes, and a rule that declares itself unsuppressible is never silenced by one."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType, SimpleNamespace
from typing import Any

from jobguard.core.engine import evaluate
from jobguard.core.model import Action, Category
from jobguard.core.rule import RuleSet
from jobguard.core.subject import Subject
from jobguard.core.suppressions import annotation_refusal, suppressions
from jobguard.core.view import JobView
from jobguard.export.build import admission_match
from jobguard.policy.model import Policy, RuleSettings, builtin_defaults
from jobguard.rules import REGISTRY, RULES_BY_NAME
from jobguard.rules.base import NoOptions, rule_from_module

PREFIX = "suppress.jobguard.dev/"
TYPO = "metadata.annotations[suppress.jobguard.dev/restart-polcy]"
TYPO_MESSAGE = (
    "suppression names unknown rule 'restart-polcy' (did you mean 'restart-policy'?); "
    "it silences nothing"
)


def job(annotations: dict[str, str]) -> JobView:
    view = JobView.of(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "x", "namespace": "n", "annotations": annotations},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "busybox:1.36"}],
                    }
                }
            },
        }
    )
    assert view is not None
    return view


def found(report: Any) -> list[tuple[str, str]]:
    return [(f.rule, f.field) for f in report.findings]


def test_annotations_are_read_by_rule_name() -> None:
    view = job({PREFIX + "backoff-limit": "why", "other.example/x": "y", PREFIX + "resources": ""})
    assert suppressions(view) == {"backoff-limit": "why", "resources": ""}


def test_the_known_names_are_the_registrys_even_when_one_rule_runs() -> None:
    view = job({PREFIX + "restart-policy": "reviewed", PREFIX + "restart-polcy": "typo"})
    report = evaluate(Subject.of(view), builtin_defaults(), rules=REGISTRY.named("suppression"))
    assert [(f.rule, f.field, f.message) for f in report.findings] == [
        ("suppression", TYPO, TYPO_MESSAGE)
    ]


def test_the_known_names_come_from_the_rule_set_not_from_the_engine() -> None:
    view = job({PREFIX + "restart-policy": "reviewed"})
    alone = RuleSet.of([RULES_BY_NAME["suppression"]])
    assert alone.known == frozenset({"suppression"})
    report = evaluate(Subject.of(view), builtin_defaults(), rules=alone)
    assert [f.message for f in report.findings] == [
        "suppression names unknown rule 'restart-policy'; it silences nothing"
    ]


def test_the_suppression_rule_cannot_be_suppressed_by_an_annotation() -> None:
    view = job({PREFIX + "suppression": "quiet please", PREFIX + "restart-polcy": "typo"})
    report = evaluate(Subject.of(view), builtin_defaults(), rules=REGISTRY.named("suppression"))
    # ... and says that annotation is ignored.
    assert found(report) == [
        ("suppression", TYPO),
        ("suppression", "metadata.annotations[suppress.jobguard.dev/suppression]"),
    ]
    assert report.suppressed == ()


def test_a_rule_declaring_itself_unsuppressible_is_not_silenced_whatever_its_name() -> None:
    """The engine reads the rule's declaration, not its name: an annotation naming a rule with
    ``suppressible=False`` silences nothing, the same rule suppressible is silenced."""
    backoff = RULES_BY_NAME["backoff-limit"]
    view = job({PREFIX + "backoff-limit": "reviewed"})
    policy = builtin_defaults()
    suppressible = evaluate(Subject.of(view), policy, rules=RuleSet((backoff,), REGISTRY.known))
    assert found(suppressible) == []
    assert [(f.rule, f.field) for f in suppressible.suppressed] == [
        ("backoff-limit", "spec.backoffLimit")
    ]
    pinned = RuleSet((replace(backoff, suppressible=False),), REGISTRY.known)
    report = evaluate(Subject.of(view), policy, rules=pinned)
    assert found(report) == [("backoff-limit", "spec.backoffLimit")]
    assert report.suppressed == ()


def test_a_failing_unsuppressible_rule_is_an_internal_error_the_annotation_may_lift() -> None:
    """``internal-error`` is judged by its own name (and on_rule_error), as before."""

    def crash(*args: Any) -> Any:
        raise RuntimeError("crafted to crash")

    crashing = replace(RULES_BY_NAME["suppression"], check=crash)
    view = job({PREFIX + "internal-error": "known bug"})
    report = evaluate(
        Subject.of(view), builtin_defaults(), rules=RuleSet((crashing,), REGISTRY.known)
    )
    assert found(report) == []
    assert [f.rule for f in report.suppressed] == ["internal-error"]


def test_rule_modules_declare_suppressible() -> None:
    module = SimpleNamespace(
        CODE="JG999",
        NAME="example",
        CATEGORY=Category.POLICY,
        SUMMARY="s",
        REMEDIATION="r",
        check=lambda view, options, ctx: (),
        __doc__="example: a rule",
    )
    assert rule_from_module(module).suppressible is True
    module.SUPPRESSIBLE = False
    assert rule_from_module(module).suppressible is False
    # Never an object's to silence: the check of its suppressions, the two rules that keep
    # Jobs working and their pods owned, and everything the API server rejects.
    never = {r.name for r in REGISTRY.rules if not r.suppressible}
    api = {r.name for r in REGISTRY.rules if r.category is Category.API}
    assert never == {"suppression", "restart-policy", "manual-selector"} | api


def _refusal(name: str, action: Action, **policy: Any) -> str | None:
    settings: dict[str, Any] = {"allowed": True, "forbidden": (), "suppressible": ()}
    return annotation_refusal(RULES_BY_NAME[name], action, **{**settings, **policy})


def test_an_annotation_needs_the_policys_permission() -> None:
    assert _refusal("backoff-limit", Action.WARN) is None
    assert _refusal("backoff-limit", Action.AUDIT) is None
    # A deny rule: only where the policy lists it.
    assert _refusal("backoff-limit", Action.DENY) == (
        "it denies, and an object may suppress a deny rule only where the policy lists it in "
        "suppressions.suppressible; an exemption in the policy file can lift it"
    )
    assert _refusal("backoff-limit", Action.DENY, suppressible={"backoff-limit"}) is None
    # forbid wins over suppressible; allowed: false ignores every annotation.
    assert _refusal(
        "backoff-limit", Action.WARN, forbidden={"backoff-limit"}, suppressible={"backoff-limit"}
    ) == ("the policy forbids suppressing it (suppressions.forbid)")
    assert _refusal("backoff-limit", Action.WARN, allowed=False) == (
        "the policy honours no suppression annotation (suppressions.allowed: false)"
    )
    # Never, whatever the policy lists.
    for name in ("restart-policy", "manual-selector", "api-selector", "suppression"):
        assert _refusal(name, Action.WARN, suppressible={name}) == (
            f"{name} can never be suppressed by the object itself; an exemption in the policy "
            "file can lift it"
        )


def test_the_export_leaves_the_suppression_condition_out_where_the_engine_does() -> None:
    policy = Policy(
        rules=MappingProxyType(
            {
                name: RuleSettings(Action.WARN, NoOptions())
                for name in ("suppression", "restart-policy", "backoff-limit")
            }
        ),
        unsuppressible=frozenset({"backoff-limit"}),
    )

    def conditions(name: str) -> list[str]:
        rule = RULES_BY_NAME[name]
        return [c["name"] for c in admission_match(policy, rule, policy.settings(rule)).conditions]

    assert "not-suppressed" not in conditions("backoff-limit")  # forbidden
    assert "not-suppressed" not in conditions("restart-policy")  # never
    assert "not-suppressed" not in conditions("suppression")
    warn = replace(policy, unsuppressible=frozenset())
    backoff = RULES_BY_NAME["backoff-limit"]
    assert "not-suppressed" in [
        c["name"] for c in admission_match(warn, backoff, warn.settings(backoff)).conditions
    ]
    # A deny rule only with the policy's permission.
    deny = replace(
        warn, rules=MappingProxyType({"backoff-limit": RuleSettings(Action.DENY, NoOptions())})
    )
    matched = admission_match(deny, backoff, deny.settings(backoff)).conditions
    assert "not-suppressed" not in [c["name"] for c in matched]
    allowed = replace(deny, suppressible=frozenset({"backoff-limit"}))
    matched = admission_match(allowed, backoff, allowed.settings(backoff)).conditions
    assert "not-suppressed" in [c["name"] for c in matched]


def test_rule_sets_keep_their_known_names_when_narrowed() -> None:
    narrowed = REGISTRY.where(lambda r: r.category is Category.API).named("api-structure")
    assert [r.name for r in narrowed.rules] == ["api-structure"]
    assert narrowed.known == frozenset(r.name for r in REGISTRY.rules)
