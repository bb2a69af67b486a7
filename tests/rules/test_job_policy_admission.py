"""JG102-JG105 through the real mutating webhook decision on recorded kube-apiserver reviews.

The API server has already defaulted these objects (completions/parallelism 1, backoffLimit 6):
those defaults must not produce patches of their own, a work-queue Job must never be given
completions, and CronJob templates are patched at their jobTemplate paths.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from jobguard.policy import load_policy
from jobguard.webhook.admission import mutate
from jobguard.webhook.review import parse_review
from tests.rules._job_policy_support import ADMISSION

# The Job spec fields these four rules write; other rules' patches are their own tests' business.
OWN_FIELDS = (
    "completions",
    "parallelism",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "activeDeadlineSeconds",
)


def own_ops(name: str, policy: str) -> list[dict[str, Any]]:
    review = json.loads((ADMISSION / f"{name}.json").read_text())
    outcome = mutate(parse_review(review), load_policy([policy]))
    response = outcome.answer.review["response"]
    assert response["allowed"] is True
    ops = json.loads(base64.b64decode(response["patch"])) if "patch" in response else []
    return [op for op in ops if op["path"].rsplit("/", 1)[-1] in OWN_FIELDS]


@pytest.mark.parametrize(
    ("name", "policy", "expected"),
    [
        # Both counts and backoffLimit came from the API's defaulting: only the TTL is added.
        (
            "023-mutate-Job-CREATE-kubectl-made",
            "jobguard:default",
            [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200}],
        ),
        (
            "023-mutate-Job-CREATE-kubectl-made",
            "jobguard:strict",
            [
                {"op": "replace", "path": "/spec/backoffLimit", "value": 3},
                {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400},
            ],
        ),
        # A work-queue Job (parallelism 3, no completions): never given completions.
        (
            "003-mutate-Job-CREATE-noname",
            "jobguard:strict",
            [
                {"op": "replace", "path": "/spec/backoffLimit", "value": 3},
                {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400},
            ],
        ),
        # backoffLimit 4 is in kubectl's last-applied-configuration: the user's, kept.
        (
            "001-mutate-Job-CREATE-pi",
            "jobguard:strict",
            [{"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400}],
        ),
        # Indexed with explicit counts and deadline (kept); the defaulted backoffLimit takes the
        # policy's 3; the manifest's TTL of 100 s is the user's choice: raising it to strict's
        # minimum is only suggested, so the webhook leaves it.
        (
            "006-mutate-Job-CREATE-indexed-render",
            "jobguard:strict",
            [
                {"op": "replace", "path": "/spec/backoffLimit", "value": 3},
            ],
        ),
        ("006-mutate-Job-CREATE-indexed-render", "jobguard:default", []),
        # Made by hand from a CronJob (`kubectl create job --from=cronjob/...`, user admin):
        # not a scheduled run, so judged as any Job (a CronJob's scheduled run, created by
        # the controller, is left alone: tests/security).
        (
            "021-mutate-Job-CREATE-from-cron",
            "jobguard:strict",
            [
                {"op": "replace", "path": "/spec/backoffLimit", "value": 3},
                {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 86400},
            ],
        ),
        # The CronJob template is not defaulted by the API: the counts are written at its paths.
        (
            "010-mutate-CronJob-CREATE-nightly-report",
            "jobguard:strict",
            [
                {"op": "add", "path": "/spec/jobTemplate/spec/completions", "value": 1},
                {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1},
                {"op": "add", "path": "/spec/jobTemplate/spec/backoffLimit", "value": 3},
            ],
        ),
    ],
)
def test_the_mutating_webhook_patches_only_what_the_policy_changes(
    name: str, policy: str, expected: list[dict[str, Any]]
) -> None:
    assert own_ops(name, policy) == expected
