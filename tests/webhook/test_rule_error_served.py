"""A rule that crashes, in the real server (gunicorn, TLS, two workers): under
``on_rule_error: deny`` the crafted object is denied and the crash is counted by rule; under the
default ``warn`` it is allowed with a warning. The crash is injected at interpreter start-up in
the server's processes (tests/webhook/crashing_rule/sitecustomize.py) for objects with one label,
so ordinary objects on the same server show that nothing else changed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobguard.webhook import responses
from tests.webhook.support import (
    Server,
    SessionCA,
    fixture_object,
    review_for,
    running_server,
)

CRASHING_RULE = Path(__file__).resolve().parent / "crashing_rule"
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
MESSAGE = (
    "rule backoff-limit failed on this object (RuntimeError: crafted to crash); please report it"
)


def crafted(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("labels", {})["jobguard.test/crash"] = "yes"
    return out


def _server(tmp_path: Path, test_ca: SessionCA, on_rule_error: str) -> Iterator[Server]:
    overlay = tmp_path / "on-rule-error.yaml"
    overlay.write_text(
        f"apiVersion: jobguard.dev/v1\nkind: Policy\non_rule_error: {on_rule_error}\n"
    )
    policies = [str(DEFAULT_POLICY), str(overlay)]
    env = {"PYTHONPATH": str(CRASHING_RULE)}
    with running_server(tmp_path / "server", test_ca, policies, env=env) as server:
        yield server


@pytest.fixture
def fail_closed(tmp_path: Path, test_ca: SessionCA) -> Iterator[Server]:
    yield from _server(tmp_path, test_ca, "deny")


@pytest.fixture
def fail_open(tmp_path: Path, test_ca: SessionCA) -> Iterator[Server]:
    yield from _server(tmp_path, test_ca, "warn")


def test_a_crafted_object_is_denied_when_rule_errors_deny(fail_closed: Server) -> None:
    obj = fixture_object("005-validate-Job-CREATE-primes-xrmf7.json")
    assert fail_closed.metric("jobguard_rule_errors_total") == 0.0

    ordinary = fail_closed.review("validate", review_for(obj))["response"]
    assert ordinary["allowed"] is True

    answer = fail_closed.review("validate", review_for(crafted(obj)))["response"]
    assert answer["allowed"] is False
    assert answer["status"] == {
        "code": 403,
        "reason": "Forbidden",
        "message": f"jobguard policy: [internal-error] (object): {MESSAGE}",
    }
    assert (
        fail_closed.metric("jobguard_rule_errors_total", rule="backoff-limit", webhook="validate")
        == 1.0
    )
    assert (
        fail_closed.metric(
            "jobguard_findings_total", rule="internal-error", action="deny", webhook="validate"
        )
        == 1.0
    )


def test_a_crafted_object_is_allowed_with_a_warning_by_default(fail_open: Server) -> None:
    obj = crafted(fixture_object("005-validate-Job-CREATE-primes-xrmf7.json"))
    answer = fail_open.review("validate", review_for(obj))["response"]
    assert answer["allowed"] is True
    assert responses.warning("jobguard internal-error: (object)", MESSAGE) in answer["warnings"]
    assert (
        fail_open.metric("jobguard_rule_errors_total", rule="backoff-limit", webhook="validate")
        == 1.0
    )
