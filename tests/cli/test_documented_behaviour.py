"""What the README and docs/ say about lint, held to the real command's output: the README's
JSON example, JG101's category in the catalogue and the output, a policy conflict reported in
the user's file, and ``--fix`` editing a JSON manifest (docs/ci.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from jobguard.cli import main

ROOT = Path(__file__).resolve().parents[2]
OMITTED = ROOT / "examples" / "bad" / "restart-policy-omitted.yaml"


def jobguard(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def test_the_readme_json_example_is_what_lint_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```json\n(\{\"version\": 1,\n \"findings\".*?)\n```", readme, re.S)
    assert block is not None
    (documented,) = json.loads(block.group(1))["findings"]
    result = jobguard(
        "lint",
        "--no-config",
        "--format",
        "json",
        "--stdin-filename",
        "k8s/job.yaml",
        "-",
        stdin=OMITTED.read_text(),
    )
    printed = next(
        f for f in json.loads(result.stdout)["findings"] if f["rule"] == "restart-policy"
    )
    assert printed == documented


def test_jg101_is_a_policy_rule_whose_api_finding_the_catalogue_explains() -> None:
    listed = json.loads(jobguard("rules", "--format", "json").stdout)["rules"]
    restart = next(r for r in listed if r["code"] == "JG101")
    assert (restart["category"], restart["stands_for"]) == ("policy", ["api-restart-policy"])
    explained = jobguard("explain", "JG101").stdout
    assert "Stands for: api-restart-policy." in explained
    assert "with category api" in explained
    result = jobguard("lint", "--no-config", "--format", "json", str(OMITTED))
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "JG101"]
    assert finding["category"] == "api"


def test_a_policy_conflict_is_reported_in_the_file_that_made_it(tmp_path: Path) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(
        "apiVersion: jobguard.dev/v1\nkind: Policy\nextends: [jobguard:default]\n"
        "rules:\n  backoff-limit: {max: 3}\n"
    )
    result = jobguard("lint", "--policy", str(policy), str(OMITTED))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{policy}:5:3: rules.backoff-limit: default (6) must not exceed max (3) "
        "(default comes from jobguard:default)",
        "error: the policy has errors; nothing was linted",
    ]


def test_fix_edits_a_json_manifest_and_it_stays_json(tmp_path: Path) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job, indent=2) + "\n")
    result = jobguard("lint", "--no-config", "--fix", str(path))
    assert f"fixed {path}" in result.stderr
    fixed = json.loads(path.read_text())
    assert fixed["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert fixed["spec"]["ttlSecondsAfterFinished"] == 259200


def test_docs_no_longer_describe_a_round_trip_yaml_library() -> None:
    for page in ("README.md", "docs/ci.md", "pyproject.toml"):
        assert "ruamel" not in (ROOT / page).read_text(), page
