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

Jobs the CronJob controller created are left alone: their fix belongs on the CronJob.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobguard.audit.judge import location, scheduled_by_cronjob
from jobguard.core.context import Context
from jobguard.core.engine import evaluate
from jobguard.core.kubernetes.updates import job_update_errors
from jobguard.core.model import Action, Finding
from jobguard.core.patching import PatchConflict, apply_edits
from jobguard.core.paths import field_path
from jobguard.policy.model import Policy
from jobguard.webhook.admission import admission_view, fixing_rules


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


def _fixable(finding: Finding) -> bool:
    return (
        finding.action is not Action.AUDIT
        and finding.fix is not None
        and finding.fix.safe
        and bool(finding.fix.edits)
    )


def _immutable_errors(obj: dict[str, Any], patched: dict[str, Any], ctx: Context) -> list[str]:
    """Why the API server would refuse to turn stored Job ``obj`` into ``patched``."""
    if obj.get("kind") != "Job":
        return []
    return [
        f"{field_path(e.path)} cannot change on an existing Job (immutable)"
        for e in job_update_errors(obj, patched, ctx.kubernetes_version)
    ]


def plan(obj: dict[str, Any], policy: Policy, ctx: Context) -> FixPlan | None:
    """The patch for one stored object, or None when it needs none."""
    if scheduled_by_cronjob(obj):
        return None
    view = admission_view(obj)
    if view is None or view.name is None or view.namespace is None:
        return None
    report = evaluate(view, policy, ctx, rules=fixing_rules())
    accepted: list[Finding] = []
    refused: list[str] = []
    for finding in (f for f in report.findings if _fixable(f)):
        assert finding.fix is not None
        try:
            patched, _ = apply_edits(
                obj, [*(e for f in accepted if f.fix for e in f.fix.edits), *finding.fix.edits]
            )
        except PatchConflict as exc:
            refused.append(f"{finding.rule} {finding.field}: {exc}")
            continue
        errors = _immutable_errors(obj, patched, ctx)
        if errors:
            refused.append(f"{finding.rule} {finding.field}: not changed: {errors[0]}")
            continue
        accepted.append(finding)
    if not accepted and not refused:
        return None
    ops: list[dict[str, Any]] = []
    if accepted:
        _, ops = apply_edits(obj, [e for f in accepted if f.fix for e in f.fix.edits])
        version = view.metadata.get("resourceVersion")
        if isinstance(version, str):
            ops.insert(0, {"op": "test", "path": "/metadata/resourceVersion", "value": version})
    return FixPlan(
        kind=view.kind,
        namespace=view.namespace,
        name=view.name,
        location=location(obj),
        changes=tuple(f"{f.rule} {f.field}: {f.fix.title}" for f in accepted if f.fix),
        refused=tuple(refused),
        body=tuple(ops),
    )
