"""Session fixtures: a test CA and one real ``jobguard serve`` (gunicorn, TLS, 2 workers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.webhook.support import Server, SessionCA, running_server, webhook_policy_paths

#: Small, so that the 413 tests need not send megabytes.
TEST_MAX_REQUEST_BYTES = 65536


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> SessionCA:
    return SessionCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, test_ca: SessionCA) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("server")
    policies = webhook_policy_paths(directory)
    extra = ["--workers", "2", "--threads", "8", "--max-request-bytes", str(TEST_MAX_REQUEST_BYTES)]
    with running_server(directory, test_ca, policies, extra) as running:
        yield running


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
