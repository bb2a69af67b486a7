"""api-job-update: the changes the API server refuses when a deployed Job is updated.

What: judged on an update only, from the object as deployed and the manifest that replaces it
(``jobguard lint --changed-since REF`` and ``jobguard lint --old DEPLOYED.yaml NEW.yaml``; the
API server on every UPDATE). A Job's ``spec.selector``, ``spec.template``,
``spec.completionMode``, ``spec.podFailurePolicy``, ``spec.backoffLimitPerIndex``,
``spec.managedBy`` and ``spec.successPolicy`` are immutable (``field is immutable``), and so is
``spec.completions``, except in an Indexed Job when it changes together with
``spec.parallelism``. The scheduling directives of a suspended Job may change. CronJobs have no
immutable fields. A manifest on its own (no deployed object to compare with) never gets this
finding.

Why: ``kubectl apply`` of the changed manifest fails with HTTP 422 (``spec.template: Invalid
value: ...: field is immutable``) and the deployed Job keeps running as it was: a pipeline that
only learns this at deploy time has already merged the change.

Example::

    # deployed:  spec.template.spec.containers[0].image: worker:1.0
    # the branch: spec.template.spec.containers[0].image: worker:1.1
    spec.template: Invalid value: ...: field is immutable

Fix: none to write: delete the Job and create it again (a Job is run-once; a new name, or a
CronJob for recurring work, is the usual way), or leave the immutable field as deployed.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG030"
NAME = "api-job-update"
CATEGORY = Category.API
KINDS = ("Job",)
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it: the API server judges updates
SUMMARY = "Changes to a deployed Job's immutable fields (lint --changed-since / --old)"
REMEDIATION = (
    "Keep the deployed value of the immutable field, or delete the Job and create it anew "
    "(a new name for a new run)."
)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    """Nothing to judge on one object: the finding needs the deployed object too, so the lint
    front end makes it (``jobguard.lint.updates``) when it has both."""
    return iter(())
