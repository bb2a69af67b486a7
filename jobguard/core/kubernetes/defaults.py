"""What the API server fills in when a Job or CronJob leaves a field out (KUBERNETES-JOB-API s.1).

:data:`DEFAULTS` is the one table of those defaults. Each entry names a path relative to the
object it defaults (the Job spec, a pod template, or the CronJob spec), in the order the
defaulters run, and gives the default as a function of that object and the Kubernetes version,
since some defaults depend on other fields (completions, backoffLimit, podReplacementPolicy)
and some on the version (manualSelector from 1.29, podReplacementPolicy only where its gate is
on). Everything that asks about defaults reads it:

* :func:`apply_defaults`: the simulation's defaulting (:mod:`jobguard.core.kubernetes.apiserver`);
* :func:`api_default` and :func:`cronjob_api_default`: on an object the API server has already
  defaulted (admission), the value a field may hold without the user having written it
  (``JobView.user_set`` and ``JobView.cronjob_user_set``);
* :func:`effective_default` and :func:`restates_defaults`: on a manifest, what a left-out field
  becomes in the Job that runs (lint's "this fix only restates a default").

Defaulting that is not "set this field when absent" stays explicit code in the simulation: the
copy of template labels to a Job without labels, the ``onPodConditions[].status`` default of
every pod-failure-policy rule, and the strategy's selector generation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from jobguard.core.kubernetes.versions import (
    DEFAULT_KUBERNETES_VERSION,
    Version,
    feature_enabled,
)
from jobguard.core.model import Edit, SetValue
from jobguard.core.paths import MISSING, FieldPath, lookup

MAX_INT32 = 2147483647
BACKOFF_LIMIT_DEFAULT = 6
#: ``SetDefaults_Job`` lets a per-index limit govern: the Job-wide limit is then unbounded.
BACKOFF_LIMIT_WITH_PER_INDEX = MAX_INT32
#: Kubernetes PR 120206: older API servers leave an unset manualSelector unset.
MANUAL_SELECTOR_DEFAULT_SINCE: Version = (1, 29)


class Scope(Enum):
    """What a table entry's path is relative to, and which defaulter fills it in."""

    JOB = "Job spec"  # SetDefaults_Job: kind Job only, never a CronJob's job template
    POD = "pod template"  # SetDefaults_PodSpec: a Job's template and a CronJob's job template
    CRONJOB = "CronJob spec"  # SetDefaults_CronJob


DefaultFn = Callable[[Mapping[str, Any], Version], Any]


@dataclass(frozen=True)
class ApiDefault:
    """One "set when absent" default.

    ``value(root, version)`` is what the API server writes at ``path`` of ``root`` (the object
    of the entry's scope, as far as it is defaulted when the entry's turn comes), or None when
    it writes nothing there. ``reads`` names the fields of ``root`` the value depends on;
    ``unset`` the values the API server overwrites (an absent field always is).
    """

    scope: Scope
    path: FieldPath
    value: DefaultFn
    reads: tuple[str, ...] = ()
    unset: tuple[Any, ...] = (None,)

    def fill(self, root: dict[str, Any], version: Version) -> None:
        """Write the default into ``root`` (in place) when the field is unset and its parents
        are mappings; a malformed parent is left alone, as the decoder would have refused it."""
        parent: Any = root
        for segment in self.path[:-1]:
            parent = parent.get(segment) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            return
        name = self.path[-1]
        current = parent.get(name)
        if current is not None and not is_unset(self, current):
            return
        value = self.value(root, version)
        if value is not None:
            parent[name] = value


def constant(value: Any) -> DefaultFn:
    return lambda root, version: value


def _completions(spec: Mapping[str, Any], version: Version) -> Any:
    # Both counts unset: one pod, once. Parallelism alone (0 too) is a work queue: no count.
    return 1 if spec.get("parallelism") is None else None


def _backoff_limit(spec: Mapping[str, Any], version: Version) -> Any:
    # Not gated: the defaulter reads backoffLimitPerIndex before the strategy drops it.
    per_index = spec.get("backoffLimitPerIndex") is not None
    return BACKOFF_LIMIT_WITH_PER_INDEX if per_index else BACKOFF_LIMIT_DEFAULT


def _manual_selector(spec: Mapping[str, Any], version: Version) -> Any:
    return False if version >= MANUAL_SELECTOR_DEFAULT_SINCE else None


def _pod_replacement_policy(spec: Mapping[str, Any], version: Version) -> Any:
    if not feature_enabled("JobPodReplacementPolicy", version):
        return None
    return "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"


#: In the order the defaulters run: an entry sees the fields defaulted before it (completions
#: is decided before parallelism is filled in).
DEFAULTS: tuple[ApiDefault, ...] = (
    ApiDefault(Scope.JOB, ("completions",), _completions, reads=("parallelism",)),
    ApiDefault(Scope.JOB, ("parallelism",), constant(1)),
    ApiDefault(Scope.JOB, ("backoffLimit",), _backoff_limit, reads=("backoffLimitPerIndex",)),
    ApiDefault(Scope.JOB, ("completionMode",), constant("NonIndexed")),
    ApiDefault(Scope.JOB, ("suspend",), constant(False)),
    ApiDefault(Scope.JOB, ("manualSelector",), _manual_selector),
    ApiDefault(
        Scope.JOB, ("podReplacementPolicy",), _pod_replacement_policy, reads=("podFailurePolicy",)
    ),
    ApiDefault(Scope.POD, ("spec", "restartPolicy"), constant("Always"), unset=(None, "")),
    ApiDefault(Scope.CRONJOB, ("concurrencyPolicy",), constant("Allow"), unset=(None, "")),
    ApiDefault(Scope.CRONJOB, ("suspend",), constant(False)),
    ApiDefault(Scope.CRONJOB, ("successfulJobsHistoryLimit",), constant(3)),
    ApiDefault(Scope.CRONJOB, ("failedJobsHistoryLimit",), constant(1)),
)

_BY_PATH: dict[tuple[Scope, FieldPath], ApiDefault] = {(d.scope, d.path): d for d in DEFAULTS}
_BY_SCOPE: dict[Scope, tuple[ApiDefault, ...]] = {
    scope: tuple(d for d in DEFAULTS if d.scope is scope) for scope in Scope
}
#: Where a pod template sits in a Job spec: POD paths seen from the Job spec.
TEMPLATE: FieldPath = ("template",)


def entry(scope: Scope, path: FieldPath) -> ApiDefault | None:
    return _BY_PATH.get((scope, path))


def is_unset(default: ApiDefault | None, value: Any) -> bool:
    """Whether the API server treats ``value`` as "not written" (and defaults over it)."""
    if value is MISSING or value is None:
        return True
    if default is not None:
        for unset in default.unset:
            if type(value) is type(unset) and value == unset:
                return True
    return False


def same_value(a: Any, b: Any) -> bool:
    """Equal and of one JSON type (``True`` is no ``1``, ``0`` no ``false``)."""
    return type(a) is type(b) and a == b


def apply_defaults(root: dict[str, Any], scope: Scope, version: Version) -> None:
    """Every table entry of ``scope`` on ``root`` (in place), in the defaulter's order."""
    for default in _BY_SCOPE[scope]:
        default.fill(root, version)


# -- on the Job spec --------------------------------------------------------------------------


def job_spec_entry(relative: FieldPath, *, job: bool = True) -> tuple[ApiDefault, FieldPath] | None:
    """The table entry for a path relative to a Job spec, and where its root sits in the spec.

    ``job`` is False for a CronJob's job template: only the pod template is defaulted there.
    """
    if relative[: len(TEMPLATE)] == TEMPLATE:
        found = entry(Scope.POD, relative[len(TEMPLATE) :])
        if found is not None:
            return found, TEMPLATE
    found = entry(Scope.JOB, relative) if job else None
    return (found, ()) if found is not None else None


def job_spec_root(spec: Mapping[str, Any] | None, at: FieldPath) -> Mapping[str, Any]:
    """What a :func:`job_spec_entry` default is relative to: ``at`` in the Job spec."""
    root = lookup(spec or {}, at)
    return root if isinstance(root, Mapping) else {}


def _as_the_defaulter_saw(
    default: ApiDefault, root: Mapping[str, Any], version: Version
) -> Mapping[str, Any]:
    """``root`` as it may have been when the defaulter reached ``default``: a field it reads
    that now holds its own default may have been unset then (parallelism 1 beside completions
    1 is what a Job with neither count becomes)."""
    seen: dict[str, Any] | None = None
    for name in default.reads:
        dependency = entry(default.scope, (name,))
        if dependency is None or name not in root:
            continue
        if same_value(root[name], dependency.value(root, version)):
            seen = dict(root) if seen is None else seen
            del seen[name]
    return root if seen is None else seen


def defaulted_value(default: ApiDefault, root: Mapping[str, Any], version: Version) -> Any:
    """On a ``root`` the API server has defaulted, the value ``default`` may have written."""
    return default.value(_as_the_defaulter_saw(default, root, version), version)


def api_default(
    relative: FieldPath,
    *,
    cronjob: bool,
    job_spec: Mapping[str, Any] | None = None,
    version: Version = DEFAULT_KUBERNETES_VERSION,
) -> Any:
    """On an object the API server has defaulted, the value it may have put at ``relative``
    (a path in the Job spec ``job_spec``; a CronJob's job template when ``cronjob``), or None
    when it fills nothing there.

    The CronJob defaulter does not run the Job defaulter on ``spec.jobTemplate.spec``: only
    the pod template's defaults apply to a CronJob.
    """
    found = job_spec_entry(relative, job=not cronjob)
    if found is None:
        return None
    default, at = found
    return defaulted_value(default, job_spec_root(job_spec, at), version)


def cronjob_api_default(
    relative: FieldPath,
    cronjob_spec: Mapping[str, Any] | None = None,
    version: Version = DEFAULT_KUBERNETES_VERSION,
) -> Any:
    """:func:`api_default` for a path relative to a CronJob's own spec."""
    default = entry(Scope.CRONJOB, relative)
    if default is None:
        return None
    return defaulted_value(default, cronjob_spec or {}, version)


def effective_default(
    relative: FieldPath,
    job_spec: Mapping[str, Any],
    version: Version = DEFAULT_KUBERNETES_VERSION,
) -> Any:
    """The value the Job that runs will have at ``relative`` when the manifest leaves it out
    (None when nothing is filled in), given the rest of the Job spec as written.

    Unlike :func:`api_default` this answers for CronJob templates too: their Jobs are defaulted
    when the controller creates them, so writing the value changes nothing either way.
    """
    found = job_spec_entry(relative)
    if found is None:
        return None
    default, at = found
    return default.value(job_spec_root(job_spec, at), version)


def restates_defaults(
    edits: tuple[Edit, ...],
    spec_prefix: FieldPath,
    job_spec: Mapping[str, Any],
    version: Version = DEFAULT_KUBERNETES_VERSION,
) -> bool:
    """Whether applying ``edits`` (a fix's SetValue edits at absolute paths) only writes what the
    Job would get anyway: every edit sets a field under the Job spec at ``spec_prefix`` to its
    effective default."""
    if not edits:
        return False
    for edit in edits:
        if not isinstance(edit, SetValue) or edit.path[: len(spec_prefix)] != spec_prefix:
            return False
        relative = edit.path[len(spec_prefix) :]
        default = effective_default(relative, job_spec, version)
        if default is None or not same_value(edit.value, default):
            return False
    return True
