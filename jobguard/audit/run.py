"""One audit: a streaming pass over the CronJobs, then the Jobs, of each namespace asked for.

Only one page of objects is held at a time. Each object's result goes to a :class:`Sink` (the
streamed text or JSON output) and is then dropped: what stays is counts (:class:`Tally`), the
bounded PolicyReport lists with ``--report``, and with ``--cleanup`` a name and a time per
finished Job. SARIF and JUnit keep every result (``keep_results``). CronJobs are listed first so that the
Jobs they own can be counted against their history limits as they stream by. A list that fails
(403 in one namespace, an unreachable server) becomes an input problem naming it, and the audit
goes on with the next one; once the server is unreachable, nothing further is asked of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from jobguard.audit.cleanup import CleanupCollector
from jobguard.audit.cluster import (
    CRONJOBS,
    JOB_NAME_LABELS,
    JOBS,
    PODS,
    Cluster,
    ClusterError,
    Resource,
)
from jobguard.audit.fixes import FixPlan, plan
from jobguard.audit.judge import judge
from jobguard.audit.policyreport import ReportBuilder
from jobguard.core.engine import INTERNAL_ERROR_RULE
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.model import Severity
from jobguard.core.subject import Subject
from jobguard.lint.linter import (
    NESTED_TOO_DEEPLY,
    FileResult,
    InputProblem,
    LintResult,
    ObjectResult,
)
from jobguard.policy.model import Policy
from jobguard.rules.cronjob_history_limits import NAME as HISTORY_RULE


@dataclass(frozen=True)
class AuditOptions:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    #: The Kubernetes version whose API server stored (and defaulted) the objects.
    kubernetes_version: Version = DEFAULT_KUBERNETES_VERSION
    cleanup: bool = False
    fix: bool = False
    report: bool = False
    page_size: int = 500
    #: Keep every object's result in ``Audit.result`` (SARIF and JUnit need them all at the
    #: end); otherwise only the counts below stay, and a :class:`Sink` sees each result once.
    keep_results: bool = False


class Sink(Protocol):
    """Where a streaming audit sends what it finds, as it finds it."""

    def object(self, result: ObjectResult) -> None: ...

    def problem(self, problem: InputProblem) -> None: ...

    def page_done(self) -> None: ...


@dataclass
class Tally:
    """What the summaries need of the objects judged, whatever their number."""

    objects: int = 0
    severities: Counter[Severity] = field(default_factory=Counter)
    suppressed: int = 0
    exempted: int = 0

    def add(self, result: ObjectResult) -> None:
        self.objects += 1
        self.severities.update(lf.finding.severity for lf in result.findings)
        self.suppressed += result.suppressed
        self.exempted += result.exempted


@dataclass
class Audit:
    #: Input problems always; object results only with ``AuditOptions.keep_results``.
    result: LintResult = field(default_factory=LintResult)
    tally: Tally = field(default_factory=Tally)
    reports: ReportBuilder | None = None
    cleanup: CleanupCollector | None = None
    fixes: list[FixPlan] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    unreachable: bool = False
    sink: Sink | None = None
    #: The uids of the CronJobs listed so far (they are listed before the Jobs): a Job is a
    #: CronJob's scheduled run only when its controlling CronJob is among them.
    cronjob_uids: set[str] = field(default_factory=set)

    def problem(self, where: str, message: str, severity: Severity = Severity.ERROR) -> None:
        problem = InputProblem(where, message, severity=severity)
        self.result.files.append(FileResult(where, problems=(problem,)))
        if self.reports is not None and severity is Severity.ERROR:
            self.reports.error(message)
        if self.sink is not None:
            self.sink.problem(problem)

    @property
    def problems(self) -> list[InputProblem]:
        return self.result.problems

    def count(self, severity: Severity) -> int:
        return self.tally.severities[severity]

    @property
    def locations(self) -> int:
        """The distinct ``file`` values of the JSON summary: one per object (Kind/namespace/name
        is unique in a cluster, and a list restarted after 410 Gone skips what it judged), plus
        one per place a problem names."""
        return self.tally.objects + len({p.file for p in self.problems})


def _history_bounds(policy: Policy) -> tuple[int | None, int | None]:
    from jobguard.rules import ALL_RULES

    for rule in ALL_RULES:
        if rule.name == HISTORY_RULE:
            options: Any = policy.settings(rule).options
            return options.max_successful, options.max_failed
    return None, None


def _visit(audit: Audit, obj: dict[str, Any], policy: Policy, options: AuditOptions) -> None:
    try:
        subject = Subject.stored(obj, options.kubernetes_version, cronjob_uids=audit.cronjob_uids)
        if subject is None:
            return
        judgement = judge(subject, policy)
    except RecursionError:
        metadata = obj.get("metadata") or {}
        where = f"{obj.get('kind')}/{metadata.get('namespace')}/{metadata.get('name')}"
        audit.problem(where, NESTED_TOO_DEEPLY)
        return
    if subject.kind == "CronJob":
        uid = subject.view.metadata.get("uid")
        if isinstance(uid, str) and uid:
            audit.cronjob_uids.add(uid)
    if options.keep_results:
        audit.result.files.append(FileResult(judgement.result.file, (judgement.result,)))
    audit.tally.add(judgement.result)
    if audit.sink is not None:
        audit.sink.object(judgement.result)
    audit.verdicts[judgement.verdict] = audit.verdicts.get(judgement.verdict, 0) + 1
    findings = tuple(lf.finding for lf in judgement.result.findings)
    if audit.reports is not None:
        audit.reports.add(obj, findings, judgement.exempted, judgement.rules_run)
    if audit.cleanup is not None:
        if subject.kind == "Job":
            audit.cleanup.add_job(obj, subject.cronjob_owner)
        else:
            audit.cleanup.add_cronjob(obj)
    if options.fix and not any(f.rule == INTERNAL_ERROR_RULE for f in findings):
        fix = plan(subject, policy)
        if fix is not None:
            audit.fixes.append(fix)


def _scopes(options: AuditOptions) -> tuple[str | None, ...]:
    return options.namespaces or (None,)


def _stream(
    audit: Audit,
    cluster: Cluster,
    policy: Policy,
    options: AuditOptions,
    resource: Resource,
    ns: str | None,
) -> None:
    try:
        for page in cluster.pages(resource, ns, page_size=options.page_size):
            for obj in page:
                _visit(audit, obj, policy, options)
            if audit.sink is not None:
                audit.sink.page_done()
    except ClusterError as exc:
        hint = (
            "; audit the namespaces you may read with -n NS"
            if exc.status == 403 and ns is None
            else ""
        )
        audit.problem(f"{resource.kind}s/{ns or '*'}", f"{exc}{hint}")
        if exc.status is None:
            audit.unreachable = True


def _count_pods(audit: Audit, cluster: Cluster, options: AuditOptions) -> None:
    """The pods the finished Jobs still hold, found by their job-name label."""
    assert audit.cleanup is not None
    new_label, old_label = JOB_NAME_LABELS
    selectors = (new_label, f"{old_label},!{new_label}")  # no pod is counted twice
    for namespace in audit.cleanup.namespaces():
        wanted = audit.cleanup.wanted_pods(namespace)
        for selector in selectors:
            try:
                for page in cluster.pages(
                    PODS, namespace, label_selector=selector, page_size=options.page_size
                ):
                    for pod in page:
                        labels = (pod.get("metadata") or {}).get("labels") or {}
                        job = labels.get(new_label) or labels.get(old_label)
                        if job in wanted:
                            audit.cleanup.add_pod(namespace, job)
            except ClusterError as exc:
                audit.problem(
                    f"Pods/{namespace}", f"{exc} (pod counts of --cleanup are incomplete)"
                )
                if exc.status is None:
                    return
                break


def run_audit(
    cluster: Cluster, policy: Policy, options: AuditOptions, sink: Sink | None = None
) -> Audit:
    """Judge every listed object; ``sink`` sees each result (and problem) as it comes."""
    audit = Audit(sink=sink)
    if options.report:
        audit.reports = ReportBuilder()
    if options.cleanup:
        audit.cleanup = CleanupCollector(*_history_bounds(policy))
    for resource in (CRONJOBS, JOBS):
        for ns in _scopes(options):
            if audit.unreachable:
                return audit
            _stream(audit, cluster, policy, options, resource, ns)
    for note in cluster.notes:
        audit.problem("audit", note, Severity.WARNING)
    if audit.cleanup is not None and not audit.unreachable:
        _count_pods(audit, cluster, options)
    return audit


def now_utc() -> datetime:
    return datetime.now(UTC)
