"""api-timestamps: timestamps the API server cannot decode.

What: every time field of a Job or CronJob that a manifest may carry, mostly because it was
exported from a cluster: ``metadata.creationTimestamp`` and ``deletionTimestamp`` (of the
object, its job template, its pod template and its ephemeral volume claim templates),
``managedFields[].time``, a Job's
``status.startTime``, ``completionTime`` and ``conditions[].lastProbeTime`` /
``lastTransitionTime``, a CronJob's ``status.lastScheduleTime`` and ``lastSuccessfulTime``.
Each must be an RFC 3339 date and time as Go's ``time.Parse(time.RFC3339, ...)`` reads it
(``metav1.Time.UnmarshalJSON``): ``2024-05-01T12:00:00Z`` or with an offset
(``+02:00``) and optional fractional seconds (after ``.`` or ``,``); upper-case ``T`` and ``Z``; no date alone, no
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
from typing import Any

from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
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
META_TIMES = ("creationTimestamp", "deletionTimestamp")
STATUS_TIMES = {
    "Job": ("startTime", "completionTime"),
    "CronJob": ("lastScheduleTime", "lastSuccessfulTime"),
}
CONDITION_TIMES = ("lastProbeTime", "lastTransitionTime")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([.,]\d+)?(Z|[+-](\d{2}):(\d{2}))", re.ASCII
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


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _meta_times(at: FieldPath, metadata: Any) -> Iterator[tuple[FieldPath, Any]]:
    """The ``metav1.Time`` fields of an ObjectMeta (``managedFields[].time`` included)."""
    metadata = _mapping(metadata)
    for key in META_TIMES:
        if key in metadata:
            yield (*at, key), metadata[key]
    managed = metadata.get("managedFields")
    for index, entry in enumerate(managed if isinstance(managed, list) else []):
        if isinstance(entry, dict) and "time" in entry:
            yield (*at, "managedFields", index, "time"), entry["time"]


def _template_times(at: FieldPath, template: Any) -> Iterator[tuple[FieldPath, Any]]:
    """A pod template's metadata and its ephemeral volume claim templates' metadata."""
    template = _mapping(template)
    yield from _meta_times((*at, "metadata"), template.get("metadata"))
    volumes = _mapping(template.get("spec")).get("volumes")
    for index, volume in enumerate(volumes if isinstance(volumes, list) else []):
        claim = _mapping(_mapping(_mapping(volume).get("ephemeral")).get("volumeClaimTemplate"))
        if claim:
            here = (*at, "spec", "volumes", index, "ephemeral", "volumeClaimTemplate", "metadata")
            yield from _meta_times(here, claim.get("metadata"))


def time_fields(obj: dict[str, Any], kind: str) -> Iterator[tuple[FieldPath, Any]]:
    """Every ``metav1.Time`` field of a Job or CronJob that is present: (path, value)."""
    yield from _meta_times(("metadata",), obj.get("metadata"))
    spec = _mapping(obj.get("spec"))
    if kind == "CronJob":
        job_template = _mapping(spec.get("jobTemplate"))
        yield from _meta_times(("spec", "jobTemplate", "metadata"), job_template.get("metadata"))
        job_spec = _mapping(job_template.get("spec"))
        yield from _template_times(
            ("spec", "jobTemplate", "spec", "template"), job_spec.get("template")
        )
    else:
        yield from _template_times(("spec", "template"), spec.get("template"))
    status = _mapping(obj.get("status"))
    for key in STATUS_TIMES.get(kind, ()):
        if key in status:
            yield ("status", key), status[key]
    conditions = status.get("conditions") if kind == "Job" else None
    for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
        for key in CONDITION_TIMES:
            if isinstance(condition, dict) and key in condition:
                yield ("status", "conditions", index, key), condition[key]


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    for path, value in time_fields(view.obj, view.kind):
        if isinstance(value, str) and not rfc3339_valid(value):
            yield Violation(
                path,
                f"parsing time {shown(value)} as {shown(RFC3339_LAYOUT)}: not an RFC 3339 time "
                f"(the API server cannot decode the {view.kind}; write e.g. 2024-05-01T12:00:00Z)",
            )
