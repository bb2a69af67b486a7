"""wg-policy ``PolicyReport`` (one per namespace) and ``ClusterPolicyReport`` objects.

Format: ``wgpolicyk8s.io/v1alpha2``, the one Kyverno and Policy Reporter read. Results are keyed
by rule: one result per rule and outcome, listing the objects it applies to, so a report's size
grows with the number of rules, not with the number of Jobs (a report is one etcd object, at
most 1.5 MB). Outcomes: ``fail`` for deny-level findings, ``warn`` for warn- and audit-level
ones, ``skip`` for findings a policy exemption lifts, ``error`` for a rule that failed on an
object, ``pass`` for a rule that judged objects there and found nothing. Severity follows the
action: deny ``high``, warn ``medium``, audit ``info``.

The ClusterPolicyReport sums every namespace, one result per rule and outcome whose resources
are the namespaces concerned, plus an ``error`` result for each list the audit could not read.

Building is pure; the same audit gives byte-identical reports except for the timestamp, so
writing them again (get, then create or replace) is idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jobguard.core.engine import INTERNAL_ERROR_RULE
from jobguard.core.model import Action, Finding

API_VERSION = "wgpolicyk8s.io/v1alpha2"
REPORT_NAME = "jobguard-audit"
POLICY = "jobguard"
SOURCE = "jobguard"
MANAGED_BY = {"app.kubernetes.io/managed-by": "jobguard"}
#: Resources listed per result; ``properties.objects`` counts them all.
MAX_RESOURCES = 200
OUTCOMES = ("pass", "fail", "warn", "error", "skip")

_SEVERITY = {Action.DENY: "high", Action.WARN: "medium", Action.AUDIT: "info"}


def outcome(finding: Finding) -> str:
    if finding.rule == INTERNAL_ERROR_RULE:
        return "error"
    return "fail" if finding.action is Action.DENY else "warn"


@dataclass
class _Entry:
    """One rule's outcome in one namespace: the objects and the first message."""

    category: str
    severity: str
    message: str
    objects: int = 0  # Jobs and CronJobs concerned
    listed: int = 0  # resources (objects, or namespaces in the cluster report)
    resources: list[dict[str, Any]] = field(default_factory=list)

    def add(self, resource: dict[str, Any]) -> None:
        self.listed += 1
        if len(self.resources) < MAX_RESOURCES:
            self.resources.append(resource)


def _reference(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata") or {}
    ref = {
        "apiVersion": "batch/v1",
        "kind": obj.get("kind"),
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
    }
    if metadata.get("uid"):
        ref["uid"] = metadata["uid"]
    return ref


class ReportBuilder:
    """Collects the judgements of a streaming audit, then builds the reports."""

    def __init__(self) -> None:
        # namespace -> (rule, outcome) -> entry
        self._entries: dict[str, dict[tuple[str, str], _Entry]] = defaultdict(dict)
        # namespace -> rule -> objects it judged
        self._judged: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._errors: list[str] = []

    def add(
        self,
        obj: dict[str, Any],
        findings: tuple[Finding, ...],
        exempted: tuple[Finding, ...],
        rules_run: tuple[str, ...],
    ) -> None:
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        for rule in rules_run:
            self._judged[namespace][rule] += 1
        resource = _reference(obj)
        seen: set[tuple[str, str]] = set()
        tagged = [(f, outcome(f)) for f in findings] + [(f, "skip") for f in exempted]
        for finding, result in tagged:
            key = (finding.rule, result)
            if key in seen:  # one object counts once per rule and outcome
                continue
            seen.add(key)
            entry = self._entries[namespace].get(key)
            if entry is None:
                entry = self._entries[namespace][key] = _Entry(
                    finding.category.value,
                    _SEVERITY.get(finding.action, "info"),
                    f"{finding.field}: {finding.message}" if finding.field else finding.message,
                )
            entry.objects += 1
            entry.add(resource)

    def error(self, message: str) -> None:
        """A list the audit could not read (it goes into the ClusterPolicyReport)."""
        self._errors.append(message)

    @property
    def namespaces(self) -> list[str]:
        return sorted(set(self._judged) | set(self._entries))

    def namespace_report(self, namespace: str, seconds: int) -> dict[str, Any]:
        entries = self._entries.get(namespace, {})
        results = []
        failing_rules = {rule for rule, _ in entries}
        for (rule, result), entry in sorted(entries.items()):
            results.append(_result(rule, result, entry, seconds))
        for rule, judged in sorted(self._judged.get(namespace, {}).items()):
            if rule not in failing_rules:
                results.append(_pass(rule, judged, seconds))
        return _report("PolicyReport", namespace, results)

    def cluster_report(self, seconds: int) -> dict[str, Any]:
        # (rule, outcome) -> (the first namespace's entry as a template, objects, namespaces)
        merged: dict[tuple[str, str], _Entry] = {}
        for namespace in self.namespaces:
            for key, entry in self._entries.get(namespace, {}).items():
                total = merged.setdefault(
                    key, _Entry(entry.category, entry.severity, entry.message)
                )
                total.objects += entry.objects
                total.add({"apiVersion": "v1", "kind": "Namespace", "name": namespace})
        judged: dict[str, int] = defaultdict(int)
        for counts in self._judged.values():
            for rule, n in counts.items():
                judged[rule] += n
        failing_rules = {rule for rule, _ in merged}
        results = [_result(rule, res, e, seconds) for (rule, res), e in sorted(merged.items())]
        results += [
            _pass(rule, n, seconds)
            for rule, n in sorted(judged.items())
            if rule not in failing_rules
        ]
        results += [
            {
                "source": SOURCE,
                "policy": POLICY,
                "rule": "audit",
                "result": "error",
                "message": message,
                "scored": False,
                "timestamp": {"seconds": seconds, "nanos": 0},
            }
            for message in self._errors
        ]
        return _report("ClusterPolicyReport", None, results)


def _result(rule: str, result: str, entry: _Entry, seconds: int) -> dict[str, Any]:
    properties = {"objects": str(entry.objects)}
    if len(entry.resources) < entry.listed:
        properties["resourcesNotListed"] = str(entry.listed - len(entry.resources))
    return {
        "source": SOURCE,
        "policy": POLICY,
        "rule": rule,
        "category": entry.category,
        "result": result,
        "severity": entry.severity,
        "scored": result != "skip",
        "message": entry.message
        if entry.objects == 1
        else f"{entry.objects} objects, for example: {entry.message}",
        "resources": entry.resources,
        "properties": properties,
        "timestamp": {"seconds": seconds, "nanos": 0},
    }


def _pass(rule: str, judged: int, seconds: int) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "policy": POLICY,
        "rule": rule,
        "result": "pass",
        "scored": True,
        "message": f"{judged} {'object' if judged == 1 else 'objects'} judged, no finding",
        "properties": {"objects": str(judged)},
        "timestamp": {"seconds": seconds, "nanos": 0},
    }


def summary(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result["result"]] += 1
    return counts


def _report(kind: str, namespace: str | None, results: list[dict[str, Any]]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": REPORT_NAME, "labels": dict(MANAGED_BY)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "summary": summary(results),
        "results": results,
    }
