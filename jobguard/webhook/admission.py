"""What the two webhooks decide, as pure functions of a parsed review and a policy (no Flask).

Guard clauses run first, in a fixed order, each with the reason it lets a request through
unjudged. Then:

* mutate: evaluate the API-defaulted object with the rules that may fix and answer with the
  fixes of :func:`jobguard.core.fixplan.plan_fixes` (the plan ``lint --fix`` writes) as one JSON
  Patch, one warning per change. On CREATE that is every safe fix of a deny- or warn-level
  finding (audit-level findings are never fixed). On UPDATE the plan knows the old object: a
  finding the existing object already had is left alone, a CronJob may be fixed anywhere (its
  spec has no immutable field), a Job only at the fields an existing Job may change, and an
  immutable field the update set back to a value the policy rejects (the pod template's
  ``restartPolicy`` after ``kubectl replace``) gets its stored value back. The patch never makes
  the API server reject the update as an immutable change (docs/webhook.md has the table).
* validate: evaluate the object exactly as ``jobguard lint`` evaluates a file (that is what makes
  the CLI and the cluster agree); deny-level findings deny with 403 naming each rule and field,
  warn-level ones become warnings, audit-level ones are only logged and counted. On UPDATE a
  violation already present in ``oldObject`` (same rule, same path, same value there: ratcheting
  by value, :meth:`jobguard.core.subject.Subject.forgiven`) does not block: it is shown as a
  warning, so a legacy Job still takes a label or finalizer change, while a changed violating
  value is denied like a new one. A CronJob's scheduled run
  (:attr:`jobguard.core.subject.Subject.scheduled_run`: the controller's identity AND a
  controlling CronJob ownerReference) is warned about, never denied.

What the request says about itself is asked of :class:`jobguard.core.subject.Subject`; this
module reads no ownerReference, annotation or managedFields entry itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jobguard.cel.custom_rule import denial_message as custom_denial
from jobguard.cel.custom_rule import warning_message as custom_warning
from jobguard.core.engine import evaluate
from jobguard.core.fixplan import EXISTING, IMMUTABLE, Skipped, applies, plan_fixes
from jobguard.core.model import Finding, SetValue, Severity
from jobguard.core.paths import FieldPath, field_path
from jobguard.core.subject import DEFAULT_KUBERNETES_VERSION, Requester, Subject
from jobguard.core.suppressions import SUPPRESS_PREFIX
from jobguard.core.view import JOB_KINDS
from jobguard.policy import Policy
from jobguard.rules import fixing_rules, validating_rules
from jobguard.webhook import responses
from jobguard.webhook.responses import Answer
from jobguard.webhook.review import Review

MUTATE, VALIDATE = "mutate", "validate"

#: Fixes left out on UPDATE that need no warning: the validating webhook speaks about them.
QUIET_SKIPS = frozenset({EXISTING, IMMUTABLE})

# Decisions, also the ``decision`` label of the request metric.
ALLOWED, PATCHED, DENIED, SKIPPED, INVALID = "allowed", "patched", "denied", "skipped", "invalid"


@dataclass(frozen=True)
class Outcome:
    """An answer and what the log line and the metrics need to know about it."""

    answer: Answer
    decision: str
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    blocking: tuple[Finding, ...] = field(default=())


# -- guards -----------------------------------------------------------------------------------

Guard = Callable[[Review], "Outcome | None"]


def skip_operation(review: Review) -> Outcome | None:
    if review.operation in ("DELETE", "CONNECT"):
        reason = f"{review.operation} is always allowed"
        return Outcome(responses.allow(review.uid), SKIPPED, reason)
    return None


def skip_subresource(review: Review) -> Outcome | None:
    if review.sub_resource is not None:
        reason = f"subresource {review.sub_resource!r} is not judged"
        return Outcome(responses.allow(review.uid), SKIPPED, reason)
    return None


def skip_other_kinds(review: Review) -> Outcome | None:
    gvk = review.kind
    obj_kind = review.object.get("kind") if review.object is not None else None
    is_job_kind = gvk["group"] == "batch" and gvk["version"] == "v1" and gvk["kind"] in JOB_KINDS
    if is_job_kind and obj_kind in (None, gvk["kind"]):
        return None
    shown = f"{gvk['group'] or 'core'}/{gvk['version']} {gvk['kind']}"
    reason = f"jobguard checks batch/v1 Job and CronJob only; {shown} was not checked"
    return Outcome(responses.allow(review.uid, [reason]), SKIPPED, reason)


#: The fixed order: cheapest and most general first.
GUARDS: tuple[Guard, ...] = (skip_operation, skip_subresource, skip_other_kinds)


def run_guards(review: Review) -> Outcome | None:
    for guard in GUARDS:
        outcome = guard(review)
        if outcome is not None:
            return outcome
    return None


# -- views ------------------------------------------------------------------------------------


def with_namespace(obj: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    """``obj`` with the request's namespace when its metadata has none (for policy scope)."""
    metadata = obj.get("metadata")
    if namespace is None or (isinstance(metadata, dict) and metadata.get("namespace")):
        return obj
    base = metadata if isinstance(metadata, dict) else {}
    return {**obj, "metadata": {**base, "namespace": namespace}}


def request_subject(
    review: Review,
    policy: Policy,
    version: tuple[int, int] = DEFAULT_KUBERNETES_VERSION,
    *,
    defaulted: bool,
) -> Subject | None:
    """What a review asks to be judged (None unless a Job or CronJob): its object (with the
    request's namespace, for scope), the old object, and who asked.

    ``defaulted``: the mutating webhook tells API defaults from the user's values (it decides
    what to fill in); the validating webhook judges the final object as lint judges a file.
    """
    assert review.object is not None  # parse_review requires it on CREATE and UPDATE
    old = review.old_object
    return Subject.admission(
        review.operation,
        with_namespace(review.object, review.namespace),
        old_object=with_namespace(old, review.namespace) if old is not None else None,
        requester=Requester(review.username, review.groups),
        version=version,
        controllers=policy.cronjob_controllers,
        defaulted=defaulted,
    )


def _not_a_job(review: Review) -> Outcome:
    reason = "the object is not a batch/v1 Job or CronJob; not checked"
    return Outcome(responses.allow(review.uid, [f"jobguard: {reason}"]), SKIPPED, reason)


# -- messages ---------------------------------------------------------------------------------


def change_warning(finding: Finding) -> str:
    title = finding.fix.title if finding.fix else "changed"
    return responses.warning(f"jobguard {finding.rule}: {finding.field}", title)


def finding_warning(finding: Finding, *, preexisting: bool = False, scheduled: bool = False) -> str:
    # The note goes first, in the head that is never cut: a long message is cut at the end.
    note = " (existing, not blocking)" if preexisting else ""
    note = " (CronJob run, not blocking)" if scheduled else note
    where = finding.field or "(object)"  # as in the denial
    return responses.warning(f"jobguard {finding.rule}{note}: {where}", finding.message)


def denial_message(
    findings: tuple[Finding, ...],
    custom: frozenset[str] = frozenset(),
    refused: Mapping[str, str] = MappingProxyType({}),
) -> str:
    """The denial: built-in rules' findings in jobguard's words, then the custom rules' as the
    API server words a ValidatingAdmissionPolicy's denial (each is one, once exported).

    A rule the object's own suppression annotation names but may not silence (``refused``,
    rule -> why) says so, so that the author learns why the annotation did not help.
    """
    parts = [
        f"[{f.rule}] {f.field or '(object)'}: {f.message}{_refused_note(f.rule, refused)}"
        for f in findings
        if f.rule not in custom
    ]
    vap = [
        custom_denial(f.rule, f.message) + _refused_note(f.rule, refused)
        for f in findings
        if f.rule in custom
    ]
    return "; ".join((["jobguard policy: " + "; ".join(parts)] if parts else []) + vap)


def _refused_note(rule: str, refused: Mapping[str, str]) -> str:
    why = refused.get(rule)
    return "" if why is None else f" (annotation {SUPPRESS_PREFIX}{rule} ignored: {why})"


def warning_text(finding: Finding, custom: frozenset[str]) -> str:
    """A warning: a custom rule's as the API server words a warning ValidatingAdmissionPolicy's."""
    if finding.rule in custom:
        # Cut like every webhook warning (responses.MAX_WARNING_CHARS): the API server's own
        # prefix leaves little of the rule's message.
        return responses.short(custom_warning(finding.rule, finding.message))
    return finding_warning(finding)


# -- the webhooks -----------------------------------------------------------------------------


def restore_warning(edit: SetValue) -> str:
    return responses.warning(
        f"jobguard: {field_path(edit.path)}",
        f"kept {json.dumps(edit.value)} (immutable in an existing Job; the update would be rejected)",
    )


def skip_warning(skipped: Skipped) -> str:
    return responses.warning(f"jobguard {skipped.finding.rule}: fix not applied", skipped.reason)


def mutate(
    review: Review, policy: Policy, version: tuple[int, int] = DEFAULT_KUBERNETES_VERSION
) -> Outcome:
    guarded = run_guards(review)
    if guarded is not None:
        return guarded
    subject = request_subject(review, policy, version, defaulted=True)
    if subject is None:
        return _not_a_job(review)
    # One evaluation without per-finding patches: the plan builds the single patch.
    report = evaluate(subject, policy, rules=fixing_rules(), patches=False)
    before = None
    if subject.is_update and any(applies(f) for f in report.findings):
        old = subject.old()
        if old is not None:
            before = evaluate(old, policy, rules=fixing_rules(), patches=False)
    plan = plan_fixes(report, subject, before=before)
    warnings = (
        [change_warning(f) for f in plan.applied]
        + [restore_warning(edit) for edit in plan.restored]
        + [skip_warning(s) for s in plan.skipped if s.reason not in QUIET_SKIPS]
    )
    if not plan.patch:
        return Outcome(responses.allow(review.uid, warnings), ALLOWED, "", report.findings)
    return Outcome(responses.allow(review.uid, warnings, plan.patch), PATCHED, "", report.findings)


def _key(finding: Finding) -> tuple[str, FieldPath]:
    return (finding.rule, finding.path)


def validate(
    review: Review, policy: Policy, version: tuple[int, int] = DEFAULT_KUBERNETES_VERSION
) -> Outcome:
    guarded = run_guards(review)
    if guarded is not None:
        return guarded
    subject = request_subject(review, policy, version, defaulted=False)
    if subject is None:
        return _not_a_job(review)
    rules = validating_rules()
    report = evaluate(subject, policy, rules=rules, patches=False)
    before: set[tuple[str, FieldPath]] = set()
    # The old object only matters when the new one has something to deny.
    custom = policy.custom_names
    if subject.is_update and report.errors:
        old = subject.old()
        if old is not None:
            # A violation the old object already had does not block, except a custom rule's: a
            # ValidatingAdmissionPolicy judges the new object alone.
            before = {
                _key(f)
                for f in evaluate(old, policy, rules=rules, patches=False).findings
                if f.rule not in custom
            }
    if subject.scheduled_run:
        # Denying it would only drop this run: the template was judged when the CronJob was
        # created or changed, and that is where a violation can be fixed.
        warnings = [finding_warning(f, scheduled=True) for f in report.errors] + [
            finding_warning(f) for f in report.findings if f.severity is Severity.WARNING
        ]
        return Outcome(responses.allow(review.uid, warnings), ALLOWED, "", report.findings)
    forgiven = {_key(f) for f in report.errors if subject.forgiven(_key(f), before)}
    blocking = tuple(f for f in report.errors if _key(f) not in forgiven)
    warnings = [
        finding_warning(f, preexisting=True) for f in report.errors if _key(f) in forgiven
    ] + [warning_text(f, custom) for f in report.findings if f.severity is Severity.WARNING]
    if blocking:
        answer = responses.deny(
            review.uid,
            denial_message(blocking, custom, report.refused_suppressions),
            warnings,
        )
        return Outcome(answer, DENIED, "", report.findings, blocking)
    return Outcome(responses.allow(review.uid, warnings), ALLOWED, "", report.findings)
