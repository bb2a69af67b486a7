"""api-object-meta: names, labels and annotations the API server rejects.

What: ``metadata.name`` (required unless ``generateName``; a lowercase RFC 1123 subdomain of at
most 253 characters), ``metadata.generateName``, ``metadata.namespace`` (an RFC 1123 label),
label keys and values and annotation keys of the object and of its pod template, and the name
limits that come from what the API server derives from the name:

* a Job's name becomes the value of the ``job-name`` labels the API server adds to the pod
  template, so a name over 63 characters fails at ``spec.template.labels``; when the Job has no
  labels of its own, defaulting copied the template's labels to ``metadata.labels`` and the
  error appears there first;
* an Indexed Job's pods are named ``<name>-<index>`` and that must be an RFC 1123 label: no dots,
  at most 63 characters (``metadata.name``);
* a CronJob's name gets an 11-character suffix for its Jobs: at most 52 characters on create;
* ``metadata.resourceVersion`` on create (an object exported with ``kubectl get -o yaml``): the
  API server refuses to store it.

Why: each is an HTTP 422 (or 409/500 for resourceVersion) from ``kubectl apply``; a copied
manifest or a templated name that grew too long fails only at deploy time.

Example::

    metadata:
      name: nightly-billing-reconciliation-for-all-regions-and-all-tenants-v2   # 67 characters
    # spec.template.labels: Invalid value: "nightly-...-v2": must be no more than 63 characters

Fix: none automatic; shorten or rename (lower case letters, digits, '-'), quote label values,
and remove ``resourceVersion``, ``uid`` and ``status`` from exported manifests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import (
    ANNOTATIONS_TOTAL_MAX,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_object, invalid, is_int
from jobguard.rules.base import NoOptions

CODE = "JG003"
NAME = "api-object-meta"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Object and pod-template names, labels and annotations the API server rejects"
REMEDIATION = (
    "Use a lowercase RFC 1123 name (Jobs: at most 63 characters, CronJobs: 52; Indexed Jobs: "
    "no dots), valid label keys and values, and no resourceVersion in manifests to create."
)

CRONJOB_NAME_MAX = 52


def _joined(value: Any, errors: list[str]) -> str:
    return invalid(value, "; ".join(errors))


def label_errors(labels: Any) -> list[str]:
    """``ValidateLabels`` messages (all reported at the labels map itself), naming the labels.

    The generated ``job-name`` and ``batch.kubernetes.io/job-name`` carry the same value: one
    message names both.
    """
    if not isinstance(labels, dict):
        return []
    found: dict[str, list[str]] = {}
    for key, value in labels.items():
        key_errors = qualified_name_errors(str(key))
        if key_errors:
            found.setdefault(invalid(str(key), "; ".join(key_errors)), []).append(str(key))
        if isinstance(value, str):
            value_errors = label_value_errors(value)
            if value_errors:
                found.setdefault(invalid(value, "; ".join(value_errors)), []).append(str(key))
    return [
        f"{message} ({'label' if len(where) == 1 else 'labels'} {', '.join(where)})"
        for message, where in found.items()
    ]


def annotation_errors(annotations: Any) -> list[str]:
    if not isinstance(annotations, dict):
        return []
    out = []
    total = 0
    for key, value in annotations.items():
        key_errors = qualified_name_errors(str(key).lower())
        if key_errors:
            out.append(invalid(str(key), "; ".join(key_errors)))
        total += len(str(key)) + (len(value) if isinstance(value, str) else 0)
    if total > ANNOTATIONS_TOTAL_MAX:
        out.append(f"Too long: must have at most {ANNOTATIONS_TOTAL_MAX} bytes")
    return out


def _meta_checks(
    metadata: dict[str, Any], prefix: FieldPath, *, copied_labels: bool
) -> Iterator[Violation]:
    labels = label_errors(metadata.get("labels"))
    if labels:
        note = (
            ". The Job has no labels of its own, so the API server copied the pod template's "
            "labels here, including the generated job-name labels"
            if copied_labels
            else ""
        )
        yield Violation((*prefix, "labels"), "; ".join(labels) + note)
    annotations = annotation_errors(metadata.get("annotations"))
    if annotations:
        yield Violation((*prefix, "annotations"), "; ".join(annotations))


def mask_trailing_dash(prefix: str) -> str:
    """apimachinery's ``maskTrailingDash``: a generateName prefix may end in '-'."""
    if len(prefix) > 1 and prefix.endswith("-"):
        return prefix[:-2] + "a"
    return prefix


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    api = api_object(view, subject)
    metadata = api.obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name")
    generate_name = metadata.get("generateName")
    if isinstance(generate_name, str) and generate_name:
        errors = dns1123_subdomain_errors(mask_trailing_dash(generate_name))
        if errors:
            yield Violation(("metadata", "generateName"), _joined(generate_name, errors))
    if not name and not generate_name:
        yield Violation(("metadata", "name"), "Required value: name or generateName is required")
    elif isinstance(name, str) and name:
        errors = dns1123_subdomain_errors(name)
        if errors:
            yield Violation(("metadata", "name"), _joined(name, errors))
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace:
        errors = dns1123_label_errors(namespace)
        if errors:
            yield Violation(("metadata", "namespace"), _joined(namespace, errors))
    yield from _meta_checks(metadata, ("metadata",), copied_labels=api.labels_copied)

    sim = api.view
    template_meta = sim.template.get("metadata")
    if isinstance(template_meta, dict):
        labels = label_errors(template_meta.get("labels"))
        if labels:
            generated = ". The API server adds the job-name labels with the Job's name as value"
            long_name = isinstance(name, str) and len(name) > 63 and not view.is_cronjob
            yield Violation(
                sim.at("template", "labels"), "; ".join(labels) + (generated if long_name else "")
            )
        annotations = annotation_errors(template_meta.get("annotations"))
        if annotations:
            yield Violation(sim.at("template", "annotations"), "; ".join(annotations))

    creating = subject.api_operation == "CREATE"
    if view.is_cronjob and creating and isinstance(name, str) and len(name) > CRONJOB_NAME_MAX:
        yield Violation(
            ("metadata", "name"),
            invalid(name, f"must be no more than {CRONJOB_NAME_MAX} characters")
            + f" (the CronJob's Jobs are named <name>-<11-digit timestamp>; this name has {len(name)})",
        )
    if not view.is_cronjob and isinstance(name, str) and name:
        completions = sim.get("completions")
        if sim.get("completionMode") == "Indexed" and is_int(completions) and completions > 0:
            hostname = f"{name}-{completions - 1}"
            if dns1123_label_errors(hostname):
                yield Violation(
                    ("metadata", "name"),
                    invalid(name, f"will not able to create pod with invalid DNS label: {hostname}")
                    + " (Indexed Job pods use <name>-<index> as hostname: at most 63 characters, no dots)",
                )
    if creating and metadata.get("resourceVersion"):
        yield Violation(
            ("metadata", "resourceVersion"),
            "resourceVersion should not be set on objects to be created (remove it, with uid, "
            "creationTimestamp and status: this looks like an object exported from a cluster)",
        )
