"""What is being judged: a manifest from a file, an admission CREATE, or an admission UPDATE.

The three differ in what a fix may touch:

* a manifest (``jobguard lint``) and a CREATE: any path; the object does not exist yet;
* an UPDATE of a CronJob: any path too. A CronJob's spec has no immutable field (its Jobs are
  created anew from ``spec.jobTemplate`` at each run);
* an UPDATE of a Job: only the fields the API server lets an existing Job change
  (``ValidateJobSpecUpdate``): parallelism, activeDeadlineSeconds, ttlSecondsAfterFinished,
  backoffLimit, maxFailedIndexes, suspend, podReplacementPolicy, manualSelector, metadata
  labels and annotations; completions only in an Indexed Job (elastic Indexed Jobs) and only in
  tandem with parallelism; and, while the existing Job is suspended, the pod template's
  scheduling directives (node affinity, nodeSelector, tolerations, schedulingGates, labels,
  annotations). Everything else in ``spec`` (selector, completionMode, podFailurePolicy,
  backoffLimitPerIndex, managedBy, successPolicy and the pod template) is immutable.

The list of immutable Job fields is :mod:`jobguard.core.kubernetes.updates`' (the one that also
reports them for ``lint --old``); :meth:`Subject.may_change` only reads it per path, and
:meth:`Subject.update_errors` asks that module about a whole object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from jobguard.core.kubernetes.updates import (
    IMMUTABLE,
    JOB_MUTABLE_SPEC,
    MUTABLE_METADATA,
    SCHEDULING_DIRECTIVES,
    UpdateError,
    job_update_errors,
)
from jobguard.core.kubernetes.versions import (
    DEFAULT_KUBERNETES_VERSION,
    ELASTIC_INDEXED_JOB_SINCE,
    Version,
)
from jobguard.core.paths import FieldPath

__all__ = ["Operation", "Subject"]


class Operation(str, Enum):
    MANIFEST = "manifest"  # a file being linted
    CREATE = "CREATE"  # an admission request for a new object
    UPDATE = "UPDATE"  # an admission request changing an existing object


#: Immutable Job spec fields (``updates.IMMUTABLE``) plus the two with exceptions handled below.
JOB_IMMUTABLE_SPEC = frozenset(IMMUTABLE) | {"template", "completions"}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Subject:
    """Where an object is judged: the operation, its kind, the Kubernetes version and, on
    UPDATE, the existing object (as stored: already defaulted)."""

    operation: Operation
    kind: str
    version: Version = DEFAULT_KUBERNETES_VERSION
    old_object: Mapping[str, Any] | None = None

    @staticmethod
    def manifest(kind: str, version: Version = DEFAULT_KUBERNETES_VERSION) -> Subject:
        return Subject(Operation.MANIFEST, kind, version)

    @staticmethod
    def create(kind: str, version: Version = DEFAULT_KUBERNETES_VERSION) -> Subject:
        return Subject(Operation.CREATE, kind, version)

    @staticmethod
    def update(
        kind: str, old_object: Mapping[str, Any], version: Version = DEFAULT_KUBERNETES_VERSION
    ) -> Subject:
        return Subject(Operation.UPDATE, kind, version, old_object)

    @property
    def is_update(self) -> bool:
        return self.operation is Operation.UPDATE

    @property
    def defaulted(self) -> bool:
        """Whether the object went through the API server's defaulting (admission)."""
        return self.operation is not Operation.MANIFEST

    @property
    def has_immutable_fields(self) -> bool:
        """Whether some paths of this object may not change here: only a Job UPDATE."""
        return self.is_update and self.kind == "Job"

    def _old_spec(self) -> Mapping[str, Any]:
        return _mapping(_mapping(self.old_object).get("spec"))

    def may_change(self, path: FieldPath) -> bool:
        """Whether the API server lets this operation set, change or remove ``path``.

        For ``spec.completions`` of an Indexed Job this is necessary, not sufficient (it must
        change in tandem with parallelism): :meth:`update_errors` on the whole object decides.
        """
        if not self.has_immutable_fields:
            return True
        if len(path) < 2:
            return False
        top, key = path[0], path[1]
        if top == "metadata":
            return key in MUTABLE_METADATA
        if top != "spec":
            return False
        if key in JOB_MUTABLE_SPEC:
            return True
        old_spec = self._old_spec()
        if key == "completions":
            return (
                old_spec.get("completionMode") == "Indexed"
                and self.version >= ELASTIC_INDEXED_JOB_SINCE
            )
        if key == "template" and old_spec.get("suspend") is True:
            return _scheduling_directive(path[2:])
        return False

    def update_errors(self, new: dict[str, Any]) -> list[UpdateError]:
        """What the API server rejects when the existing object is updated to ``new``."""
        if not self.has_immutable_fields or self.old_object is None:
            return []
        return job_update_errors(dict(self.old_object), new, self.version)


def _scheduling_directive(template_path: FieldPath) -> bool:
    """A pod template path a suspended Job may change (``AllowMutableSchedulingDirectives``)."""
    if len(template_path) < 2:
        return False
    part, key = template_path[0], template_path[1]
    if part == "metadata":
        return key in MUTABLE_METADATA
    if part != "spec":
        return False
    if key in SCHEDULING_DIRECTIVES:
        return True
    return key == "affinity" and template_path[2:3] == ("nodeAffinity",)
