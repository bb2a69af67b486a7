"""The verdict the webhook would give a stored Job or CronJob today, with the same findings.

A stored object went through the API server's defaulting, like the object an admission webhook
sees, so it is viewed as the webhook views one: a field holding exactly its API default counts as
unset unless kubectl's last-applied-configuration shows the user wrote it. The rules are the
validating webhook's (the ``api-*`` checks of what the API server rejects cannot fail on an
object it stored), with the policy's scope, exemptions and suppression annotations applied by
the engine as at admission.

A Job the CronJob controller created is attributed to its CronJob: its location names the
CronJob, and its deny-level findings are warnings, as the webhook lets a scheduled run through
(the template is judged, and fixed, on the CronJob). A Job made by hand from a CronJob
(``kubectl create job --from=cronjob/...``) is judged as any Job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from jobguard.core.context import Context
from jobguard.core.engine import evaluate
from jobguard.core.kubernetes.versions import Version
from jobguard.core.model import Action, Finding, Severity
from jobguard.core.view import JobView
from jobguard.lint.linter import LocatedFinding, ObjectResult
from jobguard.policy.model import Policy
from jobguard.rules import validating_rules
from jobguard.webhook.admission import admission_view

#: Set by the CronJob controller on the Jobs it schedules (Kubernetes 1.28 and later).
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: Set by ``kubectl create job --from=cronjob/...``.
MANUAL_ANNOTATION = "cronjob.kubernetes.io/instantiate"
CONTROLLER_MANAGER = "kube-controller-manager"

DENY, WARN, AUDIT, ALLOW = "deny", "warn", "audit", "allow"


def cronjob_owner(obj: Mapping[str, Any]) -> str | None:
    """The name of the CronJob that owns this Job, if one does."""
    metadata = obj.get("metadata")
    refs = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    for ref in refs if isinstance(refs, list) else []:
        if (
            isinstance(ref, dict)
            and ref.get("kind") == "CronJob"
            and isinstance(ref.get("name"), str)
        ):
            return str(ref["name"])
    return None


def _creator(metadata: Mapping[str, Any]) -> str | None:
    """The field manager that wrote the object's spec first (not a status writer)."""
    entries = metadata.get("managedFields")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and not entry.get("subresource"):
            manager = entry.get("manager")
            return manager if isinstance(manager, str) else None
    return None


def scheduled_by_cronjob(obj: Mapping[str, Any]) -> bool:
    """A Job the CronJob controller created on schedule (not one made by hand from it)."""
    if obj.get("kind") != "Job" or cronjob_owner(obj) is None:
        return False
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return False
    annotations = metadata.get("annotations")
    annotations = annotations if isinstance(annotations, dict) else {}
    if MANUAL_ANNOTATION in annotations:
        return False
    return SCHEDULED_ANNOTATION in annotations or _creator(metadata) == CONTROLLER_MANAGER


def location(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name``: what stands in for ``file:line`` in every output format."""
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    where = f"{obj.get('kind')}/{metadata.get('namespace') or '-'}/{metadata.get('name') or '-'}"
    if scheduled_by_cronjob(obj):
        where += f" (of CronJob {cronjob_owner(obj)})"
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


def stored_view(obj: dict[str, Any], version: Version) -> JobView | None:
    return admission_view(obj, version)


def judge(obj: dict[str, Any], policy: Policy, ctx: Context) -> Judgement | None:
    """The webhook's verdict on a stored object, or None for something not a Job or CronJob."""
    view = stored_view(obj, ctx.kubernetes_version)
    if view is None:
        return None
    report = evaluate(view, policy, ctx, rules=validating_rules())
    findings = report.findings
    if scheduled_by_cronjob(obj):
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
        file=location(obj),
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
