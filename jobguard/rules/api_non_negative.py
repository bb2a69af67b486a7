"""api-non-negative: counts and durations the API server requires to be >= 0.

What: ``parallelism``, ``completions``, ``activeDeadlineSeconds``, ``backoffLimit``,
``ttlSecondsAfterFinished``, ``backoffLimitPerIndex`` and ``maxFailedIndexes`` of a Job spec
(CronJob: under ``spec.jobTemplate.spec``), and a CronJob's ``startingDeadlineSeconds``,
``successfulJobsHistoryLimit`` and ``failedJobsHistoryLimit``.

Why: the API server rejects a negative value with
``<path>: Invalid value: -1: must be greater than or equal to 0`` (HTTP 422); catching it before
merge saves a failed deploy.

Example::

    spec:
      backoffLimit: -1      # rejected

Fix: none automatic; choose the intended value (0 is valid for all of these).
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG001"
NAME = "api-non-negative"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Counts and durations the API server requires to be >= 0"
REMEDIATION = "Use 0 or a positive value; the API server rejects negative values for these fields."

JOB_FIELDS = (
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
)
CRONJOB_FIELDS = ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")


def _negative(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < 0


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    for name in JOB_FIELDS:
        value = view.get(name)
        if _negative(value):
            yield Violation(
                view.at(name), f"Invalid value: {value}: must be greater than or equal to 0"
            )
    for name in CRONJOB_FIELDS:
        value = view.cronjob_spec.get(name)
        if _negative(value):
            yield Violation(
                ("spec", name), f"Invalid value: {value}: must be greater than or equal to 0"
            )
