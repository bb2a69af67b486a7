"""The verdict the webhook would give a stored Job or CronJob today, with the same findings.

A stored object went through the API server's defaulting, like the object an admission webhook
sees, so it is viewed as the webhook views one: a field holding exactly its API default counts as
unset unless the user's manifest shows it (kubectl's last-applied-configuration, or a
server-side apply's managedFields entry owning the field). The rules are the
validating webhook's (the ``api-*`` checks of what the API server rejects cannot fail on an
object it stored), with the policy's scope, exemptions and suppression annotations applied by
the engine as at admission.

A CronJob's scheduled run is attributed to its CronJob: its location names the CronJob, and its
deny-level findings are warnings, as the webhook lets a scheduled run through (the template is
judged, and fixed, on the CronJob). A stored Job is a scheduled run only when the CronJob its
controlling ownerReference names exists, by uid, in the same audit's listing
(:attr:`jobguard.core.subject.Subject.scheduled_run`): a Job whose owner is made up, or gone, is
judged as any Job, and so is one made by hand from a CronJob (``kubectl create job
--from=cronjob/...``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jobguard.core.engine import evaluate
from jobguard.core.model import Action, Finding, Severity
from jobguard.core.subject import Subject
from jobguard.lint.linter import LocatedFinding, ObjectResult
from jobguard.policy.model import Policy
from jobguard.rules import validating_rules

DENY, WARN, AUDIT, ALLOW = "deny", "warn", "audit", "allow"


def location(subject: Subject) -> str:
    """``Kind/namespace/name``: what stands in for ``file:line`` in every output format."""
    view = subject.view
    where = f"{view.kind}/{view.namespace or '-'}/{view.name or '-'}"
    owner = subject.cronjob_owner
    if owner is not None:
        where += f" (of CronJob {owner})"
    return where


def _as_scheduled_run(finding: Finding) -> Finding:
    if finding.action is not Action.DENY:
        return finding
    return replace(finding, action=Action.WARN, severity=Severity.WARNING)


def verdict(findings: tuple[Finding, ...]) -> str:
    """What the webhook would answer: deny, warn (allowed with warnings), audit (allowed and
    logged) or allow."""
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return DENY
    if Severity.WARNING in severities:
        return WARN
    return AUDIT if severities else ALLOW


@dataclass(frozen=True)
class Judgement:
    result: ObjectResult
    verdict: str
    rules_run: tuple[str, ...]  # the rules that judged it (for PolicyReport pass results)
    exempted: tuple[Finding, ...] = ()


def judge(subject: Subject, policy: Policy) -> Judgement:
    """The webhook's verdict on a stored object."""
    view = subject.view
    report = evaluate(subject, policy, rules=validating_rules())
    findings = report.findings
    if subject.scheduled_run:
        findings = tuple(_as_scheduled_run(f) for f in findings)
    exempted = tuple(
        f
        for f in report.suppressed
        if policy.exemption(f.rule, view.kind, view.namespace, view.name)
    )
    in_scope = policy.in_scope(view.namespace, view.labels)
    rules_run = (
        tuple(
            rule.name
            for rule, settings in policy.active_rules(
                policy.extend(validating_rules()).rules, view.kind
            )
            if settings.in_scope(view.namespace, view.labels)
        )
        if in_scope
        else ()
    )
    result = ObjectResult(
        file=location(subject),
        document=0,
        kind=view.kind,
        name=view.name,
        namespace=view.namespace,
        line=0,
        findings=tuple(LocatedFinding(f, 0, 0) for f in findings),
        suppressed=len(report.suppressed) - len(exempted),
        exempted=len(exempted),
    )
    return Judgement(result, verdict(findings), rules_run, exempted)
