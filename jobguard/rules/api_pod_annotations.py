"""api-pod-annotations: pod template annotations the API server gives a meaning to and rejects.

What, in the annotations of a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``),
following ``ValidatePodSpecificAnnotations``, ``validateSeccompAnnotationsAndFields`` and
``validateAppArmorAnnotationsAndFieldsMatchOnCreate`` (pkg/apis/core/validation), which
``ValidatePodTemplateSpec`` runs:

* ``kubernetes.io/config.mirror`` (a mirror pod) requires ``spec.nodeName``;
* ``controller.kubernetes.io/pod-deletion-cost`` is a 32-bit integer written plainly (no ``+``,
  no leading zeros);
* the legacy seccomp annotations ``seccomp.security.alpha.kubernetes.io/pod`` and
  ``container.seccomp.security.alpha.kubernetes.io/<container>`` hold ``runtime/default``,
  ``docker/default``, ``unconfined`` or ``localhost/<relative path>``, and agree with a
  ``seccompProfile`` field set beside them;
* the legacy AppArmor annotations ``container.apparmor.security.beta.kubernetes.io/<container>``
  name a container of the pod, hold ``runtime/default``, ``unconfined`` or
  ``localhost/<profile>``, and agree with an ``appArmorProfile`` field (container's, else the
  pod's; not checked for Windows pods).

* ``scheduler.alpha.kubernetes.io/tolerations`` (long unused by the scheduler, still parsed):
  a JSON list of tolerations, each valid as a ``spec.tolerations`` item.

Why: each is an HTTP 422 on create; these annotations come from old manifests and charts
written before the fields existed.

Example::

    template:
      metadata:
        annotations:
          container.apparmor.security.beta.kubernetes.io/worker: runtime/default
          # Invalid value: "worker": container not found (the container is named main)

Fix: none automatic; use the ``securityContext`` fields instead of the annotations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import go_quote
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid
from jobguard.rules.api_pod_security import local_path_errors
from jobguard.rules.api_pod_spec import toleration_errors
from jobguard.rules.base import NoOptions

CODE = "JG026"
NAME = "api-pod-annotations"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Pod template annotations the API server rejects (seccomp, AppArmor, deletion cost, mirror)"
)
REMEDIATION = (
    "Use the securityContext seccompProfile and appArmorProfile fields instead of the legacy "
    "annotations, and a plain 32-bit integer as pod-deletion-cost."
)

MIRROR = "kubernetes.io/config.mirror"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
TOLERATIONS = "scheduler.alpha.kubernetes.io/tolerations"
TOLERATION_FIELDS = {
    name.lower(): name for name in ("key", "operator", "value", "effect", "tolerationSeconds")
}
SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
APPARMOR_CONTAINER = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_PROFILES = ("runtime/default", "docker/default", "unconfined")
APPARMOR_PROFILES = ("", "runtime/default", "unconfined")
LOCALHOST = "localhost/"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_DIGITS = re.compile(r"-?[0-9]+")


def deletion_cost_valid(value: str) -> bool:
    """``helper.GetDeletionCostFromPodAnnotations``: ``validFirstDigit``, then
    ``strconv.ParseInt(value, 10, 32)``."""
    first_ok = bool(value) and (value[0] == "-" or value == "0" or "1" <= value[0] <= "9")
    return first_ok and bool(_DIGITS.fullmatch(value)) and INT32_MIN <= int(value) <= INT32_MAX


def decode_tolerations(text: str) -> list[dict[str, Any]] | str:
    """``helper.GetTolerationsFromPodAnnotations``: the tolerations, or why Go's
    ``json.Unmarshal`` into ``[]Toleration`` fails (field names match case-insensitively,
    unknown ones are ignored, a ``null`` item is an empty toleration)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"invalid JSON ({exc})"
    if data is None:
        return []
    if not isinstance(data, list):
        return (
            f"json: cannot unmarshal {type(data).__name__} into Go value of type []core.Toleration"
        )
    out: list[dict[str, Any]] = []
    for item in data:
        if item is None:
            out.append({})
            continue
        if not isinstance(item, dict):
            return "json: cannot unmarshal a non-object into Go value of type core.Toleration"
        toleration: dict[str, Any] = {}
        for key, value in item.items():
            name = TOLERATION_FIELDS.get(str(key).lower())
            if name is None or value is None:
                continue
            wanted = int if name == "tolerationSeconds" else str
            if not isinstance(value, wanted) or isinstance(value, bool):
                return f"json: cannot unmarshal {type(value).__name__} into Go struct field Toleration.{name}"
            toleration[name] = value
        out.append(toleration)
    return out


def _toleration_annotation(at: FieldPath, text: str) -> Iterator[Violation]:
    """``ValidateTolerationsInPodAnnotations``."""
    decoded = decode_tolerations(text)
    if isinstance(decoded, str):
        yield Violation(at, invalid(TOLERATIONS, decoded))
        return
    yield from toleration_errors((*at, TOLERATIONS), decoded)


def seccomp_profile_errors(value: str) -> list[tuple[str, str]]:
    """``ValidateSeccompProfile``: (value shown, message) pairs."""
    if value in SECCOMP_PROFILES:
        return []
    if value.startswith(LOCALHOST):
        path = value[len(LOCALHOST) :]
        return [(path, error) for error in local_path_errors(path)]
    return [(value, "must be a valid seccomp profile")]


def _containers(sim: JobView) -> list[tuple[FieldPath, dict[str, Any]]]:
    # VisitContainersWithPath's order: init containers, then containers
    return [*sim.containers(init=True), *sim.containers()]


def _annotation_errors(
    at: FieldPath, annotations: dict[str, Any], pod: dict[str, Any], names: set[str]
) -> Iterator[Violation]:
    """``ValidatePodSpecificAnnotations``."""
    if MIRROR in annotations and not pod.get("nodeName"):
        yield Violation(
            (*at, Key(MIRROR)),
            invalid(annotations[MIRROR], "must set spec.nodeName if mirror pod annotation is set"),
        )
    tolerations = annotations.get(TOLERATIONS)
    if isinstance(tolerations, str) and tolerations:
        yield from _toleration_annotation(at, tolerations)
    cost = annotations.get(DELETION_COST)
    if DELETION_COST in annotations and not (isinstance(cost, str) and deletion_cost_valid(cost)):
        yield Violation((*at, Key(DELETION_COST)), invalid(cost, "must be a 32bit integer"))
    for key, value in annotations.items():
        if not isinstance(value, str):
            continue
        if key == SECCOMP_POD or key.startswith(SECCOMP_CONTAINER):
            for shown_value, error in seccomp_profile_errors(value):
                yield Violation((*at, key), invalid(shown_value, error))
    for key, value in annotations.items():
        if not isinstance(value, str) or not key.startswith(APPARMOR_CONTAINER):
            continue
        container = key[len(APPARMOR_CONTAINER) :]
        if container not in names:
            yield Violation(
                (*at, Key(key)),
                invalid(container, "container not found")
                + f" (the pod's containers: {', '.join(sorted(names)) or 'none'})",
            )
        if value not in APPARMOR_PROFILES and not value.startswith(LOCALHOST):
            yield Violation(
                (*at, Key(key)),
                invalid(value, f"invalid AppArmor profile name: {go_quote(value)}"),
            )


RUNTIME_DEFAULT = {
    "seccomp": ("runtime/default", "docker/default"),
    "apparmor": ("runtime/default",),
}


def _profile_match(at: FieldPath, annotation: str, profile: Any, what: str) -> Iterator[Violation]:
    """``validateSeccompAnnotationsAndFieldsMatch`` (``what`` seccomp) and the AppArmor
    switch of ``validateAppArmorAnnotationsAndFieldsMatchOnCreate`` (``what`` apparmor)."""
    if not isinstance(profile, dict):
        return
    kind = profile.get("type")
    expected: tuple[str, ...] = {
        "Unconfined": ("unconfined",),
        "RuntimeDefault": RUNTIME_DEFAULT[what],
    }.get(str(kind), ())
    localhost = kind == "Localhost"
    if (expected and annotation not in expected) or (
        localhost and not annotation.startswith(LOCALHOST)
    ):
        yield Violation((*at, "type"), f"Forbidden: {what} type in annotation and field must match")
    elif localhost and profile.get("localhostProfile") != annotation[len(LOCALHOST) :]:
        yield Violation(
            (*at, "localhostProfile"),
            f"Forbidden: {what} profile in annotation and field must match",
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    annotations = _mapping(_mapping(sim.template.get("metadata")).get("annotations"))
    if not annotations:
        return
    pod = sim.pod_spec
    containers = _containers(sim)
    names = {c["name"] for _, c in containers if isinstance(c.get("name"), str)}
    yield from _annotation_errors(sim.at("template", "annotations"), annotations, pod, names)
    spec_at = sim.at("template", "spec")
    pod_context = _mapping(pod.get("securityContext"))
    # validateSeccompAnnotationsAndFields
    pod_seccomp = annotations.get(SECCOMP_POD)
    if isinstance(pod_seccomp, str) and pod_context.get("seccompProfile") is not None:
        yield from _profile_match(
            (*spec_at, "securityContext", "seccompProfile"),
            pod_seccomp,
            pod_context["seccompProfile"],
            "seccomp",
        )
    for at, container in containers:
        profile = _mapping(container.get("securityContext")).get("seccompProfile")
        annotation = annotations.get(SECCOMP_CONTAINER + str(container.get("name") or ""))
        if profile is not None and isinstance(annotation, str):
            yield from _profile_match(
                (*at, "securityContext", "seccompProfile"), annotation, profile, "seccomp"
            )
    # validateAppArmorAnnotationsAndFieldsMatchOnCreate (skipped for Windows pods)
    if _mapping(pod.get("os")).get("name") == "windows":
        return
    for at, container in containers:
        profile = _mapping(container.get("securityContext")).get("appArmorProfile")
        if profile is None:
            profile = pod_context.get("appArmorProfile")
        annotation = annotations.get(APPARMOR_CONTAINER + str(container.get("name") or ""))
        if isinstance(profile, dict) and isinstance(annotation, str):
            yield from _profile_match(
                (*at, "securityContext", "appArmorProfile"), annotation, profile, "apparmor"
            )
