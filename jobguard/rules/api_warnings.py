"""api-warnings: what the API server accepts but answers with a warning.

What: the warnings the API server returns on create (``Warning:`` lines in kubectl's output):

* a Job or CronJob ``metadata.name`` that is not an RFC 1123 label (it contains a ``.`` or is
  longer than 63 characters): ``this is used in Pod names and hostnames, which can result in
  surprising behavior; a DNS label is recommended``;
* an Indexed Job with more than 100000 completions and a parallelism above 10000: the Job
  controller may not be able to track its completed indexes when many fail (reported at
  ``spec``; CronJob: ``spec.jobTemplate.spec``).

Why: the object is created, but the warning points at a real problem (pod hostnames derived
from a dotted name are truncated or rejected by tools that expect DNS labels). Default action:
warn.

Example::

    metadata:
      name: report.v2      # warning: a DNS label is recommended

Fix: none automatic; use a name of lower case letters, digits and '-' of at most 63 characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import dns1123_label_errors
from jobguard.core.model import Action, Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, is_int
from jobguard.rules._cel import (
    CelContext,
    Translation,
)
from jobguard.rules.base import NoOptions

CODE = "JG018"
NAME = "api-warnings"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
DEFAULT_ACTION = Action.WARN
SUMMARY = "What the API server accepts with a warning (non-DNS-label names, huge Indexed Jobs)"
REMEDIATION = "Use a DNS-label name (lower case, digits, '-', at most 63 characters); keep huge Indexed Jobs below the tracking limits."


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    if subject.api_operation != "CREATE":
        return
    name = view.name
    if name is not None:
        errors = dns1123_label_errors(name)
        if errors:
            yield Violation(
                ("metadata", "name"),
                "this is used in Pod names and hostnames, which can result in surprising "
                f"behavior; a DNS label is recommended: [{', '.join(errors)}]",
            )
    if view.get("completionMode") != "Indexed":
        # Defaulting only ever sets NonIndexed: no need to simulate the API server (the
        # validating webhook runs this rule alone of the api-* rules, on every review).
        return
    sim = api_view(view, subject)
    completions, parallelism = sim.get("completions"), sim.get("parallelism")
    if (
        sim.get("completionMode") == "Indexed"
        and is_int(completions)
        and is_int(parallelism)
        and completions > 100_000
        and parallelism > 10_000
    ):
        yield Violation(
            view.spec_prefix,
            "In Indexed Jobs with a number of completions higher than 10^5 and a parallelism "
            "higher than 10^4, Kubernetes might not be able to track completedIndexes when a "
            "big number of indexes fail",
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Any, ctx: CelContext) -> Translation:
    return Translation(
        gaps=("the whole rule: the API server's own warnings, relayed by the validating webhook",)
    )
