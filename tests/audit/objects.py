"""Stored objects for the stand-in: the captured ones, and variants derived from them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audit"


def stored(name: str) -> dict[str, Any]:
    """A captured object (``job-pi``, ``cronjob-nightly-report``...)."""
    obj: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return obj


def renamed(obj: dict[str, Any], name: str, namespace: str | None = None) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"]["name"] = name
    out["metadata"].pop("uid", None)
    out["metadata"].pop("resourceVersion", None)
    if namespace is not None:
        out["metadata"]["namespace"] = namespace
    return out


def without_ttl(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["spec"].pop("ttlSecondsAfterFinished", None)
    out["metadata"].get("annotations", {}).pop(
        "kubectl.kubernetes.io/last-applied-configuration", None
    )
    return out


def finished(obj: dict[str, Any], condition: str, when: str) -> dict[str, Any]:
    """``obj`` as the Job controller leaves it once it completed or failed at ``when``."""
    out = copy.deepcopy(obj)
    out["spec"]["suspend"] = False
    status: dict[str, Any] = {
        "conditions": [
            {
                "type": "SuccessCriteriaMet" if condition == "Complete" else "FailureTarget",
                "status": "True",
                "lastTransitionTime": when,
            },
            {"type": condition, "status": "True", "lastTransitionTime": when},
        ],
        "startTime": when,
    }
    if condition == "Complete":
        status["completionTime"] = when
        status["succeeded"] = 1
    else:
        status["failed"] = 1
    out["status"] = status
    return out


def scheduled(job: dict[str, Any], cronjob: dict[str, Any], name: str) -> dict[str, Any]:
    """A Job as the CronJob controller creates it from ``cronjob`` on schedule."""
    out = renamed(job, name)
    out["metadata"]["annotations"] = {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-12-02T04:00:00Z"
    }
    out["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": cronjob["metadata"]["name"],
            "uid": cronjob["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    out["metadata"]["managedFields"] = [
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "batch/v1"}
    ]
    return out


def pod_of(job: dict[str, Any], index: int, *, new_label: bool = True) -> dict[str, Any]:
    name = job["metadata"]["name"]
    labels = {"job-name": name, "controller-uid": "x"}
    if new_label:
        labels["batch.kubernetes.io/job-name"] = name
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": f"{name}-{index}",
            "namespace": job["metadata"]["namespace"],
            "labels": labels,
        },
        "status": {"phase": "Succeeded"},
    }
