"""api-timestamps: timestamps the API server cannot decode.

What: every time field of a Job or CronJob that a manifest may carry, mostly because it was
exported from a cluster: ``metadata.creationTimestamp`` and ``deletionTimestamp`` (of the
object, its job template and its pod template), ``managedFields[].time``, a Job's
``status.startTime``, ``completionTime`` and ``conditions[].lastProbeTime`` /
``lastTransitionTime``, a CronJob's ``status.lastScheduleTime`` and ``lastSuccessfulTime``.
Each must be an RFC 3339 date and time as Go's ``time.Parse(time.RFC3339, ...)`` reads it
(``metav1.Time.UnmarshalJSON``): ``2024-05-01T12:00:00Z`` or with an offset
(``+02:00``) and optional fractional seconds; upper-case ``T`` and ``Z``; no date alone, no
space instead of ``T``. ``null`` is fine (the zero time), an empty string is not.

Why: the API server decodes the whole object before anything else and refuses it (HTTP 400,
``... cannot be handled as a Job: parsing time "2024-05-01" as "2006-01-02T15:04:05Z07:00":
...``), even though it then overwrites ``creationTimestamp`` and ignores ``status`` on create.

Example::

    metadata:
      creationTimestamp: "2024-05-01"   # parsing time "2024-05-01" as "2006-01-02T15:04:05Z07:00"

Fix: none automatic; remove the exported ``creationTimestamp`` and ``status``, or write full
RFC 3339 timestamps.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator

from jobguard.core.kubernetes.schema import fields_present
from jobguard.core.model import Category, Violation
from jobguard.core.paths import lookup
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import shown
from jobguard.rules.base import NoOptions

CODE = "JG028"
NAME = "api-timestamps"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Timestamps (creationTimestamp, status times) that are not RFC 3339 and fail decoding"
REMEDIATION = "Remove exported timestamps and status, or write them as 2024-05-01T12:00:00Z."

RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
TIME_FIELDS = frozenset(
    {
        _META + "ObjectMeta.creationTimestamp",
        _META + "ObjectMeta.deletionTimestamp",
        _META + "ManagedFieldsEntry.time",
        "io.k8s.api.batch.v1.JobStatus.startTime",
        "io.k8s.api.batch.v1.JobStatus.completionTime",
        "io.k8s.api.batch.v1.JobCondition.lastProbeTime",
        "io.k8s.api.batch.v1.JobCondition.lastTransitionTime",
        "io.k8s.api.batch.v1.CronJobStatus.lastScheduleTime",
        "io.k8s.api.batch.v1.CronJobStatus.lastSuccessfulTime",
    }
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))", re.ASCII
)


def rfc3339_valid(value: str) -> bool:
    """Whether Go's ``time.Parse(time.RFC3339, value)`` accepts ``value``."""
    found = _RFC3339.fullmatch(value)
    if found is None:
        return False
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if hour > 23 or minute > 59 or second > 59:
        return False
    if found.group(9) is not None:
        return int(found.group(9)) <= 23 and int(found.group(10)) <= 59
    return True


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    for path, _field in fields_present(view.obj, subject.version, TIME_FIELDS):
        node = lookup(view.obj, path)
        if isinstance(node, str) and not rfc3339_valid(node):
            yield Violation(
                path,
                f"parsing time {shown(node)} as {shown(RFC3339_LAYOUT)}: not an RFC 3339 time "
                f"(the API server cannot decode the {view.kind}; write e.g. 2024-05-01T12:00:00Z)",
            )
