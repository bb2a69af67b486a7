"""A rule that crashes on an object: ``on_rule_error: deny`` denies it (fail closed), the
default ``warn`` allows it with a warning; a bad value is a policy error."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jobguard.policy import PolicyError, load_policy
from jobguard.rules import validating_rules
from jobguard.webhook import admission, responses
from jobguard.webhook.app import create_app
from jobguard.webhook.settings import Settings
from tests.webhook.support import fixture_object, review_for

POLICY = """\
apiVersion: jobguard.dev/v1
kind: Policy
on_rule_error: {mode}
rules:
  restart-policy: {{action: deny, allowed: [Never, OnFailure]}}
"""

MESSAGE = (
    "rule backoff-limit failed on this object (RuntimeError: crafted to crash); please report it"
)


@pytest.fixture
def crashing_backoff_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: Any) -> Any:
        raise RuntimeError("crafted to crash")

    rules = validating_rules()
    crashing = replace(
        rules,
        rules=tuple(
            r if r.name != "backoff-limit" else replace(r, check=crash) for r in rules.rules
        ),
    )
    monkeypatch.setattr(admission, "validating_rules", lambda: crashing)


def validate(tmp_path: Path, mode: str, metrics: list[str] | None = None) -> dict[str, Any]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(mode=mode))
    app = create_app(Settings(policy_paths=(str(policy),)))
    client = app.test_client()
    scrape = app.extensions["jobguard"].metrics.exposition  # what the metrics port serves
    if metrics is not None:
        metrics.append(scrape()[0].decode())
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    review = review_for(obj)
    r = client.post("/validate", data=json.dumps(review), content_type="application/json")
    assert r.status_code == 200
    if metrics is not None:
        metrics.append(scrape()[0].decode())
    response: dict[str, Any] = r.get_json()["response"]
    assert response.pop("uid") == review["request"]["uid"]
    return response


def test_a_crashing_rule_denies_under_on_rule_error_deny(
    tmp_path: Path, crashing_backoff_limit: None
) -> None:
    response = validate(tmp_path, "deny")
    assert response["allowed"] is False
    assert response["status"] == {
        "code": 403,
        "reason": "Forbidden",
        "message": f"jobguard policy: [internal-error] (object): {MESSAGE}",
    }


def test_a_crashing_rule_warns_by_default(tmp_path: Path, crashing_backoff_limit: None) -> None:
    response = validate(tmp_path, "warn")
    assert response["allowed"] is True
    assert "status" not in response
    assert response["warnings"][0] == responses.warning(
        "jobguard internal-error: (object)", MESSAGE
    )
    assert response["warnings"][0].startswith(
        "jobguard internal-error: (object): rule backoff-limit"
    )


def test_on_rule_error_defaults_to_warn_and_rejects_other_values(tmp_path: Path) -> None:
    assert load_policy([]).deny_on_rule_error is False
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(mode="deny"))
    assert load_policy([str(policy)]).deny_on_rule_error is True
    policy.write_text(POLICY.format(mode="block"))
    with pytest.raises(PolicyError) as raised:
        load_policy([str(policy)])
    assert "on_rule_error: must be one of warn, deny, not 'block'" in str(raised.value)


def test_the_object_cannot_suppress_its_own_fail_closed_denial(
    tmp_path: Path, crashing_backoff_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fixture_object

    def annotated(name: str) -> dict[str, Any]:
        obj = original(name)
        obj["metadata"].setdefault("annotations", {})["suppress.jobguard.dev/internal-error"] = (
            "let me through"
        )
        return obj

    monkeypatch.setattr(sys.modules[__name__], "fixture_object", annotated)
    assert validate(tmp_path, "deny")["allowed"] is False


def test_the_fail_closed_overlay_layers_on_rule_error_deny() -> None:
    root = Path(__file__).resolve().parents[2]
    overlay = root / "deploy" / "overlays" / "fail-closed"
    layered = load_policy(
        [str(root / "policies" / "default.yaml"), str(overlay / "on-rule-error.yaml")]
    )
    assert layered.deny_on_rule_error is True
    assert (
        "--policy=/etc/jobguard/policy/on-rule-error.yaml"
        in (overlay / "kustomization.yaml").read_text()
    )


def test_rule_crashes_are_counted_in_the_metrics(
    tmp_path: Path, crashing_backoff_limit: None
) -> None:
    scraped: list[str] = []
    validate(tmp_path, "deny", scraped)
    sample = 'jobguard_findings_total{action="deny",rule="internal-error",webhook="validate"}'
    before, after = scraped
    assert sample not in before
    assert f"{sample} 1.0" in after
    crashed = 'jobguard_rule_errors_total{rule="backoff-limit",webhook="validate"}'
    assert crashed not in before
    assert f"{crashed} 1.0" in after
