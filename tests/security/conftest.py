"""The adversarial table's requests: real AdmissionReviews captured from kube-apiserver 1.36
(tests/fixtures/admission-1.36, see its README.md and SCENARIOS.txt), changed only where a row
says so, and the real ``jobguard serve`` (gunicorn, TLS) under the bundled strict policy."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from jobguard.policy.loader import bundled_policy_dir
from tests.helpers import FIXTURES
from tests.webhook.support import Server, SessionCA, running_server

CAPTURED = FIXTURES / "admission-1.36"
STRICT = str(bundled_policy_dir() / "strict.yaml")
#: Who the CronJob controller of kube-controller-manager 1.36 creates scheduled runs as (028).
CRONJOB_CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller"


def captured(number: str) -> dict[str, Any]:
    """The captured AdmissionReview whose file name starts with ``number`` (a fresh copy)."""
    [path] = CAPTURED.glob(f"{number}-*.json")
    review: dict[str, Any] = json.loads(path.read_text())
    return copy.deepcopy(review)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("strict-server")
    ca = SessionCA(directory)
    with running_server(directory / "serve", ca, [STRICT]) as server:
        yield server
