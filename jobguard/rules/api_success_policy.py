"""api-success-policy: a successPolicy the API server rejects.

What: a ``successPolicy`` needs ``completionMode: Indexed``; it needs 1 to 20 rules, each with
``succeededIndexes`` or ``succeededCount`` (or both). ``succeededIndexes`` is an index list
(``0,2-5,7``: numbers below ``completions``, strictly increasing, ``a-b`` intervals with
``a < b``, no spaces, at most 65536 bytes); ``succeededCount`` is at most ``completions`` and,
with ``succeededIndexes``, at most the number of indexes listed.

Why: HTTP 422 on create; the index-list grammar is strict (``1, 3`` with a space fails).

Example::

    completionMode: Indexed
    completions: 5
    successPolicy:
      rules:
        - succeededIndexes: "0-2,5"    # too large index: "5"

Fix: none automatic; follow the message.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.kubernetes.indexes import IndexListError, count_indexes
from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int
from jobguard.rules.base import NoOptions

CODE = "JG009"
NAME = "api-success-policy"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "successPolicy rules and index lists the API server rejects"
REMEDIATION = (
    "Use successPolicy only with completionMode: Indexed; give each rule succeededIndexes "
    '(e.g. "0,2-4", below completions) and/or a succeededCount within the indexes.'
)

MAX_RULES = 20
MAX_INDEXES_BYTES = 65536


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    policy = sim.get("successPolicy")
    if not isinstance(policy, dict):
        return
    if sim.get("completionMode") != "Indexed":
        yield Violation(
            view.at("successPolicy"),
            invalid(policy, "requires indexed completion mode"),
        )
        return
    rules = policy.get("rules")
    rules = rules if isinstance(rules, list) else []
    if not rules:
        yield Violation(
            view.at("successPolicy", "rules"),
            "Required value: at least one rules must be specified when the successPolicy is specified",
        )
    elif len(rules) > MAX_RULES:
        yield Violation(
            view.at("successPolicy", "rules"),
            f"Too many: {len(rules)}: must have at most {MAX_RULES} items",
        )
    raw_completions = sim.get("completions")
    completions: int | None = raw_completions if is_int(raw_completions) else None
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        at = view.at("successPolicy", "rules", index)
        indexes = rule.get("succeededIndexes")
        raw_count = rule.get("succeededCount")
        count: int | None = raw_count if is_int(raw_count) else None
        if indexes is None and raw_count is None:
            yield Violation(
                at,
                "Required value: at least one of succeededCount or succeededIndexes must be specified",
            )
        total = None
        if isinstance(indexes, str):
            if len(indexes.encode()) > MAX_INDEXES_BYTES:
                yield Violation(
                    (*at, "succeededIndexes"),
                    f"Too long: must have at most {MAX_INDEXES_BYTES} bytes",
                )
            if completions is not None:
                try:
                    total = count_indexes(indexes, completions)
                except IndexListError as exc:
                    yield Violation(
                        (*at, "succeededIndexes"),
                        invalid(indexes, f"error parsing succeededIndexes: {exc}")
                        + f" (indexes run from 0 to completions-1 = {completions - 1})",
                    )
        if count is not None and completions is not None:
            if count > completions:
                yield Violation(
                    (*at, "succeededCount"),
                    invalid(
                        count,
                        f"must be less than or equal to {completions} (the number of specified completions)",
                    ),
                )
            if total is not None and count > total:
                yield Violation(
                    (*at, "succeededCount"),
                    invalid(
                        count,
                        f"must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)",
                    ),
                )
        if count is not None and count < 0:
            yield Violation(
                (*at, "succeededCount"), invalid(count, "must be greater than or equal to 0")
            )
