"""``lint --fix`` / ``--diff``: byte-exact goldens on commented multi-document files.

The goldens (``tests/ci/fixtures/fix/*.fixed.yaml``) were checked by eye. They pin the fixes of
four rules under ``tests/fixtures/policies/ci-fix.yaml`` only (other rules' findings are filtered
out before fixing), so a rule added elsewhere does not move them; the CLI tests below run every
rule and check properties instead (lints clean of safe fixes, idempotent).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from jobguard.core.model import Action as PolicyAction
from jobguard.core.model import Category, Finding, Fix, SetValue, Severity
from jobguard.lint.fix import detect_indent, plan_fix
from jobguard.lint.linter import FileResult, LocatedFinding, ObjectResult, lint_bytes, lint_file
from jobguard.rules import REGISTRY
from tests.ci.conftest import FIX_FIXTURES, run_jobguard
from tests.helpers import POLICY_FIXTURES, policy_for

FIXABLE = {"restart-policy", "completions-parallelism", "backoff-limit", "ttl-after-finished"}
GOLDEN = ["kubectl-multidoc", "helm-indented", "four-space", "flow-style", "spacing", "markers"]
POLICY = policy_for("ci-fix.yaml")


def only_fixable(result: FileResult) -> FileResult:
    return replace(
        result,
        objects=tuple(
            replace(o, findings=tuple(lf for lf in o.findings if lf.finding.rule in FIXABLE))
            for o in result.objects
        ),
    )


def fixable_pairs(result: FileResult) -> list[tuple[str, str]]:
    return [
        (lf.finding.rule, lf.finding.field)
        for o in result.objects
        for lf in o.findings
        if lf.finding.fix is not None and lf.finding.fix.safe
    ]


def fix_text(name: str, text: str) -> tuple[str, int, str | None]:
    result = only_fixable(lint_bytes(name, text.encode(), POLICY))
    planned = plan_fix(result, text.encode())
    return planned.fixed, planned.applied, planned.refused


@pytest.mark.parametrize("name", GOLDEN)
def test_fix_matches_the_golden_file_byte_for_byte(name: str) -> None:
    source = (FIX_FIXTURES / f"{name}.yaml").read_text()
    fixed, applied, refused = fix_text(f"{name}.yaml", source)
    assert refused is None
    assert applied > 0
    assert fixed == (FIX_FIXTURES / f"{name}.fixed.yaml").read_text()


@pytest.mark.parametrize("name", GOLDEN)
def test_the_fixed_file_lints_clean_of_the_fixed_findings_and_a_second_fix_changes_nothing(
    name: str,
) -> None:
    golden = (FIX_FIXTURES / f"{name}.fixed.yaml").read_text()
    assert fixable_pairs(only_fixable(lint_bytes(name, golden.encode(), POLICY))) == []
    again, applied, refused = fix_text(f"{name}.yaml", golden)
    assert (again, applied, refused) == (golden, 0, None)


def test_the_kubectl_golden_fixes_exactly_the_findings_with_safe_fixes() -> None:
    before = only_fixable(lint_file(str(FIX_FIXTURES / "kubectl-multidoc.yaml"), POLICY))
    assert fixable_pairs(before) == [
        ("restart-policy", "spec.template.spec.restartPolicy"),
        ("completions-parallelism", "spec.completions"),
        ("completions-parallelism", "spec.parallelism"),
        ("backoff-limit", "spec.backoffLimit"),
        ("ttl-after-finished", "spec.ttlSecondsAfterFinished"),
        ("restart-policy", "spec.jobTemplate.spec.template.spec.restartPolicy"),
        ("completions-parallelism", "spec.jobTemplate.spec.completions"),
        ("completions-parallelism", "spec.jobTemplate.spec.parallelism"),
    ]


def test_the_fixed_data_equals_the_webhooks_patch_result() -> None:
    """Document by document, --fix writes what Report.fixed() (the mutating webhook) produces."""
    from jobguard.core.engine import evaluate
    from jobguard.core.subject import Subject
    from jobguard.yamlsource import parse_stream

    source = (FIX_FIXTURES / "kubectl-multidoc.yaml").read_bytes()
    golden = (FIX_FIXTURES / "kubectl-multidoc.fixed.yaml").read_bytes()
    fixable_rules = REGISTRY.where(lambda r: r.name in FIXABLE)
    before = [d.data for d in parse_stream(source).documents]
    after = [d.data for d in parse_stream(golden).documents]
    expected = []
    for doc in before:
        subject = Subject.manifest(doc)
        expected.append(
            doc if subject is None else evaluate(subject, POLICY, rules=fixable_rules).fixed()[0]
        )
    assert after == expected


def test_only_the_lines_of_the_fixed_fields_change() -> None:
    source = (FIX_FIXTURES / "kubectl-multidoc.yaml").read_text().splitlines()
    golden = (FIX_FIXTURES / "kubectl-multidoc.fixed.yaml").read_text().splitlines()
    removed = [line for line in source if line not in golden]
    added = [line for line in golden if line not in source]
    assert removed == ["          restartPolicy: Always   # wrong for a Job"]
    assert added == [
        "      restartPolicy: Never",
        "  completions: 1",
        "  parallelism: 1",
        "  backoffLimit: 4",
        "  ttlSecondsAfterFinished: 3600",
        "          restartPolicy: Never    # wrong for a Job",
        "      completions: 1",
        "      parallelism: 1",
    ]


def test_crlf_line_endings_and_a_bom_are_kept() -> None:
    source = (FIX_FIXTURES / "four-space.yaml").read_text().replace("\n", "\r\n")
    golden = (FIX_FIXTURES / "four-space.fixed.yaml").read_text().replace("\n", "\r\n")
    fixed, _, refused = fix_text("four-space.yaml", "\ufeff" + source)
    assert refused is None
    assert fixed == "\ufeff" + golden


def test_a_file_without_a_final_newline_keeps_it_that_way() -> None:
    source = (FIX_FIXTURES / "four-space.yaml").read_text().rstrip("\n")
    golden = (FIX_FIXTURES / "four-space.fixed.yaml").read_text().rstrip("\n")
    assert fix_text("four-space.yaml", source)[0] == golden


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("anchors.yaml", "document 1 uses YAML anchors or aliases"),
        ("list.yaml", "document 1 is a kind: List; fix its items by hand"),
        ("duplicate-keys.yaml", "document 1 repeats the key metadata.name; remove one first"),
    ],
)
def test_a_file_that_cannot_be_fixed_safely_is_left_alone_with_a_reason(
    name: str, reason: str
) -> None:
    source = (FIX_FIXTURES / name).read_text()
    result = only_fixable(lint_file(str(FIX_FIXTURES / name), POLICY))
    assert fixable_pairs(result), "the fixture must have something to fix"
    fixed, applied, refused = fix_text(name, source)
    assert (fixed, applied, refused) == (source, 0, reason)


def test_an_edit_through_a_parent_that_is_not_a_map_is_refused() -> None:
    text = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  template: [1, 2]\n"
    finding = Finding(
        rule="restart-policy",
        code="JG101",
        category=Category.POLICY,
        severity=Severity.ERROR,
        action=PolicyAction.DENY,
        path=("spec", "template", "spec", "restartPolicy"),
        message="m",
        fix=Fix("set", (SetValue(("spec", "template", "spec", "restartPolicy"), "Never"),)),
    )
    obj = ObjectResult("x.yaml", 0, "Job", "x", None, 1, (LocatedFinding(finding, 4, 1),))
    planned = plan_fix(FileResult("x.yaml", (obj,)), text.encode())
    assert (planned.fixed, planned.refused) == (
        text,
        "cannot edit /spec/template/spec/restartPolicy: a parent is not a map",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b:\n  - x\n", (2, 2, 0)),  # kubectl
        ("a:\n  b:\n    - x\n", (2, 4, 2)),  # helm
        ("a:\n    b:\n      - name: x\n        c: 1\n", (4, 4, 2)),
        ("a: 1\n", (2, 2, 0)),  # nothing nested: kubectl's style
    ],
)
def test_indentation_is_read_from_the_file(text: str, expected: tuple[int, int, int]) -> None:
    assert detect_indent(text) == expected


# -- the command ------------------------------------------------------------------------------


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    for name in ["kubectl-multidoc.yaml", "anchors.yaml", "job.json"]:
        shutil.copy(FIX_FIXTURES / name, tmp_path / "k8s" / name)
    return tmp_path


def test_cli_diff_prints_the_fix_and_writes_nothing(work: Path) -> None:
    before = {p.name: p.read_bytes() for p in (work / "k8s").iterdir()}
    run = run_jobguard(
        "lint", "--diff", "--policy", str(POLICY_FIXTURES / "ci-fix.yaml"), "k8s", cwd=work
    )
    assert run.returncode == 1, run.stderr
    assert {p.name: p.read_bytes() for p in (work / "k8s").iterdir()} == before
    assert "--- a/k8s/kubectl-multidoc.yaml\n+++ b/k8s/kubectl-multidoc.yaml\n" in run.stdout
    assert "+  ttlSecondsAfterFinished: 3600\n" in run.stdout
    assert (
        "warning: k8s/anchors.yaml: not fixed: document 1 uses YAML anchors or aliases"
        in run.stderr
    )
    # a JSON manifest is fixed in JSON: one line changes, the file stays JSON
    assert (
        '-  "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "busybox"}]}}}\n'
        in run.stdout
    )


def test_cli_fix_writes_reports_what_remains_and_is_idempotent(work: Path) -> None:
    policy = str(POLICY_FIXTURES / "ci-fix.yaml")
    anchors = (work / "k8s" / "anchors.yaml").read_bytes()
    run = run_jobguard("lint", "--fix", "--format", "json", "--policy", policy, "k8s", cwd=work)
    report = json.loads(run.stdout)
    # what remains: the file that could not be fixed still has its restart-policy error
    remaining = sorted(
        (f["file"], f["rule"]) for f in report["findings"] if f["fix"] and f["fix"]["safe"]
    )
    assert ("k8s/kubectl-multidoc.yaml", "restart-policy") not in remaining
    assert ("k8s/anchors.yaml", "restart-policy") in remaining
    assert run.returncode == 1, run.stderr
    original = lint_file(str(FIX_FIXTURES / "kubectl-multidoc.yaml"), POLICY)
    assert report["fixed"] == [
        {"file": "k8s/job.json", "findings": 5},
        {"file": "k8s/kubectl-multidoc.yaml", "findings": len(fixable_pairs(original))},
    ]
    assert {p["file"]: p["message"] for p in report["problems"] if p["severity"] == "warning"} == {
        "k8s/anchors.yaml": "not fixed: document 1 uses YAML anchors or aliases",
    }
    assert (work / "k8s" / "anchors.yaml").read_bytes() == anchors
    fixed_json = json.loads((work / "k8s" / "job.json").read_text())
    assert fixed_json["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert fixed_json["spec"]["ttlSecondsAfterFinished"] == 3600
    fixed = (work / "k8s" / "kubectl-multidoc.yaml").read_bytes()
    assert fixed != (FIX_FIXTURES / "kubectl-multidoc.yaml").read_bytes()
    assert not list((work / "k8s").glob("*.tmp"))
    again = run_jobguard(
        "lint", "--diff", "--policy", policy, "k8s/kubectl-multidoc.yaml", cwd=work
    )
    assert (again.returncode, again.stdout) == (0, "")
    # with only the fixable file, --fix leaves nothing failing: exit 0
    clean = run_jobguard("lint", "--fix", "--policy", policy, "k8s/kubectl-multidoc.yaml", cwd=work)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert (work / "k8s" / "kubectl-multidoc.yaml").read_bytes() == fixed


def test_fix_and_diff_refuse_stdin_and_each_other(work: Path) -> None:
    mixed = run_jobguard("lint", "--fix", "-", "k8s", cwd=work)
    assert mixed.returncode == 2
    assert "--fix - and --diff - read stdin alone" in mixed.stderr
    both = run_jobguard("lint", "--fix", "--diff", "k8s", cwd=work)
    assert both.returncode == 2
    assert "--fix and --diff are alternatives" in both.stderr


def finding_setting(path: tuple[str, ...], value: object) -> Finding:
    return Finding(
        rule="r",
        code="JG999",
        category=Category.POLICY,
        severity=Severity.WARNING,
        action=PolicyAction.WARN,
        path=path,
        message="m",
        fix=Fix("set", (SetValue(path, value),)),
    )


def test_new_strings_that_yaml_1_1_would_misread_are_quoted() -> None:
    text = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n"
    located = tuple(
        LocatedFinding(finding_setting(("metadata", "labels", key), value), 3, 1)
        for key, value in [("a", "on"), ("b", "012"), ("c", "plain"), ("d", "1.5")]
    )
    obj = ObjectResult("x.yaml", 0, "Job", "x", None, 1, located)
    planned = plan_fix(FileResult("x.yaml", (obj,)), text.encode())
    assert planned.refused is None
    assert (
        planned.fixed == text + '  labels:\n    a: "on"\n    b: "012"\n    c: plain\n    d: "1.5"\n'
    )


def test_data_is_compared_with_its_types() -> None:
    from jobguard.lint.fix import same_data

    assert not same_data({"a": True}, {"a": 1})
    assert not same_data([1.0], [1])


def test_fix_through_a_symlink_rewrites_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    shutil.copy(FIX_FIXTURES / "four-space.yaml", target)
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    policy = str(POLICY_FIXTURES / "ci-fix.yaml")
    run = run_jobguard("lint", "--fix", "--policy", policy, "link.yaml", cwd=tmp_path)
    assert "fixed link.yaml (4 findings)" in run.stderr
    assert link.is_symlink()
    assert target.stat().st_mode & 0o777 == 0o640
    fixed = only_fixable(lint_file(str(target), POLICY))
    assert fixable_pairs(fixed) == []
