"""What a first run of ``jobguard lint`` meets: rule selection, ``--diff`` for git, the rule
catalogue, did-you-mean hints and ``--fix`` beside a misspelt key. Each test runs the real
command (click's runner in-process, or a subprocess where git or the working directory matter).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from jobguard.cli import main
from jobguard.core.fixplan import applies
from jobguard.core.model import SetValue
from jobguard.core.paths import MISSING, lookup
from jobguard.lint.linter import lint_bytes
from jobguard.policy import load_policy
from tests.helpers import RULE_FIXTURES, git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OMITTED = EXAMPLES / "bad" / "restart-policy-omitted.yaml"
RESTART_PATH = "spec.template.spec.restartPolicy"


def lint(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["lint", "--no-config", *args], input=stdin)


def findings(result: Result) -> list[tuple[str, str, str]]:
    """(rule, category, path) of a ``--format json`` run."""
    report = json.loads(result.stdout)
    return [(f["rule"], f["category"], f["path"]) for f in report["findings"]]


# -- 1. selecting rules never hides what the API server rejects --------------------------------


def test_selecting_the_api_rule_shows_the_merged_restart_policy_error() -> None:
    result = lint("--format", "json", "--select", "api-restart-policy", str(OMITTED))
    assert result.exit_code == 1, result.output
    # One finding, the policy rule's (it carries the fix), answering to the api rule's name.
    assert findings(result) == [("restart-policy", "api", RESTART_PATH)]


def test_ignoring_the_policy_rule_keeps_the_api_rejection() -> None:
    result = lint("--format", "json", "--ignore", "restart-policy", str(OMITTED))
    assert result.exit_code == 1, result.output
    assert ("restart-policy", "api", RESTART_PATH) in findings(result)
    both = lint("--format", "json", "--ignore", "restart-policy,JG004", str(OMITTED))
    assert [f for f in findings(both) if f[2] == RESTART_PATH] == []


def test_selecting_every_api_rule_reports_every_api_error_of_the_examples() -> None:
    catalogue = json.loads(CliRunner().invoke(main, ["rules", "--format", "json"]).stdout)
    api_rules = ",".join(r["name"] for r in catalogue["rules"] if r["category"] == "api")
    everything = lint("--format", "json", str(EXAMPLES))
    api_errors = sorted(f for f in findings(everything) if f[1] == "api")
    assert len(api_errors) >= 20
    selected = lint("--format", "json", "--select", api_rules, str(EXAMPLES))
    assert sorted(findings(selected)) == api_errors


# -- 2. --diff that git applies, and paths without ./ ---------------------------------------


def test_diff_of_the_current_folder_applies_with_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(OMITTED, repo / "job.yaml")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "job")
    jobguard = [sys.executable, "-m", "jobguard"]
    diff = subprocess.run(
        [*jobguard, "lint", "--no-config", "--diff", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.startswith("--- a/job.yaml\n+++ b/job.yaml\n")
    (repo / "fix.patch").write_text(diff.stdout)
    git(repo, "apply", "--check", "fix.patch")  # raises when git refuses it
    text = subprocess.run(
        [*jobguard, "lint", "--no-config", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "job.yaml:" in text.stdout
    assert "./job.yaml" not in text.stdout


def test_a_dotted_path_given_by_name_diffs_with_a_clean_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(OMITTED, tmp_path / "job.yaml")
    monkeypatch.chdir(tmp_path)
    result = lint("--diff", "./job.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/job.yaml\n+++ b/job.yaml\n")


# -- 3. every code the linter emits is in the catalogue ----------------------------------------

DEPLOYED = """\
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 2
  ttlSecondsAfterFinished: 600
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: migrate:1.0
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
"""


@pytest.fixture()
def updated(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(DEPLOYED)
    new.write_text(DEPLOYED.replace("migrate:1.0", "migrate:1.1"))
    return old, new


def test_explain_knows_api_job_update() -> None:
    for name in ("JG030", "jg030", "api-job-update"):
        result = CliRunner().invoke(main, ["explain", name])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("JG030 api-job-update (api, default action: deny)")


def test_ignore_accepts_api_job_update(updated: tuple[Path, Path]) -> None:
    old, new = updated
    reported = lint("--format", "json", "--old", str(old), str(new))
    assert reported.exit_code == 1
    assert ("api-job-update", "api", "spec.template") in findings(reported)
    ignored = lint("--format", "json", "--old", str(old), str(new), "--ignore", "api-job-update")
    assert ignored.exit_code == 0, ignored.output
    assert [f for f in findings(ignored) if f[0] == "api-job-update"] == []


def test_a_policy_can_turn_api_job_update_into_a_warning(
    updated: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = updated
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n  api-job-update: {action: warn}\n"
    )
    result = lint("--format", "json", "--policy", str(policy), "--old", str(old), str(new))
    assert result.exit_code == 0
    (update,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "api-job-update"]
    assert update["severity"] == "warning"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_every_renderer_names_a_catalogued_rule(fmt: str, updated: tuple[Path, Path]) -> None:
    from jobguard.rules import CATALOGUE

    old, new = updated
    result = lint("--format", fmt, "--old", str(old), str(new))
    assert result.exit_code == 1, result.output
    assert "JG030" in result.stdout or "api-job-update" in result.stdout
    if fmt == "sarif":
        run = json.loads(result.stdout)["runs"][0]
        listed = [r["id"] for r in run["tool"]["driver"]["rules"]]
        assert listed == [r.code for r in CATALOGUE]
        for item in run["results"]:
            assert listed[item["ruleIndex"]] == item["ruleId"]
        assert "JG030" in {item["ruleId"] for item in run["results"]}


def test_the_catalogue_holds_every_code_jobguard_can_emit() -> None:
    """Every rule module, the update rule and the engine's internal-error are catalogued; codes
    and names are unique, and ``jobguard rules`` lists them by code."""
    from jobguard.core.engine import INTERNAL_ERROR_RULE
    from jobguard.lint.updates import RULE as UPDATE_RULE
    from jobguard.rules import CATALOGUE, REGISTRY, find_rule

    modules = sorted(
        p.stem for p in (ROOT / "jobguard" / "rules").glob("*.py") if not p.stem.startswith("_")
    )
    declared = {}
    for stem in modules:
        module = __import__(f"jobguard.rules.{stem}", fromlist=["CODE"])
        if hasattr(module, "CODE"):  # base and custom (a policy's own rules) declare none
            declared[module.CODE] = module.NAME
    assert {r.code: r.name for r in CATALOGUE} == declared
    assert {r.name for r in REGISTRY.rules} | {INTERNAL_ERROR_RULE} == set(declared.values())
    assert find_rule(UPDATE_RULE.code) is UPDATE_RULE
    assert find_rule("JG000") is not None and find_rule("JG000").name == INTERNAL_ERROR_RULE  # type: ignore[union-attr]
    listed = CliRunner().invoke(main, ["rules"]).stdout.splitlines()
    codes = [line.split()[0] for line in listed if line.startswith("JG")]
    assert codes == sorted(declared)


# -- 4. a did-you-mean only offers a field that makes sense there ------------------------------

SCHEDULED_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""


def api_structure(result: Result) -> list[dict[str, Any]]:
    report = json.loads(result.stdout)
    return [f for f in report["findings"] if f["rule"] == "api-structure"]


@pytest.mark.parametrize("version", ["1.36", "1.37"])
def test_a_schedule_in_a_job_gets_the_cronjob_hint_not_a_rename(version: str) -> None:
    result = lint("--format", "json", "--kubernetes-version", version, "-", stdin=SCHEDULED_JOB)
    (finding,) = api_structure(result)
    assert finding["path"] == "spec.schedule"
    assert finding["message"] == (
        'strict decoding error: unknown field "spec.schedule" (schedule is a CronJob field: a '
        "Job runs once, when it is created; to run it on a schedule, write a kind: CronJob "
        "with this Job spec under spec.jobTemplate.spec)"
    )
    assert finding["fix"] is None
    assert "scheduling" not in lint("-", stdin=SCHEDULED_JOB).stdout


def test_a_job_field_in_a_cronjob_spec_is_told_where_it_goes() -> None:
    cronjob = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  backoffLimit: 2
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox:1.36}]
"""
    (finding,) = api_structure(lint("--format", "json", "-", stdin=cronjob))
    assert finding["path"] == "spec.backoffLimit"
    assert finding["message"].endswith(
        "(backoffLimit is a Job field: in a CronJob it goes under spec.jobTemplate.spec)"
    )
    assert finding["fix"] is None


def test_a_rename_is_offered_only_to_a_field_of_the_target_version() -> None:
    # "schedulng" (an object) is closest to JobSpec.scheduling, which Kubernetes 1.37 added.
    job = SCHEDULED_JOB.replace('  schedule: "0 3 * * *"', "  schedulng: {}")
    (old,) = api_structure(lint("--format", "json", "--kubernetes-version", "1.36", "-", stdin=job))
    assert old["message"] == 'strict decoding error: unknown field "spec.schedulng"'
    assert old["fix"] is None
    (new,) = api_structure(lint("--format", "json", "--kubernetes-version", "1.37", "-", stdin=job))
    assert new["message"].endswith('; did you mean "scheduling"?')
    assert new["fix"]["title"] == 'rename "schedulng" to "scheduling"'
    assert new["fix"]["safe"] is False


def test_a_rename_needs_a_field_that_takes_the_value() -> None:
    # A boolean is no misspelt completionMode (a string) nor completions (an integer).
    job = SCHEDULED_JOB.replace('  schedule: "0 3 * * *"', "  completionmode: true")
    (finding,) = api_structure(lint("--format", "json", "-", stdin=job))
    assert finding["message"] == 'strict decoding error: unknown field "spec.completionmode"'
    assert finding["fix"] is None
    job = SCHEDULED_JOB.replace('  schedule: "0 3 * * *"', "  completionmode: Indexed")
    (finding,) = api_structure(lint("--format", "json", "-", stdin=job))
    assert finding["message"].endswith('; did you mean "completionMode"?')


# -- 5. no default written beside a misspelt key -----------------------------------------------

TYPO_RESTART = """\
apiVersion: batch/v1
kind: Job
metadata: {name: typo}
spec:
  template:
    spec:
      restartpolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""


def test_fix_writes_no_restart_policy_beside_its_misspelling(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(TYPO_RESTART)
    lint("--fix", str(path))
    fixed = path.read_text()
    assert "      restartpolicy: Never\n" in fixed
    assert "restartPolicy" not in fixed
    after = lint("--format", "json", str(path))
    by_rule = {f["rule"]: f for f in json.loads(after.stdout)["findings"]}
    assert by_rule["api-structure"]["fix"]["title"] == 'rename "restartpolicy" to "restartPolicy"'
    assert by_rule["restart-policy"]["fix"] is None
    assert (
        "'restartpolicy' beside it looks like a misspelling"
        in (by_rule["restart-policy"]["message"])
    )


FIXTURES = sorted(RULE_FIXTURES.glob("*/*.yaml"))
POLICIES = ["jobguard:default", "jobguard:strict"]


def _defaulting_edits(data: Any, policy_name: str) -> list[tuple[tuple[Any, ...], Any]]:
    raw = yaml.safe_dump(data).encode()
    result = lint_bytes("x.yaml", raw, load_policy([policy_name]))
    out = []
    for obj in result.objects:
        for lf in obj.findings:
            if not applies(lf.finding) or lf.finding.fix is None:
                continue
            for edit in lf.finding.fix.edits:
                if isinstance(edit, SetValue) and lookup(data, edit.path) is MISSING:
                    out.append((edit.path, edit.value))
    return out


@pytest.mark.parametrize("policy_name", POLICIES)
def test_no_defaulting_fix_of_any_rule_lands_beside_a_misspelt_key(policy_name: str) -> None:
    """Over the rule fixtures: every safe fix that writes a field the manifest left out is held
    back once a misspelling of that field (its name in lower case) sits beside it."""
    checked = 0
    for fixture in FIXTURES:
        try:
            docs = list(yaml.safe_load_all(fixture.read_text()))
        except yaml.YAMLError:
            continue
        for data in docs:
            if not isinstance(data, dict) or data.get("kind") not in ("Job", "CronJob"):
                continue
            for path, value in _defaulting_edits(data, policy_name):
                name = path[-1]
                if not isinstance(name, str) or name.lower() == name:
                    continue
                parent = lookup(data, path[:-1])
                if not isinstance(parent, dict):
                    continue
                typo = json.loads(json.dumps(data))
                lookup(typo, path[:-1])[name.lower()] = value
                written = [p for p, _ in _defaulting_edits(typo, policy_name)]
                assert path not in written, (fixture.name, path)
                checked += 1
    assert checked >= 50  # not vacuous: many defaulting fixes were tried


CUSTOM_POLICY = """\
apiVersion: jobguard.dev/v1
kind: Policy
custom_rules:
  - name: team-label
    code: JGC001
    description: Every Job names its owning team.
    validations:
      - expression: "'team' in object.metadata.?labels.orValue({})"
        message: every Job needs a team label
        path: metadata.labels
"""


def test_a_policys_custom_rules_are_in_sarif_and_selectable(tmp_path: Path) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(CUSTOM_POLICY)
    result = lint("--format", "sarif", "--policy", str(policy), str(OMITTED))
    run = json.loads(result.stdout)["runs"][0]
    listed = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "JGC001" in listed
    for item in run["results"]:
        assert listed[item["ruleIndex"]] == item["ruleId"]
    assert "JGC001" in {item["ruleId"] for item in run["results"]}
    selected = lint(
        "--format", "json", "--policy", str(policy), "--select", "team-label", str(OMITTED)
    )
    assert selected.exit_code == 1, selected.output
    assert [f[0] for f in findings(selected)] == ["team-label"]
