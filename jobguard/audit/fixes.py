"""The policy's safe fixes that a live object accepts, as JSON Patches.

The fixes are the mutating webhook's: the safe fixes of deny- and warn-level findings. On a
stored Job only mutable fields may change (``ttlSecondsAfterFinished``, ``backoffLimit``,
``activeDeadlineSeconds``...; the pod template, ``completions``, ``selector`` and the other
fields :mod:`jobguard.core.kubernetes.updates` knows are immutable): a fix that would change an
immutable field is left out and reported. A CronJob has no immutable spec field; a fix to its
``jobTemplate`` applies to the Jobs it creates from then on.

Each patch is one JSON Patch (``application/json-patch+json``) whose first operation tests the
object's ``resourceVersion``: if the object changed since it was listed, the API server refuses
the whole patch (422) instead of applying a fix planned against an older object.

A CronJob's scheduled runs (:attr:`jobguard.core.subject.Subject.scheduled_run`) are left alone:
their fix belongs on the CronJob.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobguard.audit.judge import location
from jobguard.core.engine import evaluate
from jobguard.core.fixplan import IMMUTABLE, REJECTED, Skipped, plan_fixes
from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.kubernetes.versions import Version
from jobguard.core.patching import apply_edits
from jobguard.core.paths import field_path
from jobguard.core.subject import Subject
from jobguard.policy.model import Policy
from jobguard.rules import fixing_rules


@dataclass(frozen=True)
class FixPlan:
    kind: str
    namespace: str
    name: str
    location: str
    changes: tuple[str, ...]  # "rule field: fix title", one per applied fix
    refused: tuple[str, ...]  # fixes left out, with why
    body: tuple[dict[str, Any], ...]  # the JSON Patch sent, resourceVersion test first

    @property
    def empty(self) -> bool:
        return not self.changes


def _immutable_errors(obj: dict[str, Any], patched: dict[str, Any], version: Version) -> list[str]:
    """Why the API server would refuse to turn stored Job ``obj`` into ``patched``."""
    if obj.get("kind") != "Job":
        return []
    return [
        f"{field_path(e.path)} cannot change on an existing Job (immutable)"
        for e in job_update_errors(obj, patched, version)
    ]


def _refusal(obj: dict[str, Any], skipped: Skipped, version: Version) -> str:
    """A fix left out, named with the API server's reason where it is an immutable field."""
    finding = skipped.finding
    where = f"{finding.rule} {finding.field}"
    if finding.fix is not None and skipped.reason in (IMMUTABLE, REJECTED):
        patched, _ = apply_edits(obj, list(finding.fix.edits))
        errors = _immutable_errors(obj, patched, version)
        if errors:
            return f"{where}: not changed: {errors[0]}"
    return f"{where}: {skipped.reason}"


def plan(subject: Subject, policy: Policy) -> FixPlan | None:
    """The patch for one stored object, or None when it needs none."""
    if subject.scheduled_run:
        return None
    view = subject.view
    obj = view.obj
    if view.name is None or view.namespace is None:
        return None
    report = evaluate(subject, policy, rules=fixing_rules())
    # A stored object is updated to its fixed self: the fix plan of an UPDATE whose old object
    # is the stored one (no ``before``: every finding is one to fix) applies only what may change.
    fixes = plan_fixes(report, subject.updated_in_place())
    refused = [_refusal(obj, skipped, subject.version) for skipped in fixes.skipped]
    if not fixes.applied and not refused:
        return None
    ops = list(fixes.patch)
    if ops:
        version = view.metadata.get("resourceVersion")
        if isinstance(version, str):
            ops.insert(0, {"op": "test", "path": "/metadata/resourceVersion", "value": version})
    accepted = fixes.applied
    return FixPlan(
        kind=view.kind,
        namespace=view.namespace,
        name=view.name,
        location=location(subject),
        changes=tuple(f"{f.rule} {f.field}: {f.fix.title}" for f in accepted if f.fix),
        refused=tuple(refused),
        body=tuple(ops),
    )
