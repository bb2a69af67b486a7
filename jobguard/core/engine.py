"""engine.evaluate(subject, policy, rules=...) -> Report: every front end goes through here.

The caller says which rules run (a :class:`jobguard.core.rule.RuleSet` chosen from the registry in
:mod:`jobguard.rules`); the engine knows no rule by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jobguard.core.fixplan import FixPlan, plan_fixes
from jobguard.core.kubernetes.defaults import restates_defaults
from jobguard.core.model import Action, Category, Edit, Finding, Severity
from jobguard.core.patching import PatchConflict, patch_for
from jobguard.core.paths import FieldPath
from jobguard.core.rule import Rule, RuleSet
from jobguard.core.subject import NONE_REFUSED, Subject
from jobguard.core.suppressions import suppressions
from jobguard.core.view import JobView

if TYPE_CHECKING:
    from jobguard.policy.model import Policy, RuleSettings

#: Least to most severe: a restated default is lowered to info, never raised.
_SEVERITY_ORDER = (Severity.INFO, Severity.WARNING, Severity.ERROR)
INTERNAL_ERROR_RULE = "internal-error"


@dataclass(frozen=True)
class Report:
    """All findings for one object, in rule-registry order.

    ``in_scope`` is False for an object outside the policy's scope: only what the API server
    rejects was judged (see ``applies``).
    """

    view: JobView
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()
    in_scope: bool = True
    #: Rules the object's own suppression annotations name (with a reason) but may not
    #: silence, and why (:func:`jobguard.core.suppressions.annotation_refusal`).
    refused_suppressions: Mapping[str, str] = field(default_factory=lambda: NONE_REFUSED)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def safe_edits(self) -> list[Edit]:
        """The edits ``lint --fix`` writes for this object (:mod:`jobguard.core.fixplan`)."""
        return list(self._manifest_plan().edits)

    def fixed(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The object with the fixes jobguard applies, and the one JSON Patch that does it
        (the plan of :func:`jobguard.core.fixplan.plan_fixes` for a manifest)."""
        plan = self._manifest_plan()
        return plan.obj, plan.patch

    def _manifest_plan(self) -> FixPlan:
        return plan_fixes(self, Subject.of(self.view))


def _run_rule(
    rule: Rule,
    subject: Subject,
    options: Any,
    action: Action,
    patches: bool = True,
    on_error: Action = Action.WARN,
    restated_as_info: bool = False,
) -> Iterable[Finding]:
    try:
        violations = list(rule.check(subject.view, options, subject))
    except RecursionError:
        raise  # the object is nested too deeply to judge: the input's problem, not the rule's
    except Exception as exc:  # a rule bug must never take the webhook or the lint run down
        # The policy's ``on_rule_error`` decides: deny (an object crafted to crash a deny rule
        # must not slip past it) or warn.
        yield Finding(
            rule=INTERNAL_ERROR_RULE,
            code="JG000",
            category=Category.POLICY,
            severity=on_error.severity,
            action=on_error,
            path=(),
            message=bounded(
                f"rule {rule.name} failed on this object ({type(exc).__name__}: {exc}); "
                "please report it"
            ),
            failed_rule=rule.name,
        )
        return
    view = subject.view
    for v in violations:
        severity = action.severity
        if (
            restated_as_info
            and v.fix is not None
            and v.fix.safe
            and restates_defaults(
                v.fix.edits, view.spec_prefix, view.job_spec, view.kubernetes_version
            )
        ):
            severity = min(severity, Severity.INFO, key=_SEVERITY_ORDER.index)
        patch: tuple[dict[str, Any], ...] = ()
        if v.fix is not None and patches:
            try:
                patch = tuple(patch_for(view.obj, v.fix.edits))
            except PatchConflict:
                patch = ()
        yield Finding(
            rule=rule.name,
            code=rule.code,
            category=rule.category,
            severity=severity,
            action=action,
            path=v.path,
            message=bounded(v.message),
            fix=v.fix if patch or not patches else None,
            patch=patch,
        )


#: The longest message a finding carries. A message quotes the value it judges, as the API
#: server's field errors do, and a hostile or broken manifest's value can be megabytes (a
#: 600 kB schedule gave a 1.2 MB line in lint's output, and the same again in a denial).
MAX_MESSAGE_CHARS = 1000
_KEPT_TAIL = 200  # the end often holds the detail after the quoted value


def bounded(message: str) -> str:
    """``message``, or its start and end around a note of how much was left out."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    head, tail = message[: MAX_MESSAGE_CHARS - _KEPT_TAIL], message[-_KEPT_TAIL:]
    left_out = len(message) - MAX_MESSAGE_CHARS
    return f"{head}… [{left_out:,} characters left out] …{tail}"


def _merge_subsumed(
    findings: list[Finding],
    covered: set[tuple[str, FieldPath]],
    subsumers: set[tuple[str, FieldPath]],
) -> list[Finding]:
    """Drop the findings another rule's denial subsumes; the subsuming finding, which carries the
    fix, takes over their category, so ``category: api`` keeps meaning "the API server would
    reject this" (a missing restartPolicy is one finding, the policy's, and an api one), and
    their names (``merged``), so that selecting either rule shows it."""
    dropped = [f for f in findings if (f.rule, f.path) in covered]
    if not dropped:
        return findings
    api_paths = {f.path for f in dropped if f.category is Category.API}
    kept = []
    for f in findings:
        if (f.rule, f.path) in covered:
            continue
        if (f.rule, f.path) in subsumers:
            merged = tuple(d.rule for d in dropped if d.path == f.path and d.rule != f.rule)
            category = Category.API if f.path in api_paths else f.category
            f = replace(f, category=category, merged=merged)
        kept.append(f)
    return kept


def _annotation_silences(finding: Finding, refused: Mapping[str, str], policy: Policy) -> bool:
    """Whether a suppression annotation naming ``finding``'s rule (with a reason) silences it."""
    if finding.rule == INTERNAL_ERROR_RULE:  # the rule that failed is not the one named
        # the object must not be able to lift its own fail-closed denial
        return (
            policy.suppressions_allowed
            and not policy.deny_on_rule_error
            and INTERNAL_ERROR_RULE not in policy.unsuppressible
        )
    return finding.rule not in refused


def _refusals(
    annotated: Mapping[str, str], active: tuple[tuple[Rule, RuleSettings], ...], policy: Policy
) -> dict[str, str]:
    """rule name -> why its annotation is ignored, for each rule the annotations name that
    runs here and that the object may not silence."""
    refused = {}
    for rule, settings in active:
        if rule.name in annotated:
            why = policy.annotation_refusal(rule, settings.action)
            if why is not None:
                refused[rule.name] = why
    return refused


def applies(rule: Rule, settings: RuleSettings, policy_in_scope: bool, view: JobView) -> bool:
    """Whether ``rule`` judges this object: scope decides for policy rules only.

    What the API server itself rejects (the rules it enforces, ``checked_by_apiserver``) is
    reported wherever the object lives, since that object cannot be created anywhere; the
    policy's scope (its own and each rule's) decides which policy rules apply.

    The admission webhooks never run those rules (the API server validates before /validate
    and after /mutate), so in the webhook an object outside the policy's scope stays unjudged:
    no latency and no finding for objects the policy does not govern.
    """
    if rule.checked_by_apiserver:
        return True
    return policy_in_scope and settings.in_scope(view.namespace, view.labels)


def evaluate(
    subject: Subject,
    policy: Policy,
    *,
    rules: RuleSet,
    file: str | None = None,
    patches: bool = True,
) -> Report:
    """Run every rule of ``rules`` the policy enables for ``subject`` and apply suppressions.

    Findings of rules the policy exempts the object from go to ``suppressed`` like annotation
    suppressions; ``file`` (the manifest's path, lint only) lets file-glob exemptions match.
    ``patches=False`` skips building each fix's JSON Patch (a verdict needs none); fixes that
    would conflict with the object are then kept rather than dropped.
    """
    view = subject.view
    rules = policy.extend(rules)  # the policy's custom rules join the selection
    in_scope = policy.in_scope(view.namespace, view.labels)
    on_error = Action.DENY if policy.deny_on_rule_error else Action.WARN
    annotated = suppressions(view)
    active = policy.active_rules(rules.rules, view.kind)
    refused: Mapping[str, str] = {}
    if annotated:  # set only where there are annotations to check (most objects carry none)
        refused = _refusals(annotated, active, policy)
        subject = replace(subject, known_rules=rules.known, refused_suppressions=refused)
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    covered: set[tuple[str, FieldPath]] = set()
    subsumers: set[tuple[str, FieldPath]] = set()
    for rule, settings in active:
        if not applies(rule, settings, in_scope, view):
            continue
        for finding in _run_rule(
            rule,
            subject,
            settings.options,
            settings.action,
            patches,
            on_error,
            policy.restated_defaults_as_info,
        ):
            reason = annotated.get(finding.rule, "").strip() if annotated else ""
            if (reason and _annotation_silences(finding, refused, policy)) or (
                policy.exemptions
                and policy.exemption(finding.rule, view.kind, view.namespace, view.name, file)
            ):
                suppressed.append(finding)
            else:
                findings.append(finding)
                if rule.subsumes and finding.action is Action.DENY:
                    covered.update((name, finding.path) for name in rule.subsumes)
                    subsumers.add((finding.rule, finding.path))
    if covered:
        findings = _merge_subsumed(findings, covered, subsumers)
    if not refused:
        return Report(view, tuple(findings), tuple(suppressed), in_scope)
    reasoned = {name: why for name, why in refused.items() if annotated[name].strip()}
    return Report(view, tuple(findings), tuple(suppressed), in_scope, MappingProxyType(reasoned))
