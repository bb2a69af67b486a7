"""What the API server rejects when an existing Job is updated (``ValidateJobSpecUpdate``).

:func:`job_update_errors` compares the Job as it is (``old``) with the Job it would become
(``new``): the existing object as the API server's defaulting left it for the target version,
and that object with what the manifest changed applied (``kubectl apply``: a field neither
manifest sets keeps its stored value), defaulted again. Writing a default out
(``completionMode: NonIndexed``) or dropping one is therefore no change. Immutable,
each reported as ``Invalid value: ...: field is immutable``:

* ``spec.selector``, ``spec.template`` (the whole pod template), ``spec.completionMode``,
  ``spec.podFailurePolicy``, ``spec.backoffLimitPerIndex``, ``spec.managedBy``,
  ``spec.successPolicy`` (added, changed or removed);
* ``spec.completions``, except in an Indexed Job (elastic Indexed Jobs, from 1.27), where it
  may change when it equals the new ``spec.parallelism`` (``can only be modified in tandem
  with spec.parallelism``).

Mutable: parallelism, activeDeadlineSeconds, ttlSecondsAfterFinished, backoffLimit,
maxFailedIndexes, suspend, podReplacementPolicy, metadata labels and annotations. A suspended
Job (``old`` has ``spec.suspend: true``) may change parts of its template
(``validatePodTemplateUpdate`` in ``pkg/apis/batch/validation``, with the options
``validationOptionsForJob`` of ``pkg/registry/batch/job`` sets):

* its scheduling directives: node affinity, nodeSelector, tolerations, labels, annotations and
  schedulingGates (every supported version);
* from 1.36 (``MutablePodResourcesForSuspendedJobs``, KEP-5440: alpha in 1.35, beta and on by
  default in 1.36 and 1.37) each container's and init container's ``resources`` (requests,
  limits and claims); not the pod-level ``spec.resources``.

Only while the old Job is safely suspended (:func:`template_may_change`): before 1.36 it never
ran (no ``status.startTime``); from 1.36 it has no active pods and either never ran or carries
the ``Suspended`` condition (KEP-5440). A stored object (audit, admission) carries its status
and is judged by it; a manifest has none, so it counts as never run.
A CronJob has no immutable spec fields: its Jobs are created anew from the template.

Pure: no I/O, the inputs are never modified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jobguard.core.jsoncopy import copy_json
from jobguard.core.kubernetes.apiserver import simulate
from jobguard.core.kubernetes.versions import (
    ELASTIC_INDEXED_JOB_SINCE,
    RESOURCES_OF_SUSPENDED_JOB_SINCE,
    SCHEDULING_DIRECTIVES_OF_ANY_SUSPENDED_JOB_SINCE,
    Version,
)
from jobguard.core.paths import FieldPath, field_path

IMMUTABLE = (
    "selector",
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
)
SCHEDULING_DIRECTIVES = ("nodeSelector", "tolerations", "schedulingGates")
#: The container lists whose items' ``resources`` a suspended Job may change (1.36+).
RESOURCE_CONTAINER_LISTS = ("containers", "initContainers")
#: Job spec fields an UPDATE may set, change or remove (KUBERNETES-JOB-API section 5.1).
JOB_MUTABLE_SPEC = frozenset(
    {
        "parallelism",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "backoffLimit",
        "maxFailedIndexes",
        "suspend",
        "podReplacementPolicy",
        "manualSelector",
    }
)
#: What an UPDATE may change in the metadata of a Job and of its pod template.
MUTABLE_METADATA = frozenset({"labels", "annotations"})
MAX_CHANGES_SHOWN = 3


@dataclass(frozen=True)
class UpdateError:
    path: FieldPath
    message: str


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def changed_paths(old: Any, new: Any, path: FieldPath = ()) -> list[FieldPath]:
    """Where two JSON values differ, deepest first-level difference per branch, in order."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[FieldPath] = []
        for key in list(old) + [k for k in new if k not in old]:
            if old.get(key) != new.get(key):
                out += changed_paths(old.get(key), new.get(key), (*path, str(key)))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                out += changed_paths(a, b, (*path, index))
        return out
    return [path] if old != new else []


def _without_scheduling_directives(template: Any, new_template: Any) -> Any:
    """``template`` with the new template's scheduling directives (they may change)."""
    if not isinstance(template, dict) or not isinstance(new_template, dict):
        return template
    out = copy_json(template)
    found = new_template.get("metadata")
    new_meta: dict[str, Any] = found if isinstance(found, dict) else {}
    meta = out.setdefault("metadata", {}) if isinstance(out.get("metadata", {}), dict) else {}
    for key in sorted(MUTABLE_METADATA):
        meta.pop(key, None)
        if key in new_meta:
            meta[key] = new_meta[key]
    spec, new_spec = out.get("spec"), new_template.get("spec")
    if isinstance(spec, dict) and isinstance(new_spec, dict):
        for key in SCHEDULING_DIRECTIVES:
            spec.pop(key, None)
            if key in new_spec:
                spec[key] = new_spec[key]
        affinity, new_affinity = spec.get("affinity"), new_spec.get("affinity")
        rest = (
            {k: v for k, v in affinity.items() if k != "nodeAffinity"}
            if isinstance(affinity, dict)
            else None
        )
        if new_affinity is None:
            if rest == {}:
                spec.pop("affinity", None)
        elif isinstance(new_affinity, dict):
            merged = dict(rest or {})
            if "nodeAffinity" in new_affinity:
                merged["nodeAffinity"] = new_affinity["nodeAffinity"]
            spec["affinity"] = merged
    if isinstance(out.get("metadata"), dict) and not out["metadata"] and "metadata" not in template:
        del out["metadata"]
    return out


def template_may_change(old: dict[str, Any], version: Version) -> bool:
    """Whether a suspended Job's template may change by its status (``validationOptionsForJob``
    of ``pkg/registry/batch/job``): never started before 1.36; from 1.36 no active pods, and
    never started or marked with the ``Suspended`` condition (KEP-5440)."""
    found = old.get("status")
    status: dict[str, Any] = found if isinstance(found, dict) else {}
    started = status.get("startTime") is not None
    if version < SCHEDULING_DIRECTIVES_OF_ANY_SUSPENDED_JOB_SINCE:
        return not started
    conditions = status.get("conditions")
    suspended = any(
        isinstance(c, dict) and c.get("type") == "Suspended" and c.get("status") == "True"
        for c in (conditions if isinstance(conditions, list) else [])
    )
    return not status.get("active") and (not started or suspended)


def _with_new_container_resources(template: Any, new_template: Any) -> Any:
    """``template`` with each container's ``resources`` taken from the new template's container
    at the same index (``MutablePodResourcesForSuspendedJobs``); containers added or removed
    still differ."""
    if not isinstance(template, dict) or not isinstance(new_template, dict):
        return template
    spec, new_spec = template.get("spec"), new_template.get("spec")
    if not isinstance(spec, dict) or not isinstance(new_spec, dict):
        return template
    out = copy_json(template)
    for key in RESOURCE_CONTAINER_LISTS:
        old_items, new_items = out["spec"].get(key), new_spec.get(key)
        if not isinstance(old_items, list) or not isinstance(new_items, list):
            continue
        for old_item, new_item in zip(old_items, new_items, strict=False):
            if isinstance(old_item, dict) and isinstance(new_item, dict):
                old_item.pop("resources", None)
                if "resources" in new_item:
                    old_item["resources"] = new_item["resources"]
    return out


def _immutable(path: FieldPath, new: Any, old: Any, what: str) -> UpdateError:
    changes = [field_path((*path, *p)) for p in changed_paths(old, new)] or [field_path(path)]
    listed = ", ".join(changes[:MAX_CHANGES_SHOWN])
    if len(changes) > MAX_CHANGES_SHOWN:
        listed += f" and {len(changes) - MAX_CHANGES_SHOWN} more"
    return UpdateError(
        path,
        f"Invalid value: {_shown(new)}: field is immutable (changed: {listed}); the API server "
        f"rejects this update of the existing {what}. To apply it, give the Job a new name "
        "(or create it with metadata.generateName), or delete the Job and create it again "
        "(kubectl replace --force)",
    )


def merge_patch(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) from ``old`` to ``new``: what ``kubectl apply`` of
    ``new`` changes on an object last applied from ``old`` (removed keys become null)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy_json(new)
    patch: dict[str, Any] = {k: None for k in old if k not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = copy_json(value)
        elif old[key] != value:
            patch[key] = merge_patch(old[key], value)
    return patch


def apply_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy_json(patch)
    out = copy_json(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = apply_merge_patch(out.get(key), value)
    return out


def job_update_errors(
    old: dict[str, Any], new: dict[str, Any], version: Version
) -> list[UpdateError]:
    """The update errors of turning Job ``old`` into Job ``new``, in the API server's order."""
    if old.get("kind") != "Job" or new.get("kind") != "Job":
        return []
    old_d = simulate(old, operation="UPDATE", version=version).obj
    # The object the update asks for: the existing one (its defaults included) with what the
    # manifest changed; a field neither manifest sets keeps its value, as with kubectl apply.
    applied = apply_merge_patch(old_d, merge_patch(old, new))
    new_d = simulate(applied, operation="UPDATE", version=version).obj
    old_spec, new_spec = _spec(old_d), _spec(new_d)
    name = (
        new_d.get("metadata", {}).get("name") if isinstance(new_d.get("metadata"), dict) else None
    )
    what = f'Job "{name}"' if name else "Job"
    errors: list[UpdateError] = []

    completions, old_completions = new_spec.get("completions"), old_spec.get("completions")
    indexed = new_spec.get("completionMode") == "Indexed" and version >= ELASTIC_INDEXED_JOB_SINCE
    if completions != old_completions:
        if not indexed:
            errors.append(_immutable(("spec", "completions"), completions, old_completions, what))
        elif completions is not None and completions != new_spec.get("parallelism"):
            errors.append(
                UpdateError(
                    ("spec", "completions"),
                    f"Invalid value: {_shown(completions)}: can only be modified in tandem with "
                    "spec.parallelism (an Indexed Job may change completions only when "
                    "parallelism is set to the same value)",
                )
            )
    if new_spec.get("selector") != old_spec.get("selector"):
        errors.append(
            _immutable(
                ("spec", "selector"), new_spec.get("selector"), old_spec.get("selector"), what
            )
        )
    old_template, new_template = old_spec.get("template"), new_spec.get("template")
    if old_spec.get("suspend") is True and template_may_change(old, version):
        old_template = _without_scheduling_directives(old_template, new_template)
        if version >= RESOURCES_OF_SUSPENDED_JOB_SINCE:
            old_template = _with_new_container_resources(old_template, new_template)
    if new_template != old_template:
        errors.append(_immutable(("spec", "template"), new_template, old_template, what))
    for key in IMMUTABLE[1:]:
        if new_spec.get(key) != old_spec.get(key):
            errors.append(_immutable(("spec", key), new_spec.get(key), old_spec.get(key), what))
    return errors
