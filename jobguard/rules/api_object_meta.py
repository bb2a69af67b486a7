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
* with ``generateName`` and no name, the API server validates the name it generates (at most
  58 characters of the prefix plus 5 random ones): a CronJob prefix of 48 characters or more,
  or an Indexed Job whose generated ``<name>-<index>`` exceeds 63 characters, is rejected
  although no name is written;
* ``metadata.ownerReferences`` (``ValidateOwnerReferences``): ``apiVersion`` with a version,
  ``kind``, ``name`` and ``uid`` set, no ``v1`` ``Event`` owner, at most one
  ``controller: true``;
* ``metadata.finalizers``: qualified names (``ValidateFinalizers``), not both ``orphan`` and
  ``foregroundDeletion``, and an unprefixed name only if standard (``kubernetes``,
  ``orphan``, ``foregroundDeletion``: ``validateKubeFinalizerName``).

Not an error: ``metadata.resourceVersion`` in a manifest (an object exported with ``kubectl get
-o yaml``): ``kubectl create``, ``apply`` and ``apply --server-side`` all accept it (measured on
a v1.36 API server, KUBECTL-YAML.md).

Why: each is an HTTP 422 from ``kubectl apply``; a copied manifest or a templated name that grew
too long fails only at deploy time.

Example::

    metadata:
      name: nightly-billing-reconciliation-for-all-regions-and-all-tenants-v2   # 67 characters
    # spec.template.labels: Invalid value: "nightly-...-v2": must be no more than 63 characters

Fix: none automatic; shorten or rename (lower case letters, digits, '-'), quote label values.
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
    "no dots), valid label keys and values."
)

CRONJOB_NAME_MAX = 52
MAX_GENERATED_PREFIX = 58  # names.maxGeneratedNameLength: 63 - the random suffix
GENERATED_SUFFIX = 5
GENERATED_NOTE = "; the name is generated from generateName plus 5 random characters"
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


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


def generated_name(prefix: str) -> str:
    """What ``names.SimpleNameGenerator`` makes of ``generateName`` (at most 58 characters of
    it, then 5 random ones): ``x`` stands for the random part, whose length is what matters."""
    return prefix[:MAX_GENERATED_PREFIX] + "x" * GENERATED_SUFFIX


def owner_reference_errors(references: Any) -> Iterator[Violation]:
    """apimachinery's ``ValidateOwnerReferences`` (errors at ``metadata.ownerReferences``,
    without the index, as the API server reports them)."""
    at: FieldPath = ("metadata", "ownerReferences")
    first_controller = ""
    for reference in references if isinstance(references, list) else []:
        if not isinstance(reference, dict):
            continue
        api_version = reference.get("apiVersion")
        api_version = api_version if isinstance(api_version, str) else ""
        kind = reference.get("kind") if isinstance(reference.get("kind"), str) else ""
        # schema.FromAPIVersionAndKind: the version is what follows the group's slash
        version = api_version.split("/", 1)[1] if "/" in api_version else api_version
        if api_version.count("/") > 1:
            version = ""
        if not version:
            yield Violation((*at, "apiVersion"), invalid(api_version, "version must not be empty"))
        if not kind:
            yield Violation((*at, "kind"), invalid(kind, "kind must not be empty"))
        for key in ("name", "uid"):
            if not reference.get(key):
                yield Violation((*at, key), invalid("", f"{key} must not be empty"))
        if api_version == "v1" and kind == "Event":
            yield Violation(
                at, invalid(reference, "/v1, Kind=Event is disallowed from being an owner")
            )
        if reference.get("controller") is True:
            current = f"{kind}/{reference.get('name') or ''}"
            if first_controller:
                yield Violation(
                    at,
                    invalid(
                        references,
                        'Only one reference can have Controller set to true. Found "true" in '
                        f"references for {first_controller} and {current}",
                    ),
                )
            else:
                first_controller = current


def finalizer_errors(finalizers: Any) -> Iterator[Violation]:
    """apimachinery's ``ValidateFinalizers`` (errors at ``metadata.finalizers``), then the core
    API's ``validateKubeFinalizerName`` for each (at ``metadata.finalizers[i]``)."""
    items = [f for f in finalizers if isinstance(f, str)] if isinstance(finalizers, list) else []
    for finalizer in items:
        for error in qualified_name_errors(finalizer):
            yield Violation(("metadata", "finalizers"), invalid(finalizer, error))
    if "orphan" in items and "foregroundDeletion" in items:
        yield Violation(
            ("metadata", "finalizers"),
            invalid(items, "finalizer orphan and foregroundDeletion cannot be both set"),
        )
    for index, finalizer in enumerate(finalizers if isinstance(finalizers, list) else []):
        if (
            isinstance(finalizer, str)
            and "/" not in finalizer
            and finalizer not in STANDARD_FINALIZERS
        ):
            yield Violation(
                ("metadata", "finalizers", index),
                invalid(
                    finalizer, "name is neither a standard finalizer name nor is it fully qualified"
                )
                + f" (prefix it with a domain you own, e.g. example.com/{finalizer})",
            )


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
    yield from owner_reference_errors(metadata.get("ownerReferences"))
    yield from finalizer_errors(metadata.get("finalizers"))

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
    # The name the API server validates: on create with generateName only, the generated one.
    from_prefix = creating and not name and isinstance(generate_name, str) and generate_name
    if from_prefix:
        name = generated_name(str(generate_name))
    note = GENERATED_NOTE if from_prefix else ""
    if view.is_cronjob and creating and isinstance(name, str) and len(name) > CRONJOB_NAME_MAX:
        yield Violation(
            ("metadata", "name"),
            invalid(name, f"must be no more than {CRONJOB_NAME_MAX} characters")
            + f" (the CronJob's Jobs are named <name>-<11-digit timestamp>; this name has {len(name)}{note})",
        )
    if not view.is_cronjob and isinstance(name, str) and name:
        completions = sim.get("completions")
        if sim.get("completionMode") == "Indexed" and is_int(completions) and completions > 0:
            hostname = f"{name}-{completions - 1}"
            if dns1123_label_errors(hostname):
                yield Violation(
                    ("metadata", "name"),
                    invalid(name, f"will not able to create pod with invalid DNS label: {hostname}")
                    + f" (Indexed Job pods use <name>-<index> as hostname: at most 63 characters, no dots{note})",
                )
