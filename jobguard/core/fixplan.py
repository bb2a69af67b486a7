"""Which fixes apply to an object, here: the one decision behind ``/mutate``, ``lint --fix`` and
``lint --diff``.

:func:`plan_fixes` takes a report and the subject it was made for (a manifest, an admission
CREATE, an admission UPDATE with its old object) and returns the edits to apply, the fixed
object and the single JSON Patch that turns the object into it. Every front end applies exactly
that plan, so the file ``lint --fix`` writes and the object the mutating webhook admits are the
same for the same policy.

What is applied, in report order:

* the fix of each finding whose rule acts at ``deny`` or ``warn`` and whose fix is ``safe``.
  **Audit-level findings are never fixed, anywhere**: ``audit`` means "record only", so it
  neither blocks, nor warns, nor changes the object or the file. Unsafe fixes are suggestions.
* A fix that cannot be applied to the object as fixed so far (a parent on its path is not a
  map) is skipped, with the reason; the others still apply.
* On UPDATE, a finding the existing object already had (same rule, same path, the same value
  there, and its fix would change the existing object) is left alone: the update did not
  introduce it, and the validating webhook does not block it either. That keeps a metadata-only
  change of a legacy object free of unasked-for spec changes, and makes re-applying an unchanged
  manifest a no-op.
* On UPDATE of a Job, a fix is applied only where an existing Job may change
  (:meth:`jobguard.core.subject.Subject.may_change`), and the plan is checked against the API
  server's update rules as a whole: it never adds an immutable change the request did not
  already make. Where the update itself changes an immutable field that jobguard fixes, to a
  value the policy rejects (a ``kubectl replace`` of a manifest without ``restartPolicy`` gives
  the pod template ``restartPolicy: Always`` again, and a Job's template is immutable), the
  stored value is put back, when that makes the update acceptable: it is the only value the API
  server would take there.

Pure: the report's object is never modified; the fixed object shares unchanged parts with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobguard.core.model import Action, Edit, Finding, SetValue
from jobguard.core.patching import PatchConflict, WorkingCopy, apply_edits, patch_for
from jobguard.core.paths import MISSING, FieldPath, lookup
from jobguard.core.subject import Subject

if TYPE_CHECKING:
    from jobguard.core.engine import Report

__all__ = ["EXISTING", "IMMUTABLE", "REJECTED", "FixPlan", "Skipped", "applies", "plan_fixes"]

# Why a fix that applies was left out (a conflict is reported with its own message).
EXISTING = "the existing object has it already"
IMMUTABLE = "the field is immutable in an existing Job"
REJECTED = "the API server would reject it as an immutable change"

#: The actions whose safe fixes are applied (audit: record only; off: never reported).
FIXING_ACTIONS = frozenset({Action.DENY, Action.WARN})


def applies(finding: Finding) -> bool:
    """Whether this finding's fix is one that jobguard applies (subject aside)."""
    return finding.action in FIXING_ACTIONS and finding.fix is not None and finding.fix.safe


@dataclass(frozen=True)
class Skipped:
    """A fix that :func:`applies` but was not applied here, and why."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class FixPlan:
    """The fixes for one object: ``obj`` is ``patch`` applied to the report's object."""

    obj: dict[str, Any]
    patch: list[dict[str, Any]] = field(default_factory=list)
    #: Findings whose fix changed the object, in report order.
    applied: tuple[Finding, ...] = ()
    #: Their edits, in order (what ``lint --fix`` writes into the file).
    edits: tuple[Edit, ...] = ()
    #: Immutable fields given back their stored value on a Job UPDATE (edits of the patch too).
    restored: tuple[SetValue, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.patch)


def _key(finding: Finding) -> tuple[str, FieldPath]:
    return (finding.rule, finding.path)


def plan_fixes(report: Report, subject: Subject, *, before: Report | None = None) -> FixPlan:
    """The fixes to apply to ``report``'s object as ``subject``.

    ``before`` is the report of the old object on UPDATE (made with the same policy and
    rules); without it every finding counts as introduced by the update.
    """
    existing = _existing_violations(before) if before and subject.is_update else set()
    wanted: list[Finding] = []
    skipped: list[Skipped] = []
    for finding in report.findings:
        if not applies(finding):
            continue
        if subject.forgiven(_key(finding), existing):
            skipped.append(Skipped(finding, EXISTING))
        else:
            wanted.append(finding)
    base: dict[str, Any] = report.view.obj
    base_ops: list[dict[str, Any]] = []
    restored: tuple[SetValue, ...] = ()
    if subject.has_immutable_fields:
        base, base_ops, restored = _restore_stored_values(base, subject, wanted)
    excluded: set[int] = set()
    while True:
        plan, indexes = _apply(base, base_ops, subject, wanted, excluded, restored)
        offenders = _introduced_update_errors(plan, indexes, base, subject)
        if not offenders:
            break
        excluded |= offenders
    return FixPlan(
        plan.obj,
        plan.patch,
        plan.applied,
        plan.edits,
        restored,
        (*skipped, *plan.skipped),
    )


def _existing_violations(before: Report) -> set[tuple[str, FieldPath]]:
    """The findings of the old object that its fix would change: a finding whose fix is already
    in place there (jobguard set the value at CREATE; kubectl's record does not show it) is
    not a violation of the existing object."""
    old = before.view.obj
    return {
        _key(f)
        for f in before.findings
        if not applies(f) or (f.fix is not None and _changes(old, f.fix.edits))
    }


def _changes(doc: dict[str, Any], edits: tuple[Edit, ...]) -> bool:
    try:
        return bool(patch_for(doc, edits))
    except PatchConflict:
        return True


def _apply(
    base: dict[str, Any],
    base_ops: list[dict[str, Any]],
    subject: Subject,
    wanted: Iterable[Finding],
    excluded: set[int],
    restored: tuple[SetValue, ...],
) -> tuple[FixPlan, tuple[int, ...]]:
    """The plan with the findings of ``wanted`` but those at ``excluded`` indexes, and the
    index in ``wanted`` of each applied finding."""
    work = WorkingCopy(base)
    ops = list(base_ops)
    indexes: list[int] = []
    restored_paths = {r.path for r in restored}
    applied: list[Finding] = []
    edits: list[Edit] = []
    skipped: list[Skipped] = []
    for index, finding in enumerate(wanted):
        assert finding.fix is not None  # applies() checked it
        finding_edits = finding.fix.edits
        if index in excluded:
            skipped.append(Skipped(finding, REJECTED))
            continue
        if not all(subject.may_change(e.path) for e in finding_edits):
            if not all(e.path in restored_paths for e in finding_edits):
                skipped.append(Skipped(finding, IMMUTABLE))
            continue
        try:
            finding_ops = work.apply(finding_edits)
        except PatchConflict as exc:
            skipped.append(Skipped(finding, str(exc)))
            continue
        if finding_ops:
            ops += finding_ops
            applied.append(finding)
            indexes.append(index)
            edits += finding_edits
    plan = FixPlan(
        work.doc if applied else base, ops, tuple(applied), tuple(edits), restored, tuple(skipped)
    )
    return plan, tuple(indexes)


def _introduced_update_errors(
    plan: FixPlan, indexes: tuple[int, ...], base: dict[str, Any], subject: Subject
) -> set[int]:
    """Indexes (in the wanted findings) of applied fixes that add an immutable change."""
    if not subject.has_immutable_fields or not plan.applied:
        return set()
    already = {e.path for e in subject.update_errors(base)}
    new = [e.path for e in subject.update_errors(plan.obj) if e.path not in already]
    if not new:
        return set()
    # Not reachable with what may_change allows, except completions out of tandem with
    # parallelism; dropping every fix on the offending paths (or, failing that, all) is safe.
    offenders = set()
    for index, finding in zip(indexes, plan.applied, strict=True):
        assert finding.fix is not None
        if any(_overlaps(e.path, p) for e in finding.fix.edits for p in new):
            offenders.add(index)
    return offenders or set(indexes)


def _overlaps(a: FieldPath, b: FieldPath) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _restore_stored_values(
    obj: dict[str, Any], subject: Subject, wanted: list[Finding]
) -> tuple[dict[str, Any], list[dict[str, Any]], tuple[SetValue, ...]]:
    """``obj`` with the stored value put back at the immutable paths jobguard fixes, when the
    update changes them and putting them back makes the update acceptable."""
    old = subject.old_object
    if old is None:
        return obj, [], ()
    restores: dict[FieldPath, SetValue] = {}
    for finding in wanted:
        assert finding.fix is not None
        for edit in finding.fix.edits:
            if subject.may_change(edit.path):
                continue
            stored = lookup(old, edit.path)
            if stored is MISSING or stored == lookup(obj, edit.path):
                continue
            restores[edit.path] = SetValue(edit.path, stored)
    if not restores or not subject.update_errors(obj):
        return obj, [], ()
    try:
        restored, ops = apply_edits(obj, restores.values())
    except PatchConflict:
        return obj, [], ()
    if subject.update_errors(restored):
        return obj, [], ()  # the update changes other immutable fields: it fails regardless
    return restored, ops, tuple(restores.values())
