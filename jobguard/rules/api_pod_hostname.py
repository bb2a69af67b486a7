"""api-pod-hostname: a ``hostnameOverride`` the API server rejects.

What: ``spec.hostnameOverride`` of a Job's pod template (CronJob:
``spec.jobTemplate.spec.template``), from Kubernetes 1.35 where the HostnameOverride gate is on
by default (the field is dropped before): an RFC 1123 subdomain of at most 64 characters (the
kernel's hostname limit), not beside ``setHostnameAsFQDN: true`` and not in a
``hostNetwork: true`` pod, whose hostname is the node's.

Source: KEP-4762 and its implementation (kubernetes PR 132558), whose end-to-end tests refuse
exactly these three cases. The wording of the two conflict messages could not be read from a
released tree; the tests assert their field path.

Why: an HTTP 422 on create.

Example::

    spec:
      hostNetwork: true
      hostnameOverride: worker.example.com   # not with hostNetwork

Fix: none automatic; drop one of the two settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.kubernetes.names import dns1123_subdomain_errors, max_len_error
from jobguard.core.model import Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid
from jobguard.rules.base import NoOptions

CODE = "JG027"
NAME = "api-pod-hostname"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "A hostnameOverride the API server rejects (syntax, setHostnameAsFQDN, hostNetwork)"
REMEDIATION = (
    "Use an RFC 1123 subdomain of at most 64 characters, without setHostnameAsFQDN or hostNetwork."
)

HOSTNAME_OVERRIDE_SINCE = (1, 35)  # HostnameOverride on by default; the field is dropped before
HOSTNAME_MAX = 64


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    if subject.version < HOSTNAME_OVERRIDE_SINCE:
        return
    sim = api_view(view, subject)
    pod = sim.pod_spec
    value = pod.get("hostnameOverride") if pod else None
    if not isinstance(value, str):
        return
    at = sim.at("template", "spec", "hostnameOverride")
    if len(value) > HOSTNAME_MAX:
        yield Violation(at, invalid(value, max_len_error(HOSTNAME_MAX)))
    for error in dns1123_subdomain_errors(value):
        yield Violation(at, invalid(value, error))
    if pod.get("setHostnameAsFQDN") is True:
        yield Violation(
            at, invalid(value, "hostnameOverride and setHostnameAsFQDN may not both be set")
        )
    if pod.get("hostNetwork") is True:
        yield Violation(
            at, invalid(value, "hostnameOverride may not be set when hostNetwork is true")
        )
