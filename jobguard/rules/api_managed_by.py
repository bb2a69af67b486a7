"""api-managed-by: a managedBy value the API server rejects.

What: ``spec.managedBy`` names the controller that reconciles the Job: a domain-prefixed path
(``example.com/my-controller``) of at most 63 characters, whose domain is a lowercase RFC 1123
subdomain and whose path uses only ``[A-Za-z0-9/-._~%!$&'()*+,;=:]``. The built-in controller is
``kubernetes.io/job-controller`` (the same as leaving it unset).

Why: HTTP 422 on create; and a Job managed by a controller that does not exist is never run, so
the value is worth a second look even when valid (this rule only checks validity).

Example::

    spec:
      managedBy: kueue          # must be a domain-prefixed path (such as "acme.io/foo")

Fix: none automatic; use the controller's documented value (Kueue: ``kueue.x-k8s.io/multikueue``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jobguard.core.kubernetes.names import dns1123_subdomain_errors
from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid
from jobguard.rules.base import NoOptions

CODE = "JG011"
NAME = "api-managed-by"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "managedBy values that are not a valid domain-prefixed path"
REMEDIATION = "Use a domain-prefixed path of at most 63 characters, e.g. kueue.x-k8s.io/multikueue."

MAX_LENGTH = 63
_PATH = re.compile(r"^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$")


def managed_by_errors(value: str) -> list[str]:
    """``ValidateDomainPrefixedPath`` and the length limit, as messages."""
    if not value:
        return ["Required value"]
    errors = []
    parts = value.split("/", 1)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        errors.append(invalid(value, 'must be a domain-prefixed path (such as "acme.io/foo")'))
    else:
        host, path = parts
        for message in dns1123_subdomain_errors(host):
            errors.append(invalid(host, message))
        if not _PATH.match(path):
            errors.append(
                invalid(path, "Invalid path: must match the regex " + _PATH.pattern[1:-1])
            )
    if len(value) > MAX_LENGTH:
        errors.append(f"Too long: may not be longer than {MAX_LENGTH}")
    return errors


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    value = sim.get("managedBy")
    if not isinstance(value, str):
        return
    errors = managed_by_errors(value)
    if errors:
        yield Violation(view.at("managedBy"), "; ".join(errors))
