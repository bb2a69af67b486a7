"""api-cronjob-concurrency-policy: a concurrencyPolicy the API server rejects.

What: ``spec.concurrencyPolicy`` must be ``Allow``, ``Forbid`` or ``Replace`` (an omitted or
empty value is defaulted to ``Allow``). Values are case-sensitive.

Why: HTTP 422 on create (``Unsupported value: "forbid"``).

Example::

    spec:
      concurrencyPolicy: forbid     # Unsupported value: "forbid": supported values: "Allow", "Forbid", "Replace"

Fix: none automatic; write ``Forbid`` (capitalised). The policy rule ``cronjob-concurrency``
decides which of the three the organisation wants.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_object, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG014"
NAME = "api-cronjob-concurrency-policy"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
KINDS = ("CronJob",)
SUMMARY = "CronJob concurrencyPolicy values other than Allow, Forbid and Replace"
REMEDIATION = "Use Allow, Forbid or Replace (case-sensitive)."

POLICIES = ("Allow", "Forbid", "Replace")


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    spec = api_object(view, subject).obj.get("spec")
    value = spec.get("concurrencyPolicy") if isinstance(spec, dict) else None
    if isinstance(value, str) and value not in POLICIES:
        yield Violation(("spec", "concurrencyPolicy"), unsupported(value, POLICIES))
