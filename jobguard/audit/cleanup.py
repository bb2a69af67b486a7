"""What piled up: finished Jobs nothing will delete, and CronJobs that keep too many.

A finished Job (condition ``Complete`` or ``Failed`` true) is deleted by the TTL controller when
it has ``spec.ttlSecondsAfterFinished``, and by the CronJob controller (its history limits) when
a CronJob owns it. Anything else stays, with its pods, until someone deletes it. Pure: the
collector is fed stored objects and pod counts, and never reads the cluster itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FINISHED_CONDITIONS = ("Complete", "Failed")
#: What the API server fills in for unset history limits (SetDefaults_CronJob).
HISTORY_DEFAULTS = {"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as the API server writes it (``2026-12-02T05:02:46Z``)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def finished(obj: Mapping[str, Any]) -> tuple[str, datetime | None] | None:
    """(``Complete`` or ``Failed``, when) for a finished Job, else None."""
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    for condition in conditions if isinstance(conditions, list) else []:
        if (
            isinstance(condition, dict)
            and condition.get("type") in FINISHED_CONDITIONS
            and condition.get("status") == "True"
        ):
            when = parse_time(status.get("completionTime")) if isinstance(status, dict) else None
            return str(condition["type"]), when or parse_time(condition.get("lastTransitionTime"))
    return None


def has_ttl(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    ttl = spec.get("ttlSecondsAfterFinished") if isinstance(spec, dict) else None
    return isinstance(ttl, int) and not isinstance(ttl, bool)


@dataclass(frozen=True, slots=True)
class FinishedJob:
    namespace: str
    name: str
    condition: str
    finished_at: datetime | None


@dataclass(frozen=True)
class HistoryExcess:
    """A CronJob whose history limits keep more finished Jobs than the policy allows."""

    namespace: str
    name: str
    limits: Mapping[str, int]  # limit field -> value in force
    allowed: Mapping[str, int | None]  # limit field -> the policy's maximum
    kept: Mapping[str, int]  # "successful" / "failed" -> finished Jobs it holds now


def age_text(seconds: float) -> str:
    """``3d 4h``, ``5h 12m``, ``7m``: how long ago, to the two largest units."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


@dataclass
class CleanupCollector:
    """Fed every Job and CronJob of the audit, one at a time."""

    max_successful: int | None
    max_failed: int | None
    jobs: dict[str, list[FinishedJob]] = field(default_factory=lambda: defaultdict(list))
    pods: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    # (namespace, cronjob) -> outcome -> finished Jobs it holds
    held: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    cronjobs: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)

    def add_job(self, obj: Mapping[str, Any], owner: str | None) -> None:
        """A listed Job; ``owner`` names the CronJob whose scheduled run it is (its history
        limits, not a TTL, clean it up), as :attr:`Subject.cronjob_owner` decides."""
        state = finished(obj)
        if state is None:
            return
        metadata = obj.get("metadata") or {}
        namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        if owner is not None:
            outcome = "successful" if state[0] == "Complete" else "failed"
            self.held[(namespace, owner)][outcome] += 1
            return
        if has_ttl(obj):
            return
        self.jobs[namespace].append(FinishedJob(namespace, name, state[0], state[1]))

    def add_cronjob(self, obj: Mapping[str, Any]) -> None:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        limits = {}
        for key, default in HISTORY_DEFAULTS.items():
            value = spec.get(key)
            limits[key] = (
                value if isinstance(value, int) and not isinstance(value, bool) else default
            )
        metadata = obj.get("metadata") or {}
        self.cronjobs.append(
            (str(metadata.get("namespace", "")), str(metadata.get("name", "")), limits)
        )

    def add_pod(self, namespace: str, job_name: str) -> None:
        self.pods[(namespace, job_name)] += 1

    def wanted_pods(self, namespace: str) -> set[str]:
        """Names of the namespace's finished Jobs whose pods are worth counting."""
        return {job.name for job in self.jobs.get(namespace, [])}

    def namespaces(self) -> list[str]:
        return sorted(ns for ns, jobs in self.jobs.items() if jobs)

    def oldest_first(self, namespace: str) -> list[FinishedJob]:
        far_future = datetime.max.replace(tzinfo=UTC)
        return sorted(
            self.jobs.get(namespace, []), key=lambda j: (j.finished_at or far_future, j.name)
        )

    def history_excess(self) -> list[HistoryExcess]:
        allowed = {
            "successfulJobsHistoryLimit": self.max_successful,
            "failedJobsHistoryLimit": self.max_failed,
        }
        out = []
        for namespace, name, limits in sorted(self.cronjobs):
            over = any(
                allowed[key] is not None and value > (allowed[key] or 0)
                for key, value in limits.items()
            )
            if over:
                kept = dict(self.held.get((namespace, name), {}))
                out.append(HistoryExcess(namespace, name, limits, allowed, kept))
        return out

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """The JSON form: per namespace, oldest first, with ages in seconds."""
        namespaces = []
        for namespace in self.namespaces():
            jobs = self.oldest_first(namespace)
            entries: list[dict[str, Any]] = [
                {
                    "name": job.name,
                    "condition": job.condition,
                    "finishedAt": job.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if job.finished_at
                    else None,
                    "ageSeconds": int((now - job.finished_at).total_seconds())
                    if job.finished_at
                    else None,
                    "pods": self.pods.get((namespace, job.name), 0),
                }
                for job in jobs
            ]
            namespaces.append(
                {
                    "namespace": namespace,
                    "jobs": len(entries),
                    "pods": sum(e["pods"] for e in entries),
                    "oldestAgeSeconds": entries[0]["ageSeconds"],
                    "finishedJobs": entries,
                }
            )
        return {
            "namespaces": namespaces,
            "cronJobHistory": [
                {
                    "namespace": h.namespace,
                    "name": h.name,
                    "limits": dict(h.limits),
                    "allowed": dict(h.allowed),
                    "kept": dict(h.kept),
                }
                for h in self.history_excess()
            ],
        }

    def text(self, now: datetime) -> list[str]:
        data = self.as_dict(now)
        lines = [
            "Finished Jobs that nothing deletes (no ttlSecondsAfterFinished, no CronJob owner):"
        ]
        if not data["namespaces"]:
            lines.append("  none")
        for ns in data["namespaces"]:
            oldest = ns["oldestAgeSeconds"]
            shown = f", oldest finished {age_text(oldest)} ago" if oldest is not None else ""
            lines.append(
                f"  namespace {ns['namespace']}: {ns['jobs']} Jobs holding {ns['pods']} pods{shown}"
            )
            for job in ns["finishedJobs"]:
                age = (
                    age_text(job["ageSeconds"]) + " ago"
                    if job["ageSeconds"] is not None
                    else "unknown"
                )
                lines.append(
                    f"    Job {job['name']}  {job['condition']}  finished {age}  {job['pods']} pods"
                )
        lines.append("CronJobs whose history limits keep more than the policy allows:")
        if not data["cronJobHistory"]:
            lines.append("  none")
        for h in data["cronJobHistory"]:
            parts = [
                f"{key} {value} (policy maximum {h['allowed'][key]})"
                for key, value in h["limits"].items()
                if h["allowed"][key] is not None and value > h["allowed"][key]
            ]
            kept = h["kept"]
            lines.append(
                f"  CronJob {h['namespace']}/{h['name']}: {', '.join(parts)}; holds "
                f"{kept.get('successful', 0)} successful and {kept.get('failed', 0)} failed Jobs now"
            )
        return lines
