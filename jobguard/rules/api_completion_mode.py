"""api-completion-mode: completionMode and the limits of Indexed Jobs and per-index back-off.

What: ``completionMode`` must be ``NonIndexed`` or ``Indexed``. An Indexed Job needs
``completions`` (a Job gets ``completions: 1`` by default only when ``parallelism`` is unset too;
a CronJob's job template gets no default at all), at most 100000 ``parallelism``,
``maxFailedIndexes`` at most ``completions`` and 100000, and above 100000 completions with
``backoffLimitPerIndex``: ``maxFailedIndexes`` set, ``parallelism`` and ``maxFailedIndexes`` at
most 10000. ``backoffLimitPerIndex`` and ``maxFailedIndexes`` require Indexed mode, and
``maxFailedIndexes`` requires ``backoffLimitPerIndex``.

Why: each is an HTTP 422 on create; ``backoffLimitPerIndex`` on a NonIndexed Job is an easy
mistake when copying from an Indexed one.

Example::

    spec:
      parallelism: 4
      completionMode: Indexed        # spec.completions: Required value: when completion mode is Indexed
      backoffLimitPerIndex: 2

Fix: none automatic; set ``completions`` (the number of indexes) or drop the per-index fields.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG007"
NAME = "api-completion-mode"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "completionMode values, Indexed Job limits and per-index back-off fields the API server rejects"
)
REMEDIATION = (
    "Use completionMode NonIndexed or Indexed; give Indexed Jobs completions; use "
    "backoffLimitPerIndex/maxFailedIndexes only with Indexed mode."
)

MAX_INDEXED_PARALLELISM = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
MAX_FAILED_INDEXES = 100_000
PER_INDEX_LIMIT = 10_000


def _int(sim: JobView, name: str) -> int | None:
    value = sim.get(name)
    return value if is_int(value) else None


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    if not sim.job_spec:
        return
    per_index = _int(sim, "backoffLimitPerIndex")
    max_failed = _int(sim, "maxFailedIndexes")
    completions = _int(sim, "completions")
    parallelism = _int(sim, "parallelism")
    if sim.has("maxFailedIndexes") and not sim.has("backoffLimitPerIndex"):
        yield Violation(
            view.at("backoffLimitPerIndex"), "Required value: when maxFailedIndexes is specified"
        )
    mode = sim.get("completionMode")
    if isinstance(mode, str) and mode not in ("NonIndexed", "Indexed"):
        yield Violation(view.at("completionMode"), unsupported(mode, ("NonIndexed", "Indexed")))
    if mode == "Indexed":
        if not sim.has("completions"):
            default_note = (
                " (a CronJob's job template gets no default completions)"
                if view.is_cronjob
                else " (the API server defaults completions to 1 only when parallelism is unset too)"
            )
            yield Violation(
                view.at("completions"),
                "Required value: when completion mode is Indexed" + default_note,
            )
        if parallelism is not None and parallelism > MAX_INDEXED_PARALLELISM:
            yield Violation(
                view.at("parallelism"),
                invalid(
                    parallelism,
                    f"must be less than or equal to {MAX_INDEXED_PARALLELISM} when completion mode is Indexed",
                ),
            )
        if completions is not None and max_failed is not None and max_failed > completions:
            yield Violation(
                view.at("maxFailedIndexes"),
                invalid(max_failed, "must be less than or equal to completions"),
            )
        if max_failed is not None and max_failed > MAX_FAILED_INDEXES:
            yield Violation(
                view.at("maxFailedIndexes"),
                invalid(max_failed, f"must be less than or equal to {MAX_FAILED_INDEXES}"),
            )
        if (
            completions is not None
            and completions > COMPLETIONS_SOFT_LIMIT
            and sim.has("backoffLimitPerIndex")
        ):
            if not sim.has("maxFailedIndexes"):
                yield Violation(
                    view.at("maxFailedIndexes"),
                    "Required value: must be specified when completions is above 100000",
                )
            suffix = "when completions are above 100000 and used with backoff limit per index"
            if parallelism is not None and parallelism > PER_INDEX_LIMIT:
                yield Violation(
                    view.at("parallelism"),
                    invalid(
                        parallelism, f"must be less than or equal to {PER_INDEX_LIMIT} {suffix}"
                    ),
                )
            if max_failed is not None and max_failed > PER_INDEX_LIMIT:
                yield Violation(
                    view.at("maxFailedIndexes"),
                    invalid(
                        max_failed, f"must be less than or equal to {PER_INDEX_LIMIT} {suffix}"
                    ),
                )
    if not sim.has("completionMode") or mode == "NonIndexed":
        for name, value in (("backoffLimitPerIndex", per_index), ("maxFailedIndexes", max_failed)):
            if value is not None:
                yield Violation(
                    view.at(name),
                    invalid(value, "requires indexed completion mode")
                    + " (per-index back-off needs completionMode: Indexed)",
                )
