"""Every test here drives the real kubernetes client against a stand-in API server (not a
cluster: see standin.py) through a generated kubeconfig."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from jobguard.cli import main
from tests.audit import objects
from tests.audit.standin import StandIn, running

CAPTURED = (
    "job-pi",
    "job-ssa-job",
    "job-primes-b9bl7",
    "job-indexed-render",
    "cronjob-nightly-report",
    "job-manual-report",
)


@pytest.fixture
def server() -> Iterator[StandIn]:
    with running() as stand_in:
        yield stand_in


@pytest.fixture
def captured(server: StandIn) -> StandIn:
    """The stand-in holding every captured object."""
    for name in CAPTURED:
        server.state.add(objects.stored(name))
    return server


class Audit:
    def __init__(self, server: StandIn, tmp_path: Path):
        self.server = server
        self.kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(
            main, ["audit", "--kubeconfig", str(self.kubeconfig), *args], catch_exceptions=False
        )

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self(*args, "--format", "json")
        return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def audit(server: StandIn, tmp_path: Path) -> Audit:
    return Audit(server, tmp_path)
