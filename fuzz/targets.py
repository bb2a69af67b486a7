"""The parsing entry points of jobguard as fuzz targets: each takes raw bytes and raises only when
jobguard misbehaves (an exception it should have turned into a clear error, a wrong answer).

The same functions replay saved inputs in ``tests/reliability/test_fuzz_regressions.py``, so a
crasher found by ``fuzz/run.py`` becomes a regression test by saving it under
``tests/fixtures/fuzz/<target>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from jobguard.core.kubernetes.cron import CronSyntaxError, parse_schedule
from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.paths import Key
from jobguard.lint.linter import lint_bytes
from jobguard.policy.loader import BUILTIN_PREFIX, PolicyError, load_policy
from jobguard.policy.model import builtin_defaults
from jobguard.rules import ALL_RULES
from jobguard.yamlsource import parse_stream

#: Registered rules only: ``internal-error`` (a rule that raised, caught by the engine so the
#: run goes on) is a bug in that rule, and a fuzzing find.
RULE_NAMES = frozenset(r.name for r in ALL_RULES)


def source(data: bytes) -> None:
    """YAML/JSON stream parsing: never raises, every document or error accounted for."""
    stream = parse_stream(data)
    for error in stream.errors:
        assert error.message and error.line >= 0


def lint(data: bytes) -> None:
    """A whole lint of one file: never raises, no rule fails (``internal-error``); findings
    name a registered rule and a position."""
    result = lint_bytes("fuzz.yaml", data, builtin_defaults())
    for obj in result.objects:
        for located in obj.findings:
            finding = located.finding
            assert finding.rule in RULE_NAMES, (finding.rule, finding.message)
            assert all(isinstance(s, (str, int, Key)) for s in finding.path)
            assert located.line >= 1 and located.column >= 1
    for problem in result.problems:
        assert problem.message


def policy(data: bytes) -> None:
    """A policy file: it loads, or fails with PolicyError naming the file (or a file it
    extends: beside it, or a bundled ``jobguard:NAME`` whose option clashes with this one's);
    nothing else."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "policy.yaml")
        with open(path, "wb") as f:
            f.write(data)
        try:
            load_policy([path])
        except PolicyError as exc:
            assert all(str(p).startswith((directory, BUILTIN_PREFIX)) for p in exc.problems), (
                exc.problems
            )


@cache
def _client() -> Any:
    # The Flask app in-process, for speed: the real gunicorn server is driven by the
    # reliability tests; here the request handling itself is what is fuzzed.
    from jobguard.webhook.app import create_app
    from jobguard.webhook.settings import Settings

    return create_app(Settings()).test_client()


def admission(data: bytes) -> None:
    """A request body to both webhooks: an answer, never a 500, and a 200 only as a review."""
    for webhook in ("/validate", "/mutate"):
        response = _client().post(webhook, data=data, content_type="application/json")
        assert response.status_code in (200, 400, 413), (webhook, response.status_code)
        body = json.loads(response.data)
        assert body["kind"] == "AdmissionReview"
        if response.status_code == 200:
            assert isinstance(body["response"]["allowed"], bool)


def cron(data: bytes) -> None:
    """A CronJob schedule: parsed, or refused with CronSyntaxError."""
    text = data.decode("utf-8", "replace")
    with contextlib.suppress(CronSyntaxError):
        parse_schedule(text)


def quantity(data: bytes) -> None:
    """A resource quantity: a Decimal or None, never an exception."""
    text = data.decode("utf-8", "replace")
    value = parse_quantity(text)
    assert value is None or isinstance(value, Decimal)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "source": source,
    "lint": lint,
    "policy": policy,
    "admission": admission,
    "cron": cron,
    "quantity": quantity,
}
