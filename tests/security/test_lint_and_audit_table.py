"""The adversarial table for ``jobguard lint`` (a file) and ``jobguard audit`` (a cluster: the
real kubernetes client against the stand-in API server of tests/audit, not a cluster), on the
objects of the captured requests (tests/security/conftest.py), under the bundled strict policy.

Lint judges a manifest as written: it is never a scheduled run, whatever its ownerReferences
say, and an annotation the policy would ignore is reported before the cluster refuses it. Audit
attributes a stored Job to its CronJob only when that CronJob, by uid, is in the listing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from jobguard.cli import main
from jobguard.lint.linter import FileResult
from jobguard.policy import load_policy
from tests.audit.standin import StandIn, running
from tests.helpers import lint_text
from tests.security.conftest import STRICT, captured

FORGED = ("backoff-limit", "spec.backoffLimit", "error")
FORGED_COUNTS = ("completions-parallelism", "spec.parallelism", "error")


def linted(obj: dict[str, Any]) -> FileResult:
    return lint_text(yaml.safe_dump(obj), load_policy([STRICT]))


def found(result: FileResult) -> list[tuple[str, str, str]]:
    return [
        (lf.finding.rule, lf.finding.field, lf.finding.severity.value)
        for o in result.objects
        for lf in o.findings
    ]


# -- lint -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["031", "029"], ids=["forged-owner", "controllers-own-job"])
def test_lint_judges_a_job_claiming_a_cronjob_owner_fully(number: str) -> None:
    obj = captured(number)["request"]["object"]
    obj["spec"].update(backoffLimit=500, parallelism=500)  # 029's own values are fine
    assert obj["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    result = found(linted(obj))
    assert FORGED in result and FORGED_COUNTS in result


def test_lint_reports_a_suppression_the_policy_would_ignore() -> None:
    obj = captured("031")["request"]["object"]
    obj["metadata"]["annotations"] = {"suppress.jobguard.dev/backoff-limit": "reviewed by us"}
    result = linted(obj)
    assert FORGED in found(result)  # not silenced
    [ignored] = [
        lf.finding for o in result.objects for lf in o.findings if lf.finding.rule == "suppression"
    ]
    assert (ignored.code, ignored.field) == (
        "JG100",
        "metadata.annotations[suppress.jobguard.dev/backoff-limit]",
    )
    assert ignored.message == (
        "the suppression of 'backoff-limit' is ignored: it denies, and an object may suppress a "
        "deny rule only where the policy lists it in suppressions.suppressible; an exemption in "
        "the policy file can lift it"
    )


# -- audit ----------------------------------------------------------------------------------------


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with running() as server:
        yield server


def audited(server: StandIn, tmp_path: Path) -> dict[str, Any]:
    kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
    result = CliRunner().invoke(
        main,
        ["audit", "--kubeconfig", str(kubeconfig), "--policy", STRICT, "--format", "json"],
        catch_exceptions=False,
    )
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def job_findings(doc: dict[str, Any], file: str) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["path"], f["severity"]) for f in doc["findings"] if f["file"] == file}


def stored_run() -> dict[str, Any]:
    """028's Job as the cluster stores it, with 500 retries and 500 pods (strict errors)."""
    run: dict[str, Any] = captured("028")["request"]["object"]
    run["spec"].update(backoffLimit=500, parallelism=500)
    return run


def test_audit_judges_a_job_whose_cronjob_owner_does_not_exist_fully(
    stand_in: StandIn, tmp_path: Path
) -> None:
    stand_in.state.add(stored_run())  # its CronJob every-minute is not in the cluster
    forged = captured("030")["request"]["object"]
    forged["spec"].update(backoffLimit=500, parallelism=500)
    stand_in.state.add(forged)
    doc = audited(stand_in, tmp_path)
    for file in ("Job/team/every-minute-29943884", "Job/team/forged-owner"):
        assert {FORGED, FORGED_COUNTS} <= job_findings(doc, file)
    assert doc["verdicts"] == {"deny": 2}


def test_audit_attributes_a_job_to_its_cronjob_only_when_that_cronjob_exists(
    stand_in: StandIn, tmp_path: Path
) -> None:
    run = stored_run()
    cronjob = captured("026")["request"]["object"]
    # The uid the API server gave the CronJob (the scheduled Job's ownerReference names it).
    cronjob["metadata"]["uid"] = run["metadata"]["ownerReferences"][0]["uid"]
    stand_in.state.add(cronjob)
    stand_in.state.add(run)
    doc = audited(stand_in, tmp_path)
    file = "Job/team/every-minute-29943884 (of CronJob every-minute)"
    # The scheduled run: its template is judged on the CronJob, not here.
    assert job_findings(doc, file) == set()
    # Another CronJob of the same name (another uid) does not make it a run.
    cronjob["metadata"]["uid"] = "another-uid"
    stand_in.state.add(cronjob)
    doc = audited(stand_in, tmp_path)
    assert {FORGED, FORGED_COUNTS} <= job_findings(doc, "Job/team/every-minute-29943884")
