"""Parity: for every object in the captured admission requests, the validating webhook denies
exactly when ``jobguard lint`` reports an error finding, under the same policy files.

The ``api-*`` rules that check what the API server itself rejects are lint's alone: in the
cluster the API server runs those checks before it calls validating webhooks, so the webhook
skips them (``jobguard.rules.validating_rules``) and their findings are not part of its verdict.
Several captured objects are stored ones (``resourceVersion``, generated labels) that lint,
judging them as manifests to create, reports under those rules.

Both sides run for real: ``jobguard serve`` (gunicorn, TLS) and the ``jobguard lint`` command in
a subprocess. Every object is sent as a CREATE review, the case where no oldObject softens the
verdict. Run under the bundled default and strict policies (whatever rules they enable as
rules are added) and under the webhook test policy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobguard.policy.loader import bundled_policy_dir
from jobguard.rules import validating_rules
from tests.webhook.support import (
    Server,
    SessionCA,
    fixture_names,
    load_review,
    review_for,
    running_server,
    webhook_policy_paths,
)


def fixture_objects() -> dict[str, dict[str, Any]]:
    """file name -> object, for every object and oldObject of the captured requests."""
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for name in fixture_names():
        request = load_review(name)["request"]
        for key in ("object", "oldObject"):
            obj = request.get(key)
            if obj is None:
                continue
            text = json.dumps(obj, sort_keys=True)
            if text not in seen:
                seen.add(text)
                found[f"{name.removesuffix('.json')}-{key}.json"] = obj
    return found


OBJECTS = fixture_objects()


def lint_verdicts(directory: Path, policies: list[str]) -> dict[str, bool]:
    """file name -> whether ``jobguard lint`` reports an error finding for it."""
    for name, obj in OBJECTS.items():
        (directory / name).write_text(json.dumps(obj))
    cmd = [sys.executable, "-m", "jobguard", "lint", "--format", "json", str(directory)]
    for p in policies:
        cmd += ["--policy", p]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["problems"] == []
    assert report["summary"]["objects"] == len(OBJECTS)
    in_cluster = {r.name for r in validating_rules().rules}
    errors = {
        Path(f["file"]).name
        for f in report["findings"]
        if f["severity"] == "error" and f["rule"] in in_cluster
    }
    return {name: name in errors for name in OBJECTS}


POLICIES: dict[str, Callable[[Path], list[str]]] = {
    "bundled-default": lambda d: [str(bundled_policy_dir() / "default.yaml")],
    "bundled-strict": lambda d: [str(bundled_policy_dir() / "strict.yaml")],
    "webhook-test": webhook_policy_paths,
}


@pytest.fixture(scope="module", params=sorted(POLICIES))
def parity_case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, test_ca: SessionCA
) -> Iterator[tuple[Server, dict[str, bool]]]:
    directory = tmp_path_factory.mktemp(f"parity-{request.param}")
    policies = POLICIES[request.param](directory)
    lint_dir = directory / "objects"
    lint_dir.mkdir()
    verdicts = lint_verdicts(lint_dir, policies)
    with running_server(directory / "server", test_ca, policies) as server:
        yield server, verdicts


def test_fixture_objects_cover_both_verdicts_under_the_test_policy(tmp_path: Path) -> None:
    verdicts = lint_verdicts(tmp_path, webhook_policy_paths(tmp_path))
    assert True in verdicts.values() and False in verdicts.values()


def test_validating_webhook_denies_exactly_what_lint_reports_as_errors(
    parity_case: tuple[Server, dict[str, bool]],
) -> None:
    server, verdicts = parity_case
    mismatches = []
    for name, obj in OBJECTS.items():
        review = review_for(obj)
        denied = server.review("validate", review)["response"]["allowed"] is False
        if denied != verdicts[name]:
            mismatches.append(f"{name}: webhook denied={denied}, lint errors={verdicts[name]}")
    assert mismatches == []
