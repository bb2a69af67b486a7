"""api-pod-replacement-policy: a podReplacementPolicy the API server rejects.

What: ``podReplacementPolicy`` must be ``Failed`` or ``TerminatingOrFailed``; with a
``podFailurePolicy`` only ``Failed``. An explicit empty string is not defaulted and is rejected.

Why: HTTP 422 on create. With a pod failure policy, replacement pods must wait until the failed
pod is fully terminated, so that the policy can read its final state.

Example::

    podFailurePolicy: {rules: [...]}
    podReplacementPolicy: TerminatingOrFailed   # Unsupported value: supported values: "Failed"

Fix: none automatic; use ``Failed`` (or remove the field: the API server picks ``Failed``
when there is a pod failure policy).
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG010"
NAME = "api-pod-replacement-policy"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "podReplacementPolicy values the API server rejects"
REMEDIATION = (
    "Use Failed or TerminatingOrFailed (only Failed with a podFailurePolicy), or leave it unset."
)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    value = sim.get("podReplacementPolicy")
    if not isinstance(value, str):
        return
    if sim.has("podFailurePolicy"):
        if value != "Failed":
            yield Violation(
                view.at("podReplacementPolicy"),
                unsupported(value, ("Failed",))
                + " (with a podFailurePolicy, a replacement pod waits until the failed one has terminated)",
            )
    elif value not in ("Failed", "TerminatingOrFailed"):
        yield Violation(
            view.at("podReplacementPolicy"), unsupported(value, ("Failed", "TerminatingOrFailed"))
        )
