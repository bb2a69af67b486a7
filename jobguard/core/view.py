"""JobView: one view over a Job's spec and a CronJob's ``spec.jobTemplate.spec``.

Rules are written once against the view; it knows the path prefix, so a finding on a CronJob
lands at ``spec.jobTemplate.spec.template.spec.restartPolicy`` and not at the Job's path.
It never raises on a malformed document: a field of the wrong type reads as absent (the
structure rules report the type error itself).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jobguard.core.cached import cached_property
from jobguard.core.kubernetes.defaults import (
    ApiDefault,
    Scope,
    defaulted_value,
    entry,
    is_unset,
    job_spec_entry,
    job_spec_root,
    same_value,
)
from jobguard.core.kubernetes.managedfields import AppliedFields
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.paths import MISSING, FieldPath, lookup

JOB_KINDS = ("Job", "CronJob")

JOB_SPEC_PREFIX: FieldPath = ("spec",)
CRONJOB_SPEC_PREFIX: FieldPath = ("spec", "jobTemplate", "spec")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


@dataclass(frozen=True)
class JobView:
    """A Job or CronJob document seen as "a Job spec at some prefix".

    Derived values (kind, labels, the Job spec...) are computed once per view: every rule asks
    for them, on every admission request. A view's object must not be changed while it is used.

    ``defaulted`` is true for objects whose API defaults are told from the user's values
    (the mutating webhook and audit); ``applied`` (kubectl's last-applied-configuration) and
    ``applied_fields`` (the fields server-side apply entries own) are the evidence of what the
    user wrote. A view is made by :class:`jobguard.core.subject.Subject`, which reads that
    evidence from the object; nothing else does. ``kubernetes_version`` is the API server
    that defaulted the object: some defaults depend on it (manualSelector from 1.29).
    """

    obj: dict[str, Any]
    defaulted: bool = False
    applied: Mapping[str, Any] | None = None
    # Keys a YAML mapping of the source repeats (the loader kept the last value), when known.
    duplicate_keys: tuple[FieldPath, ...] = ()
    kubernetes_version: Version = DEFAULT_KUBERNETES_VERSION
    applied_fields: AppliedFields | None = None

    @staticmethod
    def of(
        obj: Any,
        *,
        defaulted: bool = False,
        applied: Mapping[str, Any] | None = None,
        duplicate_keys: tuple[FieldPath, ...] = (),
        kubernetes_version: Version = DEFAULT_KUBERNETES_VERSION,
        applied_fields: AppliedFields | None = None,
    ) -> JobView | None:
        """The view of ``obj`` if it is a Job or CronJob mapping, else None."""
        if not isinstance(obj, dict) or obj.get("kind") not in JOB_KINDS:
            return None
        return JobView(obj, defaulted, applied, duplicate_keys, kubernetes_version, applied_fields)

    @cached_property
    def memo(self) -> dict[Hashable, Any]:
        """Values other layers derive from this object once per view, under their own keys
        (the API rules keep their simulation of the API server here). Not part of the core's
        own vocabulary: the view only holds the slot, so it needs none of those layers."""
        return {}

    # -- identity -------------------------------------------------------------------------
    @cached_property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @cached_property
    def is_cronjob(self) -> bool:
        return self.kind == "CronJob"

    @cached_property
    def metadata(self) -> dict[str, Any]:
        return _mapping(self.obj.get("metadata"))

    @cached_property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return name if isinstance(name, str) and name else None

    @cached_property
    def generate_name(self) -> str | None:
        value = self.metadata.get("generateName")
        return value if isinstance(value, str) and value else None

    @cached_property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) and ns else None

    @cached_property
    def labels(self) -> dict[str, str]:
        return _str_map(self.metadata.get("labels"))

    @cached_property
    def annotations(self) -> dict[str, str]:
        return _str_map(self.metadata.get("annotations"))

    # -- paths ----------------------------------------------------------------------------
    @cached_property
    def spec_prefix(self) -> FieldPath:
        return CRONJOB_SPEC_PREFIX if self.is_cronjob else JOB_SPEC_PREFIX

    def at(self, *relative: str | int | Any) -> FieldPath:
        """Absolute path of a path given relative to the Job spec."""
        return self.spec_prefix + tuple(relative)

    @cached_property
    def pod_spec_prefix(self) -> FieldPath:
        return self.at("template", "spec")

    # -- values ---------------------------------------------------------------------------
    @cached_property
    def job_spec(self) -> dict[str, Any]:
        found = lookup(self.obj, self.spec_prefix)
        return found if isinstance(found, dict) else {}

    @cached_property
    def cronjob_spec(self) -> dict[str, Any]:
        return _mapping(self.obj.get("spec")) if self.is_cronjob else {}

    @cached_property
    def template(self) -> dict[str, Any]:
        return _mapping(self.job_spec.get("template"))

    @cached_property
    def template_labels(self) -> dict[str, str]:
        return _str_map(_mapping(self.template.get("metadata")).get("labels"))

    @cached_property
    def pod_spec(self) -> dict[str, Any]:
        return _mapping(self.template.get("spec"))

    def get(self, *relative: Any) -> Any:
        """Value at a path relative to the Job spec, or MISSING."""
        return lookup(self.job_spec, tuple(relative))

    def get_int(self, *relative: Any) -> int | None:
        """An integer field, or None when absent or not an integer (bools are not integers)."""
        value = self.get(*relative)
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return value

    def get_str(self, *relative: Any) -> str | None:
        value = self.get(*relative)
        return value if isinstance(value, str) else None

    def has(self, *relative: Any) -> bool:
        value = self.get(*relative)
        return value is not MISSING and value is not None

    def containers(self, *, init: bool = False) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
        """(absolute path, container) for each well-formed container of the pod template."""
        key = "initContainers" if init else "containers"
        items = self.pod_spec.get(key)
        if not isinstance(items, list):
            return
        for index, container in enumerate(items):
            if isinstance(container, dict):
                yield self.at("template", "spec", key, index), container

    # -- provenance -----------------------------------------------------------------------
    def user_set(self, *relative: Any) -> bool:
        """Whether the user, not the API server's defaulting, put a value at this path.

        On a raw manifest (lint) that is simply "the field is present". On a defaulted object
        (admission, audit) a field holding exactly the API default counts as unset unless the
        user's own manifest shows it: kubectl's last-applied-configuration (``applied``) or a
        server-side apply that owns the field (``applied_fields``: Flux, Argo CD, ``kubectl
        apply --server-side``). Without such evidence a mutating webhook cannot tell
        ``backoffLimit: 6`` written by hand from the default, and treating it as unset is what
        lets the policy's default take effect. Which default that is may depend on the version
        that defaulted the object (``kubernetes_version``).
        """
        path = tuple(relative)
        value = lookup(self.job_spec, path)
        if value is MISSING or value is None or not self.defaulted:
            return value is not MISSING and value is not None
        found = job_spec_entry(path, job=not self.is_cronjob)
        if found is None:
            return self._defaulted_user_set(self.spec_prefix + path, value, None, {})
        default, at = found
        root = job_spec_root(self.job_spec, at)
        return self._defaulted_user_set(self.spec_prefix + path, value, default, root)

    def cronjob_user_set(self, *relative: Any) -> bool:
        """:meth:`user_set` for a path relative to a CronJob's own ``spec`` (False on a Job)."""
        path = tuple(relative)
        value = lookup(self.cronjob_spec, path)
        if value is MISSING or value is None or not self.defaulted:
            return value is not MISSING and value is not None
        default = entry(Scope.CRONJOB, path)
        return self._defaulted_user_set(("spec", *path), value, default, self.cronjob_spec)

    def _defaulted_user_set(
        self,
        path: FieldPath,
        value: Any,
        default: ApiDefault | None,
        root: Mapping[str, Any],
    ) -> bool:
        """On a defaulted object: the user's manifest shows ``path`` (kubectl's record, or a
        server-side apply owning it), or ``value`` differs from what ``default`` would have
        written into ``root`` (someone, not defaulting, wrote it)."""
        # What the user wrote counts unless the API server defaults over it ("" too, for
        # the fields it defaults when empty).
        if self.applied is not None and not is_unset(default, lookup(self.applied, path)):
            return True
        if self.applied_fields and self.applied_fields.owns(self.obj, path):
            return True
        if default is None:
            return True
        api_value = defaulted_value(default, root, self.kubernetes_version)
        return api_value is None or not same_value(value, api_value)
