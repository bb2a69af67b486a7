"""What the API server fills in before admission webhooks see a Job (KUBERNETES-JOB-API.md s.1).

Used to tell, on an already defaulted object, whether a value may have come from the API server
rather than from the user.
"""

from __future__ import annotations

from typing import Any

from jobguard.core.model import Edit, SetValue
from jobguard.core.paths import FieldPath

# Paths relative to the Job spec (Job: ``spec``; CronJob: not defaulted, see below).
JOB_SPEC_DEFAULTS: dict[FieldPath, Any] = {
    ("backoffLimit",): 6,
    ("completions",): 1,
    ("parallelism",): 1,
    ("completionMode",): "NonIndexed",
    ("suspend",): False,
    ("manualSelector",): False,
    ("podReplacementPolicy",): "TerminatingOrFailed",
}

# Relative to the Job spec too; pod-template defaults apply to CronJob templates as well.
POD_TEMPLATE_DEFAULTS: dict[FieldPath, Any] = {
    ("template", "spec", "restartPolicy"): "Always",
}

BACKOFF_LIMIT_WITH_PER_INDEX = 2147483647


def api_default(
    relative: FieldPath, *, cronjob: bool, job_spec: dict[str, Any] | None = None
) -> Any:
    """The value the API server would have put at ``relative`` (or None if it fills nothing).

    ``job_spec`` (the Job spec around the field) decides the defaults that depend on other
    fields the API server does not default itself: backoffLimit under backoffLimitPerIndex, and
    podReplacementPolicy under a podFailurePolicy.
    """
    if relative in POD_TEMPLATE_DEFAULTS:
        return POD_TEMPLATE_DEFAULTS[relative]
    if cronjob:
        # The CronJob defaulter does not run the Job defaulter on spec.jobTemplate.spec.
        return None
    spec = job_spec or {}
    if relative == ("backoffLimit",) and spec.get("backoffLimitPerIndex") is not None:
        return BACKOFF_LIMIT_WITH_PER_INDEX
    if relative == ("podReplacementPolicy",) and spec.get("podFailurePolicy") is not None:
        return "Failed"
    return JOB_SPEC_DEFAULTS.get(relative)


def effective_default(relative: FieldPath, job_spec: dict[str, Any]) -> Any:
    """The value the Job that runs will have at ``relative`` when the manifest leaves it out
    (None when nothing is filled in), given the rest of the Job spec as written.

    Unlike :func:`api_default` this answers for CronJob templates too: their Jobs are defaulted
    when the controller creates them, so writing the value changes nothing either way.
    """
    if relative == ("completions",):
        # Only a Job with neither count set gets completions 1; parallelism alone is a work queue.
        return 1 if job_spec.get("parallelism") is None else None
    return api_default(relative, cronjob=False, job_spec=job_spec)


def restates_defaults(
    edits: tuple[Edit, ...], spec_prefix: FieldPath, job_spec: dict[str, Any]
) -> bool:
    """Whether applying ``edits`` (a fix's SetValue edits at absolute paths) only writes what the
    Job would get anyway: every edit sets a field under the Job spec at ``spec_prefix`` to its
    effective default."""
    if not edits:
        return False
    for edit in edits:
        if not isinstance(edit, SetValue) or edit.path[: len(spec_prefix)] != spec_prefix:
            return False
        relative = edit.path[len(spec_prefix) :]
        default = effective_default(relative, job_spec)
        if default is None or type(edit.value) is not type(default) or edit.value != default:
            return False
    return True
