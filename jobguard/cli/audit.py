"""``jobguard audit``: the rules over the Jobs and CronJobs a cluster already stores."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from jobguard.audit.cluster import Cluster
    from jobguard.audit.run import Audit
    from jobguard.lint.linter import InputProblem, ObjectResult

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FORMATS = ["text", "json", "sarif", "junit"]


def _missing_kubeconfig(given: str | None, env: Mapping[str, str]) -> str | None:
    """Which kubeconfig file is missing, named as the user gave it, or None when one exists
    (the kubernetes client only says "Invalid kube-config file. No configuration found.")."""
    if given is not None:
        return None if os.path.isfile(given) else f"--kubeconfig {given}: no such file"
    from_env = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if from_env:
        if any(os.path.isfile(p) for p in from_env):
            return None
        return f"KUBECONFIG={env['KUBECONFIG']}: no such file (give --kubeconfig or --in-cluster)"
    default = os.path.expanduser("~/.kube/config")
    if os.path.isfile(default):
        return None
    return f"no kubeconfig: {default} does not exist (give --kubeconfig or --in-cluster)"


@click.command(short_help="Judge the Jobs and CronJobs a cluster stores, as the webhook would.")
@click.option(
    "-n",
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Audit this namespace (repeat for more). Default: all namespaces.",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Policy file; repeat to layer. Default: the bundled default policy.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
    help="Lowest finding severity that makes the exit code 1.",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even with findings (failed lists or writes still exit 2): for a scheduled "
    "audit whose findings are its report.",
)
@click.option("--context", "kube_context", metavar="NAME", help="kubeconfig context to use.")
@click.option(
    "--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."
)
@click.option("--in-cluster", is_flag=True, help="Use the pod's service account.")
@click.option(
    "--kubernetes-version",
    default=None,
    metavar="MAJOR.MINOR|auto",
    help="API server version the version-dependent rules emulate (default: auto, the "
    "cluster's own, as it answers /version).",
)
@click.option(
    "--report",
    is_flag=True,
    help="Write PolicyReport / ClusterPolicyReport objects (wgpolicyk8s.io/v1alpha2).",
)
@click.option(
    "--cleanup",
    is_flag=True,
    help="List finished Jobs nothing deletes, per namespace, and CronJobs keeping too much history.",
)
@click.option(
    "--fix", is_flag=True, help="Plan the safe fixes live objects accept (see --dry-run / --apply)."
)
@click.option(
    "--dry-run/--apply",
    "dry_run",
    default=True,
    help="With --fix: print the patches (default) or send them.",
)
@click.option(
    "--page-size",
    default=500,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Objects per list request.",
)
def audit(
    namespaces: tuple[str, ...],
    policies: tuple[str, ...],
    fmt: str,
    fail_on: str,
    exit_zero: bool,
    kube_context: str | None,
    kubeconfig: str | None,
    in_cluster: bool,
    kubernetes_version: str | None,
    report: bool,
    cleanup: bool,
    fix: bool,
    dry_run: bool,
    page_size: int,
) -> None:
    """Judge the Jobs and CronJobs stored in a cluster as the webhook would judge them today.

    Exit codes as for lint: 0 no findings at or above --fail-on, 1 such findings, 2 usage or
    policy errors, or a list or write that failed (a 403, an unreachable API server).
    """
    from jobguard.cli.extras import require_extra

    require_extra("server", "audit")

    from jobguard.audit.cluster import Cluster, ClusterError
    from jobguard.audit.run import AuditOptions, now_utc, run_audit
    from jobguard.cli.policy_files import kubernetes_version_setting, load_policy_or_exit
    from jobguard.webhook.cluster_version import target_version

    if in_cluster and (kubeconfig or kube_context):
        raise click.UsageError("--in-cluster does not take --kubeconfig or --context")
    # None (the default, or "auto"): ask the cluster.
    setting = None if kubernetes_version is None else kubernetes_version_setting(kubernetes_version)
    policy = load_policy_or_exit(policies, "nothing was audited")
    missing = None if in_cluster else _missing_kubeconfig(kubeconfig, os.environ)
    if missing is not None:
        click.echo(f"error: {missing}; nothing was audited", err=True)
        sys.exit(EXIT_USAGE)
    try:
        cluster = Cluster.connect(
            kubeconfig=kubeconfig, context=kube_context, in_cluster=in_cluster
        )
    except ClusterError as exc:
        click.echo(f"error: {exc}; nothing was audited", err=True)
        sys.exit(EXIT_USAGE)
    version = target_version(setting, lambda line: click.echo(line, err=True), cluster.version)
    options = AuditOptions(
        namespaces=namespaces,
        kubernetes_version=version,
        cleanup=cleanup,
        fix=fix,
        report=report,
        page_size=page_size,
        keep_results=fmt in ("sarif", "junit"),
    )
    now = now_utc()
    streamed: TextSink | JsonSink | None = (
        TextSink() if fmt == "text" else JsonSink() if fmt == "json" else None
    )
    result = run_audit(cluster, policy, options, streamed)
    extra: dict[str, Any] = {"verdicts": dict(sorted(result.verdicts.items()))}
    if cleanup and result.cleanup is not None:
        extra["cleanup"] = result.cleanup.as_dict(now)
    if fix:
        extra["fixes"] = _send_fixes(cluster, result, apply=not dry_run)
    if report:
        extra["reports"] = _write_reports(cluster, result, now)
    if isinstance(streamed, JsonSink):  # the other sink is a TextSink
        streamed.finish(result, extra)
    elif streamed is not None:
        click.echo(_text_tail(result, extra, now, after_lines=streamed.lines > 0), nl=False)
    else:
        click.echo(_render(result, fmt, policy, fail_on, extra), nl=False)
    code = _exit_code(result, fail_on, extra)
    sys.exit(EXIT_OK if exit_zero and code == EXIT_FINDINGS else code)


def _send_fixes(cluster: Cluster, result: Audit, *, apply: bool) -> list[dict[str, Any]]:
    from jobguard.audit.cluster import ClusterError

    done = []
    for fix in result.fixes:
        entry: dict[str, Any] = {
            "kind": fix.kind,
            "namespace": fix.namespace,
            "name": fix.name,
            "changes": list(fix.changes),
            "refused": list(fix.refused),
            "patch": list(fix.body),
            "outcome": "nothing to change" if fix.empty else ("would patch" if not apply else ""),
        }
        if apply and not fix.empty:
            try:
                cluster.patch_json(fix.kind, fix.namespace, fix.name, list(fix.body))
                entry["outcome"] = "patched"
            except ClusterError as exc:
                entry["outcome"] = f"failed: {exc}"
        done.append(entry)
    return done


def _write_reports(cluster: Cluster, result: Audit, now: datetime) -> dict[str, Any]:
    from jobguard.audit.cluster import ClusterError

    seconds = int(now.timestamp())
    try:
        cluster.check_reports_installed()
    except ClusterError as exc:
        return {"error": str(exc), "written": []}
    assert result.reports is not None  # built whenever --report is given
    reports = [result.reports.namespace_report(ns, seconds) for ns in result.reports.namespaces]
    reports.append(result.reports.cluster_report(seconds))
    written, errors = [], []
    for body in reports:
        meta = body["metadata"]
        shown = f"{body['kind']} {meta.get('namespace', '') + '/' if meta.get('namespace') else ''}{meta['name']}"
        try:
            written.append(f"{shown} {cluster.put_report(body)}")
        except ClusterError as exc:
            errors.append(str(exc))
    return {"written": written, "error": "; ".join(errors) if errors else None}


def _render(result: Audit, fmt: str, policy: Any, fail_on: str, extra: dict[str, Any]) -> str:
    """SARIF or JUnit, which need every object's result at once (kept for them only)."""
    from pathlib import Path

    lint_result = result.result
    if fmt == "sarif":
        from jobguard.render import sarif
        from jobguard.rules import CATALOGUE

        return sarif.render(
            lint_result, policy, (*CATALOGUE, *policy.custom_rules), base=Path.cwd()
        )
    from jobguard.core.model import Severity
    from jobguard.render import junit

    order = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    return junit.render(lint_result, failing=order[: order.index(Severity(fail_on)) + 1])


class TextSink:
    """Text written as the audit goes: each object's findings once its page is judged, each
    problem where it happened; nothing of an object stays once it is written."""

    def __init__(self) -> None:
        self.lines = 0

    def object(self, obj: ObjectResult) -> None:
        for located in obj.findings:
            # One line per finding as lint prints it, with Kind/namespace/name for file:line.
            f = located.finding
            self._echo(f"{obj.file}: {f.severity.value} {f.rule} {f.field}: {f.message}")
            if f.fix is not None:
                kind = "fix" if f.fix.safe else "suggested fix (unsafe)"
                self._echo(f"    {kind}: {f.fix.title}")

    def problem(self, problem: InputProblem) -> None:
        from jobguard.lint.linter import FileResult, LintResult
        from jobguard.render import text

        one = LintResult(files=[FileResult(problem.file, problems=(problem,))])
        for line in text.problem_lines(one, colour=False):
            self._echo(line)

    def page_done(self) -> None:
        sys.stdout.flush()

    def _echo(self, line: str) -> None:
        self.lines += 1
        click.echo(line)


class JsonSink:
    """The JSON report, its ``findings`` array written as the audit goes.

    The document is byte for byte what ``json.dumps(doc, indent=2)`` of the whole report
    gives: each finding is dumped on its own and indented to its depth in the array, and the
    keys after ``findings`` (problems, summary, verdicts...) are dumped once the audit is done.
    """

    def __init__(self) -> None:
        self.findings = 0
        click.echo('{\n  "version": 1,\n  "findings": [', nl=False)

    def object(self, obj: ObjectResult) -> None:
        from jobguard.render.json_report import finding_dict

        for located in obj.findings:
            item = json.dumps(finding_dict(obj, located), indent=2, ensure_ascii=False)
            lead = ",\n" if self.findings else "\n"
            click.echo(lead + item.replace("\n", "\n    ").join(["    ", ""]), nl=False)
            self.findings += 1

    def problem(self, problem: InputProblem) -> None:
        pass  # listed after the findings

    def page_done(self) -> None:
        sys.stdout.flush()

    def finish(self, result: Audit, extra: dict[str, Any]) -> None:
        rest = {"problems": _problem_dicts(result), "summary": _summary(result), **extra}
        tail = json.dumps(rest, indent=2, ensure_ascii=False)
        click.echo(("\n  ]" if self.findings else "]") + "," + tail[1:] + "\n", nl=False)


def _problem_dicts(result: Audit) -> list[dict[str, Any]]:
    from jobguard.lint.linter import LintResult
    from jobguard.render.json_report import report_dict

    problems: list[dict[str, Any]] = report_dict(LintResult(files=result.result.files))["problems"]
    return problems


def _summary(result: Audit) -> dict[str, Any]:
    """The JSON report's summary (same keys, same order) from the audit's counts."""
    from jobguard.core.model import Severity
    from jobguard.lint.linter import LintResult
    from jobguard.render.json_report import summary

    doc = summary(LintResult(files=[f for f in result.result.files if not f.objects]))
    counts = {
        "files": result.locations,
        "objects": result.tally.objects,
        "errors": result.count(Severity.ERROR),
        "warnings": result.count(Severity.WARNING),
        "infos": result.count(Severity.INFO),
        "suppressed": result.tally.suppressed,
        "exempted": result.tally.exempted,
    }
    return {key: counts.get(key, value) for key, value in doc.items()}


def _text_tail(result: Audit, extra: dict[str, Any], now: datetime, *, after_lines: bool) -> str:
    """What text prints after the streamed findings: cleanup, fixes, reports, the summary."""
    from jobguard.core.model import Severity
    from jobguard.render import text

    lines: list[str] = []
    if result.cleanup is not None:
        lines += [""] if after_lines else []
        lines += result.cleanup.text(now)
    for fix in extra.get("fixes", []):
        where = f"{fix['kind']} {fix['namespace']}/{fix['name']}"
        lines.append(f"fix {where}: {fix['outcome']}")
        lines += [f"    {change}" for change in fix["changes"]]
        lines += [f"    left out: {why}" for why in fix["refused"]]
        if fix["patch"]:
            lines.append("    JSON Patch: " + json.dumps(fix["patch"], separators=(",", ":")))
    reports = extra.get("reports")
    if reports is not None:
        lines += reports["written"]
        if reports["error"]:
            lines.append(f"error: --report: {reports['error']}")
    objects = result.tally.objects
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(result.verdicts.items())) or "none"
    lines.append(
        f"{text.plural(objects, 'Job/CronJob', 'Jobs/CronJobs')} audited (webhook verdicts: {verdicts}): "
        f"{text.plural(result.count(Severity.ERROR), 'error')}, "
        f"{text.plural(result.count(Severity.WARNING), 'warning')}, "
        f"{text.plural(result.count(Severity.INFO), 'info')}"
        + (f", {text.plural(len(result.problems), 'problem')}" if result.problems else "")
    )
    return "\n".join(lines) + "\n"


def _exit_code(result: Audit, fail_on: str, extra: dict[str, Any]) -> int:
    from jobguard.core.model import Severity

    if any(p.severity is Severity.ERROR for p in result.problems):
        return EXIT_USAGE
    reports = extra.get("reports")
    if reports is not None and reports["error"]:
        return EXIT_USAGE
    if any(f["outcome"].startswith("failed") for f in extra.get("fixes", [])):
        return EXIT_USAGE
    order = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    if any(result.count(s) for s in order[: order.index(Severity(fail_on)) + 1]):
        return EXIT_FINDINGS
    return EXIT_OK
