"""api-feature-gates: fields the target Kubernetes version accepts but silently drops.

What: a field whose feature gate exists but is off by default in the target version
(``--kubernetes-version``, default 1.34) is removed by the API server without an error:
``podFailurePolicy`` before 1.26, ``backoffLimitPerIndex``/``maxFailedIndexes`` and
``podReplacementPolicy`` in 1.28, ``successPolicy`` in 1.30, ``managedBy`` in 1.30-1.31, a
CronJob's ``timeZone`` in 1.24 (and ``FailIndex`` pod-failure-policy rules in 1.28). Fields older
than their version's schema are reported by ``api-structure`` as unknown fields instead.

Why: the Job is created, but without the behaviour the manifest asks for: no success policy, no
per-index back-off, a schedule in the controller's local time. Clusters with the gate switched
on explicitly keep the field: suppress the rule there with a reason, or lint with the right
``--kubernetes-version``.

Example (``--kubernetes-version 1.30``)::

    spec:
      successPolicy: {rules: [{succeededCount: 1}]}   # dropped: JobSuccessPolicy is alpha (off) in 1.30

Fix: none automatic; target a version where the feature is on, or drop the field.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.context import Context
from jobguard.core.kubernetes.apiserver import CRONJOB_FEATURES, FEATURES, Feature
from jobguard.core.model import Category, Violation
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG016"
NAME = "api-feature-gates"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Fields the target Kubernetes version silently drops (feature gate off by default)"
REMEDIATION = (
    "Target a Kubernetes version where the feature is enabled by default, or remove the field."
)


def _version(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def _dropped(feature: Feature, name: str, version: tuple[int, int]) -> str:
    return (
        f"the API server drops {name}: feature gate {feature.gate} is off by default in "
        f"Kubernetes {_version(version)} (on by default from {_version(feature.enabled)})"
    )


def check(view: JobView, options: NoOptions, ctx: Context) -> Iterator[Violation]:
    version = ctx.kubernetes_version
    for feature in FEATURES:
        if not feature.added <= version < feature.enabled:
            continue
        for name in feature.fields:
            if view.has(name):
                yield Violation(view.at(name), _dropped(feature, name, version))
    if (1, 28) <= version < (1, 29):  # FailIndex rules go with JobBackoffLimitPerIndex
        rules = view.get("podFailurePolicy", "rules")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict) and rule.get("action") == "FailIndex":
                yield Violation(
                    view.at("podFailurePolicy", "rules", index),
                    _dropped(FEATURES[1], "FailIndex rules", version),
                )
    if view.is_cronjob:
        for feature in CRONJOB_FEATURES:
            if feature.added <= version < feature.enabled:
                for name in feature.fields:
                    if view.cronjob_spec.get(name) is not None:
                        yield Violation(("spec", name), _dropped(feature, name, version))
