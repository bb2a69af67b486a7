"""api-feature-gates: fields the target Kubernetes version accepts but silently drops.

What: a field that the target version's schema has (so the strict decoder accepts it) but whose
feature gate is off by default there (``--kubernetes-version``, default 1.37) is removed by the
API server on create, without an error or a warning:

* Job fields: ``podFailurePolicy`` in 1.25, ``backoffLimitPerIndex``/``maxFailedIndexes``,
  ``FailIndex`` pod-failure-policy rules and ``podReplacementPolicy`` in 1.28,
  ``successPolicy`` in 1.30, ``managedBy`` in 1.30-1.31 (also inside a CronJob's job template);
* pod template fields (``DropDisabledPodFields``), for example ``schedulingGates`` in 1.26,
  ``resourceClaims`` in 1.26-1.33, init container ``restartPolicy: Always`` (sidecars) in 1.28,
  ``resizePolicy`` in 1.27-1.32, the pod-level ``resources`` in 1.32-1.33, image volumes in
  1.31-1.34, ``hostnameOverride``, ``restartPolicyRules`` and ``fileKeyRef`` in 1.34, and in
  every version so far ``lifecycle.stopSignal``, ``podCertificate`` and ``clusterTrustBundle``
  projections. The full table, with each gate's defaults per version, is
  ``jobguard/core/kubernetes/versions.py``.

A field the version's schema does not have at all is an unknown field (``api-structure``, an
error): the strict decoder rejects the object.

Why: the Job is created, but without the behaviour the manifest asks for: no success policy, no
per-index back-off, a sidecar that runs as a plain init container and blocks the pod. It is a
warning, not an error: the API server accepts the object. Clusters with the gate switched on
explicitly keep the field: suppress the rule there with a reason, or lint with the right
``--kubernetes-version``.

Example (``--kubernetes-version 1.30``)::

    spec:
      successPolicy: {rules: [{succeededCount: 1}]}   # dropped: JobSuccessPolicy is alpha (off) in 1.30

Fix: none automatic; target a version where the feature is on, or drop the field.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from jobguard.core.kubernetes.schema import fields_present, short_type
from jobguard.core.kubernetes.versions import (
    CRONJOB_FEATURES,
    FEATURES,
    Feature,
    FieldGate,
    Version,
    feature_enabled,
    pod_fields_off,
    show,
)
from jobguard.core.model import Action, Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG016"
NAME = "api-feature-gates"
CATEGORY = Category.API
DEFAULT_ACTION = Action.WARN  # the API server accepts the object: the field has no effect
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Fields the target Kubernetes version silently drops (feature gate off by default)"
REMEDIATION = (
    "Target a Kubernetes version where the feature is enabled by default, or remove the field."
)


def _dropped(gate: str, name: str, version: Version, enabled: Version | None) -> str:
    on = (
        f"on by default from {show(enabled)}"
        if enabled is not None
        else "off by default in every release so far"
    )
    return (
        f"the API server drops {name}: feature gate {gate} is off by default in "
        f"Kubernetes {show(version)} ({on}); the object is created without it"
    )


def _job_features(view: JobView, version: Version) -> Iterator[Violation]:
    for feature in FEATURES:
        if not feature.added <= version < feature.enabled:
            continue
        for name in feature.fields:
            if view.has(name):
                yield Violation(view.at(name), _dropped_feature(feature, name, version))
    if not feature_enabled("JobBackoffLimitPerIndex", version) and version >= (1, 28):
        # FailIndex rules go with JobBackoffLimitPerIndex (before 1.28 they are invalid).
        rules = view.get("podFailurePolicy", "rules")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict) and rule.get("action") == "FailIndex":
                yield Violation(
                    view.at("podFailurePolicy", "rules", index),
                    _dropped_feature(FEATURES[1], "FailIndex rules", version),
                )
    if view.is_cronjob:
        for feature in CRONJOB_FEATURES:
            if feature.added <= version < feature.enabled:
                for name in feature.fields:
                    if view.cronjob_spec.get(name) is not None:
                        yield Violation(("spec", name), _dropped_feature(feature, name, version))


def _dropped_feature(feature: Feature, name: str, version: Version) -> str:
    return _dropped(feature.gate, name, version, feature.enabled)


@functools.lru_cache(maxsize=16)
def _gates_off(version: Version) -> tuple[Mapping[str, FieldGate], frozenset[str]]:
    """The pod field gates off in ``version`` and their fields, once per version (not per
    object: ``fields_present`` keys its own per-version cache on that set)."""
    gates = MappingProxyType(pod_fields_off(version))
    return gates, frozenset(gates)


def _pod_fields(view: JobView, version: Version) -> Iterator[Violation]:
    gates, wanted = _gates_off(version)
    if not gates:
        return
    for path, key in fields_present(view.obj, version, wanted):
        gate = gates[key]
        type_name, field = key.rsplit(".", 1)
        if (
            field == "restartPolicy"
            and short_type(type_name) == "Container"
            and ("initContainers" not in path)
        ):
            continue  # only an init container's restartPolicy is the sidecar field
        yield Violation(path, _dropped(gate.gate, field, version, gate.enabled))


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    version = subject.version
    yield from _job_features(view, version)
    yield from _pod_fields(view, version)
