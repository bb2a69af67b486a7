"""Environment variable names as the API server checks them: since 1.32 (relaxed validation on
by default) any printable ASCII character except "=", before that a C identifier with - and ."""

from __future__ import annotations

from typing import Any

import pytest

from jobguard.rules.api_pod_spec import ENV_NAME_ERROR, RELAXED_ENV_NAME_ERROR
from tests.rules._single_rule import found


def _job(env_name: str) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox", "env": [{"name": env_name, "value": "1"}]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }


AT = "spec.template.spec.containers[0].env[0].name"


@pytest.mark.parametrize("name", ["MY VAR", "a.b-c", "1st", "~!@#$%^&*()<>?", " "])
def test_printable_ascii_other_than_equals_is_accepted_from_1_32(name: str) -> None:
    assert found(_job(name), "api-pod-spec", version=(1, 32)) == []


@pytest.mark.parametrize("name", ["a=b", "naïve", "tab\there", "line\n", "del\x7f", "=", "é"])
def test_equals_and_anything_outside_printable_ascii_is_refused_from_1_32(name: str) -> None:
    [(path, message)] = found(_job(name), "api-pod-spec", version=(1, 37))
    assert path == AT
    assert message.endswith(RELAXED_ENV_NAME_ERROR)


def test_before_1_32_a_space_is_refused_with_the_old_wording() -> None:
    [(path, message)] = found(_job("MY VAR"), "api-pod-spec", version=(1, 31))
    assert path == AT
    assert message.endswith(ENV_NAME_ERROR)
