"""api-cronjob-job-template: a selector or manualSelector in a CronJob's job template.

What: ``spec.jobTemplate.spec.selector`` must not be set (each Job the CronJob creates gets a
generated selector) and ``spec.jobTemplate.spec.manualSelector`` may only be ``false`` or unset.
All the Job rules (``api-*``) also apply to the job template, at ``spec.jobTemplate.spec``.

Why: HTTP 422 on create: ``spec.jobTemplate.spec.selector: Invalid value: ...: `selector` will
be auto-generated``. It comes from turning a Job into a CronJob by pasting its exported spec.

Example::

    spec:
      jobTemplate:
        spec:
          selector: {matchLabels: {app: report}}   # `selector` will be auto-generated
          manualSelector: true                      # supported values: "nil", "false"

Fix: none automatic; delete both fields (and any ``controller-uid`` label in the template).
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid
from jobguard.rules.base import NoOptions

CODE = "JG015"
NAME = "api-cronjob-job-template"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
KINDS = ("CronJob",)
SUMMARY = "A selector or manualSelector: true in a CronJob's job template"
REMEDIATION = "Remove spec.jobTemplate.spec.selector and manualSelector: the API server generates each Job's selector."


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    selector = sim.get("selector")
    if selector is not None and sim.has("selector"):
        yield Violation(
            view.at("selector"),
            invalid(selector, "`selector` will be auto-generated")
            + " (each Job the CronJob creates gets its own generated selector)",
        )
    if sim.get("manualSelector") is True:
        yield Violation(
            view.at("manualSelector"), 'Unsupported value: true: supported values: "nil", "false"'
        )
