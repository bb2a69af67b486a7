"""ttl-after-finished: hook Jobs their release tool deletes need no TTL."""

from __future__ import annotations

import pytest

from jobguard.policy import load_policy
from tests.helpers import evaluate_obj


def hook_job(annotations: dict[str, str]) -> dict[str, object]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "annotations": annotations},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "m", "image": "busybox:1.36"}],
                }
            }
        },
    }


def ttl_fields(annotations: dict[str, str]) -> list[str]:
    report = evaluate_obj(hook_job(annotations), load_policy(["jobguard:default"]))
    return [f.field for f in report.findings if f.rule == "ttl-after-finished"]


@pytest.mark.parametrize(
    "annotations",
    [
        {"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "hook-succeeded"},
        {"helm.sh/hook": "pre-upgrade", "helm.sh/hook-delete-policy": "hook-failed"},
        {
            "helm.sh/hook": "post-install",
            "helm.sh/hook-delete-policy": "before-hook-creation, hook-succeeded",
        },
        {
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "HookSucceeded",
        },
        {"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "HookFailed"},
        {
            "argocd.argoproj.io/hook": "PostSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        },
    ],
)
def test_a_hook_its_tool_deletes_gets_no_ttl(annotations: dict[str, str]) -> None:
    assert ttl_fields(annotations) == []


@pytest.mark.parametrize(
    "annotations",
    [
        {},
        {"helm.sh/hook": "pre-install"},  # no delete policy: the hook Job stays
        {"helm.sh/hook-delete-policy": "hook-succeeded"},  # not a hook: the policy is ignored
        {
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "hook-succeeded",
        },
    ],
)
def test_other_jobs_still_get_the_default(annotations: dict[str, str]) -> None:
    assert ttl_fields(annotations) == ["spec.ttlSecondsAfterFinished"]
