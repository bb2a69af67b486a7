"""What the API server fills in before admission webhooks see a Job (KUBERNETES-JOB-API.md s.1).

Used to tell, on an already defaulted object, whether a value may have come from the API server
rather than from the user.
"""

from __future__ import annotations

from typing import Any

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


def api_default(relative: FieldPath, *, cronjob: bool) -> Any:
    """The value the API server would have put at ``relative`` (or None if it fills nothing)."""
    if relative in POD_TEMPLATE_DEFAULTS:
        return POD_TEMPLATE_DEFAULTS[relative]
    if cronjob:
        # The CronJob defaulter does not run the Job defaulter on spec.jobTemplate.spec.
        return None
    return JOB_SPEC_DEFAULTS.get(relative)
