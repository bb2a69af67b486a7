"""The policy as native admission objects: per rule one ValidatingAdmissionPolicy and binding,
and for the rules whose safe fixes /mutate applies one MutatingAdmissionPolicy and binding.

One policy per rule, not per action: a rule's exemptions and its suppression annotation decide
whether the rule runs at all, which is what a policy's ``matchConditions`` express, and each
rule's binding carries exactly its action (``validationActions``) and scope (``matchResources``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jobguard.cel.custom_rule import CustomRule
from jobguard.core.kubernetes.versions import Version, show
from jobguard.core.model import Action
from jobguard.core.rule import Rule
from jobguard.core.suppressions import SUPPRESS_PREFIX
from jobguard.export.cel import bind
from jobguard.export.custom import validating_policy
from jobguard.policy.model import Exemption, Policy, RuleSettings, Scope
from jobguard.rules import REGISTRY, TRANSLATIONS, fixing_rules, validating_rules
from jobguard.rules._cel import (
    CelCheck,
    CelContext,
    CelDefault,
    Translation,
    is_glob,
    lit,
    matches_any,
    present,
    scheduled_run,
)

GROUP = "admissionregistration.k8s.io"
VALIDATING_SINCE: Version = (1, 30)  # ValidatingAdmissionPolicy v1 (GA)
MUTATING_BETA_SINCE: Version = (1, 34)  # MutatingAdmissionPolicy v1beta1, on by default
MUTATING_V1_SINCE: Version = (1, 36)
NAME_LABEL = "kubernetes.io/metadata.name"  # every namespace carries its own name as this label
ACTIONS = {Action.DENY: "Deny", Action.WARN: "Warn", Action.AUDIT: "Audit"}
RESOURCES = {"Job": "jobs", "CronJob": "cronjobs"}


class ExportError(ValueError):
    """The policy cannot be exported for the requested Kubernetes version."""


@dataclass(frozen=True)
class RuleExport:
    """What became of one rule: its translation (empty when the rule is off)."""

    rule: Rule
    settings: RuleSettings
    translation: Translation
    validates: bool  # /validate runs it (the api-* checks the API server makes are not exported)
    mutates: bool  # MutatingAdmissionPolicy objects carry its safe fixes
    custom: CustomRule | None = None  # a custom rule: its expressions go out unchanged

    @property
    def off(self) -> bool:
        return self.settings.action is Action.OFF


@dataclass(frozen=True)
class Export:
    version: Version
    rules: tuple[RuleExport, ...]
    objects: tuple[dict[str, Any], ...]
    admission_gaps: tuple[str, ...]  # policy-wide behaviour of the webhook not exported

    @property
    def needs_webhook(self) -> tuple[str, ...]:
        """Rules (on) with anything left to the webhook."""
        return tuple(r.rule.name for r in self.rules if not r.off and r.translation.gaps)


def mutating_api_version(version: Version) -> str | None:
    if version >= MUTATING_V1_SINCE:
        return f"{GROUP}/v1"
    if version >= MUTATING_BETA_SINCE:
        return f"{GROUP}/v1beta1"
    return None


# -- scope, exemptions, suppressions -----------------------------------------------------------


@dataclass
class Match:
    """Binding ``matchResources`` selectors and the policy ``matchConditions`` of one rule."""

    namespace_requirements: list[dict[str, Any]]
    object_requirements: list[dict[str, Any]]
    conditions: list[dict[str, str]]

    def resources(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.namespace_requirements:
            out["namespaceSelector"] = {"matchExpressions": self.namespace_requirements}
        if self.object_requirements:
            out["objectSelector"] = {"matchExpressions": self.object_requirements}
        return out


def _scope_into(match: Match, scope: Scope, label: str) -> None:
    """Namespace names go into the namespaceSelector (on the namespace's own name label); globs,
    which label selectors cannot express, into matchConditions on the request's namespace."""
    include = tuple(scope.include)
    if "*" not in include:
        if any(is_glob(p) for p in include):
            expr = matches_any("request.namespace", include)
            match.conditions.append({"name": f"{label}-namespace-included", "expression": expr})
        else:
            match.namespace_requirements.append(
                {"key": NAME_LABEL, "operator": "In", "values": sorted(set(include))}
            )
    names = sorted({p for p in scope.exclude if not is_glob(p)})
    globs = [p for p in scope.exclude if is_glob(p)]
    if names:
        match.namespace_requirements.append(
            {"key": NAME_LABEL, "operator": "NotIn", "values": names}
        )
    if globs:
        expr = f"!{matches_any('request.namespace', globs)}"
        match.conditions.append({"name": f"{label}-namespace-not-excluded", "expression": expr})
    for key, value in sorted(scope.match_labels.items()):
        match.object_requirements.append({"key": key, "operator": "In", "values": [value]})
    for req in scope.match_expressions:
        item: dict[str, Any] = {"key": req.key, "operator": req.operator}
        if req.values:
            item["values"] = list(req.values)
        match.object_requirements.append(item)


def suppression_condition(rule: str) -> str:
    key = lit(SUPPRESS_PREFIX + rule)
    return (
        f"!has(object.metadata.annotations) || !({key} in object.metadata.annotations) || "
        f"object.metadata.annotations[{key}].trim() == ''"
    )


def exemption_condition(exemption: Exemption) -> str:
    parts = []
    if exemption.kinds:
        parts.append(f"object.kind in {lit(sorted(exemption.kinds))}")
    if exemption.namespaces:
        parts.append(matches_any("request.namespace", exemption.namespaces))
    if exemption.names:
        name = "object.metadata.name"
        parts.append(f"({present(name)} && {matches_any(name, exemption.names)})")
    return "!(" + (" && ".join(parts) if parts else "true") + ")"


def admission_match(policy: Policy, rule: Rule, settings: RuleSettings) -> Match:
    """Where the webhook would judge this rule: the policy's and the rule's scopes, minus
    exemptions and (where the policy honours them) the rule's suppression annotation."""
    match = Match([], [], [])
    _scope_into(match, policy.scope, "policy")
    _scope_into(match, settings.scope, "rule")
    # Only what the engine lets an annotation silence (exceptions need permission: by default
    # no deny rule, never the rules that declare themselves unsuppressible).
    if policy.annotation_refusal(rule, settings.action) is None:
        match.conditions.append(
            {"name": "not-suppressed", "expression": suppression_condition(rule.name)}
        )
    applicable = [
        e
        for e in policy.exemptions
        if ("*" in e.rules or rule.name in e.rules) and not e.files  # files: lint only
    ]
    for index, exemption in enumerate(applicable):
        match.conditions.append(
            {"name": f"not-exempt-{index}", "expression": exemption_condition(exemption)}
        )
    return match


def not_a_scheduled_run(policy: Policy) -> str:
    """The matchCondition that lets a CronJob's scheduled run through a deny policy, as the
    webhook warns about it instead of denying it (the same test the rules' CEL skips it by)."""
    return "!" + bind(scheduled_run(tuple(policy.cronjob_controllers)), "Job")


# -- objects -----------------------------------------------------------------------------------


def _kinds(checks: Iterable[CelCheck | CelDefault]) -> list[str]:
    return sorted({c.kind for c in checks}, key=lambda k: RESOURCES[k])


def _metadata(name: str, rule: str, action: Action, gaps: Sequence[str], needs: str) -> Any:
    annotations = {"jobguard.dev/rule": rule, "jobguard.dev/action": action.value}
    if gaps:
        annotations["jobguard.dev/webhook-only"] = "; ".join(gaps)
    if needs:
        annotations["jobguard.dev/rules-needing-webhook"] = needs
    return {
        "name": name,
        "labels": {"app.kubernetes.io/managed-by": "jobguard", "jobguard.dev/rule": rule},
        "annotations": annotations,
    }


def validation(rule: str, check: CelCheck, action: Action) -> dict[str, Any]:
    kind = check.kind
    violated = bind(check.violated, kind)
    expression = f"object.kind != {lit(kind)} || !({violated})"
    if action is Action.DENY:
        # /validate lets an UPDATE through when the old object already had the violation with
        # the same value there (ratcheting by value, Subject.forgiven).
        old = bind(check.violated, kind, "oldObject")
        expression += (
            f" || (request.operation == 'UPDATE' && oldObject != null && "
            f"oldObject.kind == {lit(kind)} && ({old}) && {unchanged(check.path)})"
        )
    head = f"[{rule}] {check.path}: "
    detail = bind(check.detail, kind) if check.detail else lit(check.text)
    return {
        "expression": expression,
        "message": head + check.text,
        "messageExpression": f"{lit(head)} + {detail}",
        "reason": "Forbidden",
    }


def unchanged(path: str) -> str:
    """The value at a finding's ``path`` is the old object's (both absent counts as the same).
    A path through a list or a map key (``[*]``, ``[key]``) compares the whole value before it:
    stricter than the webhook, never more forgiving."""
    base = path.split("[", 1)[0]
    new, old = f"object.{base}", f"oldObject.{base}"
    return f"({present(new)} ? ({present(old)} && {old} == {new}) : !{present(old)})"


def mutation(kind: str, defaults: Sequence[CelDefault]) -> dict[str, Any]:
    """One JSONPatch per Job form: every default judged on the same incoming object, as
    /mutate computes all its fixes from the object it received."""
    parts = []
    for d in defaults:
        parent = ".".join(["object", *d.pointer.strip("/").split("/")[:-1]])
        cond = bind(d.when, kind)
        value = bind(d.value, kind)
        patch = f"JSONPatch{{op: 'add', path: {lit(d.pointer)}, value: {value}}}"
        parts.append(f"({present(parent)} && {cond} ? [{patch}] : [])")
    body = " + ".join(parts)
    return {
        "patchType": "JSONPatch",
        "jsonPatch": {"expression": f"object.kind != {lit(kind)} ? [] : {body}"},
    }


def _resource_rules(kinds: Sequence[str], operations: dict[str, list[str]]) -> list[Any]:
    return [
        {
            "apiGroups": ["batch"],
            "apiVersions": ["v1"],
            "operations": operations[kind],
            "resources": [RESOURCES[kind]],
        }
        for kind in kinds
    ]


def validating_objects(
    item: RuleExport, match: Match, conditions: list[dict[str, str]], needs: str
) -> list[dict[str, Any]]:
    rule, action = item.rule.name, item.settings.action
    checks = item.translation.checks
    name = f"jobguard-{rule}"
    both = {"Job": ["CREATE", "UPDATE"], "CronJob": ["CREATE", "UPDATE"]}
    spec: dict[str, Any] = {
        # A deny rule that cannot be evaluated blocks, as the webhook's fail-closed setting;
        # a warning or an audit note must never block a request.
        "failurePolicy": "Fail" if action is Action.DENY else "Ignore",
        "matchConstraints": {
            "matchPolicy": "Equivalent",
            "resourceRules": _resource_rules(_kinds(checks), both),
        },
        "validations": [validation(rule, c, action) for c in checks],
    }
    if conditions:
        spec["matchConditions"] = conditions
    policy = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": _metadata(name, rule, action, item.translation.gaps, needs),
        "spec": spec,
    }
    binding_spec: dict[str, Any] = {"policyName": name, "validationActions": [ACTIONS[action]]}
    if match.resources():
        binding_spec["matchResources"] = match.resources()
    binding = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": _metadata(name, rule, action, (), ""),
        "spec": binding_spec,
    }
    return [policy, binding]


def mutating_objects(
    item: RuleExport, match: Match, api_version: str, needs: str
) -> list[dict[str, Any]]:
    rule, action = item.rule.name, item.settings.action
    defaults = item.translation.defaults
    name = f"jobguard-{rule}-defaults"
    kinds = _kinds(defaults)
    # A Job's spec is mostly immutable once created; a CronJob's job template is not, so a
    # CronJob update that drops a field gets the default back, as on create.
    operations = {"Job": ["CREATE"], "CronJob": ["CREATE", "UPDATE"]}
    spec: dict[str, Any] = {
        # A default not written is not a safety problem: the validation (or the API server)
        # still judges the object. Never block a request over a default.
        "failurePolicy": "Ignore",
        # Each mutation only writes where the field is still missing or the API default, so a
        # second run changes nothing; IfNeeded re-applies a default a later mutator removed.
        "reinvocationPolicy": "IfNeeded",
        "matchConstraints": {
            "matchPolicy": "Equivalent",
            "resourceRules": _resource_rules(kinds, operations),
        },
        "mutations": [mutation(k, [d for d in defaults if d.kind == k]) for k in kinds],
    }
    if match.conditions:
        spec["matchConditions"] = match.conditions
    policy = {
        "apiVersion": api_version,
        "kind": "MutatingAdmissionPolicy",
        "metadata": _metadata(name, rule, action, (), needs),
        "spec": spec,
    }
    binding_spec: dict[str, Any] = {"policyName": name}
    if match.resources():
        binding_spec["matchResources"] = match.resources()
    binding = {
        "apiVersion": api_version,
        "kind": "MutatingAdmissionPolicyBinding",
        "metadata": _metadata(name, rule, action, (), ""),
        "spec": binding_spec,
    }
    return [policy, binding]


# -- the export --------------------------------------------------------------------------------


def translate(policy: Policy, version: Version) -> tuple[RuleExport, ...]:
    validating = {r.name for r in validating_rules().rules}
    fixing = {r.name for r in fixing_rules().rules}
    ctx = CelContext(
        version=version,
        known_rules=tuple(sorted(REGISTRY.known)),
        unsuppressible=tuple(
            sorted(
                r.name
                for r in validating_rules().rules
                if policy.settings(r).action is not Action.OFF
                and policy.annotation_refusal(r, policy.settings(r).action) is not None
            )
        ),
        controllers=tuple(sorted(policy.cronjob_controllers)),
    )
    out = []
    for rule in REGISTRY.rules:
        if rule.name not in validating:
            continue  # the API server's own checks: it makes them before any admission policy
        settings = policy.settings(rule)
        translate_rule = TRANSLATIONS.get(rule.name)
        if settings.action is Action.OFF:
            translation = Translation()
        elif translate_rule is None:
            translation = Translation(gaps=("the whole rule: no native translation",))
        else:
            translation = translate_rule(settings.options, ctx)
        mutates = (
            rule.name in fixing
            and settings.action in (Action.DENY, Action.WARN)  # audit only observes
            and bool(translation.defaults)
            and mutating_api_version(version) is not None
        )
        out.append(RuleExport(rule, settings, translation, rule.name in validating, mutates))
    by_name = {c.name: c for c in policy.custom}
    for rule in policy.custom_rules:
        settings = policy.settings(rule)
        out.append(RuleExport(rule, settings, Translation(), True, False, by_name[rule.name]))
    return tuple(out)


def custom_objects(policy: Policy, item: RuleExport, needs: str) -> list[dict[str, Any]]:
    """A custom rule's policy and binding: matched where the webhook would run it."""
    assert item.custom is not None
    rule, action = item.rule.name, item.settings.action
    match = admission_match(policy, item.rule, item.settings)
    conditions = list(match.conditions)
    if action is Action.DENY:
        conditions.append(
            {"name": "not-a-scheduled-run", "expression": not_a_scheduled_run(policy)}
        )
    name = f"jobguard-{rule}"
    policy_object = validating_policy(
        item.custom, action, name, conditions, _metadata(name, rule, action, (), needs)
    )
    binding_spec: dict[str, Any] = {"policyName": name, "validationActions": [ACTIONS[action]]}
    if match.resources():
        binding_spec["matchResources"] = match.resources()
    binding = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": _metadata(name, rule, action, (), ""),
        "spec": binding_spec,
    }
    return [policy_object, binding]


ADMISSION_GAPS = (
    "a Job the CronJob controller creates: /validate turns its denials into warnings; the "
    "native deny policies skip it, so it gets no warning either",
    "an UPDATE that keeps a violation the old object already had (the same value at the same "
    "path): /validate warns; the native deny policy lets it through without a warning",
    "a value a server-side apply wrote (managedFields, operation Apply): /mutate keeps it as "
    "the user's; the native mutations read only the object, so they replace an explicit API "
    "default (backoffLimit: 6) with the policy's default as if it were unset",
)


def export_policy(policy: Policy, version: Version) -> Export:
    if version < VALIDATING_SINCE:
        raise ExportError(
            f"ValidatingAdmissionPolicy v1 needs Kubernetes {show(VALIDATING_SINCE)} or later; "
            f"{show(version)} was given"
        )
    rules = translate(policy, version)
    needs = ", ".join(
        r.rule.name for r in rules if not r.off and r.translation.gaps and not r.translation.checks
    )
    api_version = mutating_api_version(version)
    objects: list[dict[str, Any]] = []
    for item in rules:
        if item.custom is not None and not item.off:
            objects += custom_objects(policy, item, needs)
            continue
        if item.off or not item.translation.checks:
            continue
        match = admission_match(policy, item.rule, item.settings)
        conditions = list(match.conditions)
        if item.settings.action is Action.DENY:
            conditions.append(
                {"name": "not-a-scheduled-run", "expression": not_a_scheduled_run(policy)}
            )
        objects += validating_objects(item, match, conditions, needs)
        if item.mutates and api_version is not None:
            objects += mutating_objects(item, match, api_version, needs)
    gaps = list(ADMISSION_GAPS)
    if api_version is None:
        gaps.append(
            f"every default /mutate writes: MutatingAdmissionPolicy needs Kubernetes "
            f"{show(MUTATING_BETA_SINCE)} or later"
        )
    elif any(r.mutates for r in rules):
        gaps.append(
            "kubectl's last-applied-configuration: /mutate keeps a value the user wrote that "
            "equals the API default (backoffLimit: 6, parallelism: 1); the native defaults "
            "treat it as unset, as /mutate does without that annotation"
        )
    return Export(version, rules, tuple(objects), tuple(gaps))
