"""Read by the Python interpreter at start-up, in the server processes of
``tests/webhook/test_rule_error_served.py`` only (that test puts this directory on their
PYTHONPATH): backoff-limit raises on any object labelled ``jobguard.test/crash``, the way a rule
bug that a crafted object can reach would. Every other object is judged as usual."""

from __future__ import annotations

from typing import Any

from jobguard.rules import ALL_RULES

CRASH_LABEL = "jobguard.test/crash"


def _crashing(check: Any) -> Any:
    def check_or_crash(view: Any, options: Any, ctx: Any) -> Any:
        if CRASH_LABEL in view.labels:
            raise RuntimeError("crafted to crash")
        return check(view, options, ctx)

    return check_or_crash


for _rule in ALL_RULES:
    if _rule.name == "backoff-limit":
        # Rules are frozen: patched in place, so every rule set that holds it sees the change.
        object.__setattr__(_rule, "check", _crashing(_rule.check))
