"""api-restart-policy: the API server's own verdict on a Job's restartPolicy.

What: the pod template's ``restartPolicy`` as the API server validates it, after defaulting: an
omitted (or empty) value is defaulted to ``Always`` and rejected with ``Required value: valid
values: "OnFailure", "Never"``; ``Always`` is rejected the same way; any other value outside
``OnFailure``/``Never`` is ``Unsupported``; and with a ``podFailurePolicy`` only ``Never`` is
accepted. CronJob: the same at ``spec.jobTemplate.spec.template.spec.restartPolicy`` (the
CronJob's pod template is defaulted too).

Why: the most common first-Job mistake; the API server answers with HTTP 422. The policy rule
``restart-policy`` narrows the allowed values further and carries the fix.

Example::

    spec:
      template:
        spec:
          containers: [{name: main, image: busybox:1.36}]
          # no restartPolicy: Required value: valid values: "OnFailure", "Never"

Fix: set ``restartPolicy: Never`` (or ``OnFailure`` without a podFailurePolicy); the
``restart-policy`` rule's fix does it and the webhook applies it on create.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.paths import MISSING
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG004"
NAME = "api-restart-policy"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "restartPolicy the API server rejects for a Job (omitted, Always, unknown, or not Never with a podFailurePolicy)"
REMEDIATION = "Set the pod template's restartPolicy to Never (or OnFailure when there is no podFailurePolicy)."

POD_RESTART_POLICIES = ("Always", "OnFailure", "Never")
JOB_RESTART_POLICIES = ("OnFailure", "Never")


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    path = view.at("template", "spec", "restartPolicy")
    value = sim.get("template", "spec", "restartPolicy")
    if not isinstance(value, str) or not isinstance(sim.get("template", "spec"), dict):
        return  # no pod spec or a type error: the structure and pod-template rules say so
    raw = view.get("template", "spec", "restartPolicy")
    if value == "Always":
        if raw in (MISSING, None, ""):
            why = "restartPolicy is not set, and the API server defaults it to Always"
        elif view.defaulted:
            why = "restartPolicy is Always (also what the API server fills in when it is not set)"
        else:
            why = "Always would restart a finished pod forever"
        yield Violation(
            path,
            'Required value: valid values: "OnFailure", "Never" '
            f"({why}; a Job's pods must use Never or OnFailure)",
        )
    elif value not in POD_RESTART_POLICIES:
        yield Violation(
            path,
            f"{unsupported(value, POD_RESTART_POLICIES)}; {unsupported(value, JOB_RESTART_POLICIES)}"
            " (values are case-sensitive)",
        )
    elif value != "Never" and sim.has("podFailurePolicy"):
        yield Violation(
            path,
            invalid(value, 'only "Never" is supported when podFailurePolicy is specified')
            + " (a pod failure policy judges each failed pod, so pods must not restart in place)",
        )
