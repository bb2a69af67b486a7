"""What is judged: the one description of an object under judgement, for every front end.

A :class:`Subject` is the object, how it arrived (a manifest from a file, an admission CREATE or
UPDATE, an object stored in the cluster), the old object on UPDATE, who asked (the admission
request's ``userInfo``), and the facts jobguard derives from them. Each fact is decided here,
once, and every rule, the fix planner, the webhooks, audit and the export ask for it:

* :attr:`Subject.scheduled_run`: a Job the CronJob controller creates for one of its CronJobs.
  The requester must be one of the controller's identities (``controllers``: the policy's
  ``trust.cronjob_controllers``) AND the Job's controlling ownerReference (``controller:
  true``) must name a CronJob. An ownerReference alone proves nothing: whoever creates the Job
  writes it (``kubectl create job --from=cronjob/...`` does, and so can anyone). A manifest
  in a file is never a scheduled run. A stored Job (audit) is one only when the CronJob its
  controlling ownerReference names exists, by uid, in the same listing, and kubectl did not mark
  it as made by hand.
* :meth:`Subject.user_set`: whether the user, not the API server's defaulting, wrote a value
  (present in the manifest; on a defaulted object shown by kubectl's last-applied-configuration,
  owned by a server-side apply's ``managedFields`` entry, or differing from the API default).
* :meth:`Subject.unchanged`: ratcheting by value on UPDATE: a violation the old object already
  had is forgiven only where the old object holds the same value at the same path.
* :meth:`Subject.may_change`: what an UPDATE may change (the API server's rules, kept in
  :mod:`jobguard.core.kubernetes.updates`).

Nothing else in jobguard reads ``ownerReferences``, the last-applied annotation or
``managedFields``.

What a fix may touch on UPDATE:

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

import json
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from jobguard.core.cached import cached_property
from jobguard.core.kubernetes.controllers import CRONJOB_CONTROLLER_USERS
from jobguard.core.kubernetes.managedfields import applied_fields
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
from jobguard.core.paths import MISSING, FieldPath, lookup
from jobguard.core.view import JobView

__all__ = ["DEFAULT_KUBERNETES_VERSION", "Operation", "Requester", "Subject"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: No refused suppression (shared: read-only, and most objects carry no annotation at all).
NONE_REFUSED: Mapping[str, str] = MappingProxyType({})
#: A larger record is not read (the API server caps all annotations together at 256 kB).
MAX_LAST_APPLIED_CHARS = 1024 * 1024
#: Set by ``kubectl create job --from=cronjob/...`` on the Job it makes by hand.
MANUAL_RUN_ANNOTATION = "cronjob.kubernetes.io/instantiate"


class Operation(str, Enum):
    MANIFEST = "manifest"  # a file being linted
    CREATE = "CREATE"  # an admission request for a new object
    UPDATE = "UPDATE"  # an admission request changing an existing object
    STORED = "stored"  # an object read from the cluster (audit)


@dataclass(frozen=True)
class Requester:
    """Who sent an admission request (its ``userInfo``), as the API server authenticated it."""

    username: str
    groups: tuple[str, ...] = ()


#: Immutable Job spec fields (``updates.IMMUTABLE``) plus the two with exceptions handled below.
JOB_IMMUTABLE_SPEC = frozenset(IMMUTABLE) | {"template", "completions"}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Subject:
    """What is judged. Build one with :meth:`manifest`, :meth:`admission` or :meth:`stored`.

    The public surface: :attr:`object`, :attr:`old_object`, :attr:`operation`,
    :attr:`requester`, :attr:`kind`, :attr:`version`, and the facts :attr:`scheduled_run`,
    :meth:`user_set`, :meth:`unchanged`, :meth:`forgiven`, :meth:`may_change` and
    :meth:`update_errors`. :attr:`view` is the object seen as a Job spec (what rules read values
    from).

    ``known_rules`` and ``refused_suppressions`` (rule name -> why the object's annotation may
    not silence it) are filled by the engine for an object with suppression annotations, so
    that the rule that checks them can say which are ignored.
    """

    view: JobView
    operation: Operation
    old_object: Mapping[str, Any] | None = None
    requester: Requester | None = None
    #: Identities the CronJob controller acts as (the policy's ``trust.cronjob_controllers``).
    controllers: frozenset[str] = CRONJOB_CONTROLLER_USERS
    #: Audit: the uids of the CronJobs in the listing (None: unknown, no stored Job is a run).
    cronjob_uids: AbstractSet[str] | None = None
    known_rules: frozenset[str] = frozenset()
    refused_suppressions: Mapping[str, str] = field(default_factory=lambda: NONE_REFUSED)

    # -- construction ---------------------------------------------------------------------
    @staticmethod
    def manifest(
        obj: dict[str, Any],
        version: Version = DEFAULT_KUBERNETES_VERSION,
        *,
        duplicate_keys: tuple[FieldPath, ...] = (),
    ) -> Subject | None:
        """A manifest from a file (None unless it is a Job or CronJob): judged as written."""
        view = JobView.of(obj, duplicate_keys=duplicate_keys, kubernetes_version=version)
        return None if view is None else Subject(view, Operation.MANIFEST)

    @staticmethod
    def admission(
        operation: str,
        obj: dict[str, Any],
        *,
        old_object: Mapping[str, Any] | None = None,
        requester: Requester | None = None,
        version: Version = DEFAULT_KUBERNETES_VERSION,
        controllers: frozenset[str] = CRONJOB_CONTROLLER_USERS,
        defaulted: bool = True,
    ) -> Subject | None:
        """An admission request's object (None unless it is a Job or CronJob).

        ``defaulted``: API defaults count as unset unless the user's manifest shows them (the
        mutating webhook, which decides what to fill in). The validating webhook passes False:
        it judges the final object as ``jobguard lint`` judges a file.
        """
        op = Operation.UPDATE if operation == "UPDATE" and old_object is not None else None
        view = _view(obj, version, defaulted=defaulted)
        if view is None:
            return None
        return Subject(
            view,
            op or Operation.CREATE,
            old_object if op else None,
            requester,
            controllers,
        )

    @staticmethod
    def stored(
        obj: dict[str, Any],
        version: Version = DEFAULT_KUBERNETES_VERSION,
        *,
        cronjob_uids: AbstractSet[str] | None = None,
    ) -> Subject | None:
        """An object as the cluster stores it (audit): defaulted like an admitted one."""
        view = _view(obj, version, defaulted=True)
        return None if view is None else Subject(view, Operation.STORED, cronjob_uids=cronjob_uids)

    @staticmethod
    def of(view: JobView, operation: Operation = Operation.MANIFEST, **facts: Any) -> Subject:
        """A subject over a view built by hand (tests, benchmarks)."""
        return Subject(view, operation, **facts)

    def old(self) -> Subject | None:
        """The old object of an UPDATE, judged as the same webhook judged it when stored."""
        if self.old_object is None or not isinstance(self.old_object, dict):
            return None
        view = _view(self.old_object, self.version, defaulted=self.view.defaulted)
        return None if view is None else Subject(view, Operation.STORED)

    def updated_in_place(self) -> Subject:
        """This object as the old object of an UPDATE to its fixed self (``audit --fix``)."""
        return Subject(self.view, Operation.UPDATE, self.view.obj, self.requester, self.controllers)

    # -- what is judged -------------------------------------------------------------------
    @property
    def object(self) -> dict[str, Any]:
        return self.view.obj

    @property
    def kind(self) -> str:
        return self.view.kind

    @property
    def version(self) -> Version:
        """The Kubernetes version whose API server judges (and defaulted) the object."""
        return self.view.kubernetes_version

    @property
    def is_update(self) -> bool:
        return self.operation is Operation.UPDATE

    @property
    def api_operation(self) -> str:
        """What the API server validates the object as: an UPDATE, or a CREATE (a manifest
        and a stored object are judged as if created)."""
        return "UPDATE" if self.is_update else "CREATE"

    # -- facts ----------------------------------------------------------------------------
    @cached_property
    def scheduled_run(self) -> bool:
        """A Job the CronJob controller creates (admission) or created (audit) on schedule.

        Its TTL and history are the CronJob's business, and denying it would only drop one
        run: its template is judged on the CronJob.
        """
        # The cheap tests first: most requests come from someone else, most objects are files.
        if self.operation is Operation.CREATE:
            requester = self.requester
            if requester is None or requester.username not in self.controllers:
                return False
        elif self.operation is not Operation.STORED or self.cronjob_uids is None:
            return False
        if self.kind != "Job":
            return False
        owner = _controlling_cronjob(self.view.metadata)
        if owner is None:
            return False
        if self.operation is Operation.STORED:
            assert self.cronjob_uids is not None
            return (
                owner.get("uid") in self.cronjob_uids
                and MANUAL_RUN_ANNOTATION not in self.view.annotations
            )
        return True

    @property
    def cronjob_owner(self) -> str | None:
        """The name of the CronJob whose scheduled run this is (None if it is not one)."""
        if not self.scheduled_run:
            return None
        owner = _controlling_cronjob(self.view.metadata)
        return str(owner["name"]) if owner and isinstance(owner.get("name"), str) else None

    def user_set(self, path: FieldPath) -> bool:
        """Whether the user, not the API server's defaulting, put a value at ``path`` (an
        absolute path of a Job spec field or a CronJob spec field)."""
        view = self.view
        prefix = view.spec_prefix
        if path[: len(prefix)] == prefix:
            return view.user_set(*path[len(prefix) :])
        if view.is_cronjob and path[:1] == ("spec",):
            return view.cronjob_user_set(*path[1:])
        value = lookup(view.obj, path)
        return value is not MISSING and value is not None

    def unchanged(self, path: FieldPath) -> bool:
        """On UPDATE: whether the old object holds the same value at ``path`` (both absent
        counts as the same). Ratcheting by value: only such a violation is "pre-existing"; a
        changed value is judged like a new one, as the API server's own ratcheting does."""
        if not self.is_update or self.old_object is None:
            return False
        old, new = lookup(self.old_object, path), lookup(self.object, path)
        return type(old) is type(new) and bool(old == new)  # 1 is not true, nor 1.0

    @property
    def has_immutable_fields(self) -> bool:
        """Whether some paths of this object may not change here: only a Job UPDATE."""
        return self.is_update and self.kind == "Job"

    def forgiven(
        self, violation: tuple[str, FieldPath], old_violations: Collection[tuple[str, FieldPath]]
    ) -> bool:
        """On UPDATE: whether a violation (rule, path) is the old object's, left alone: the old
        object had it too (``old_violations``, judged with the same policy) with the same value
        at that path."""
        return violation in old_violations and self.unchanged(violation[1])

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


def _view(obj: Any, version: Version, *, defaulted: bool) -> JobView | None:
    """The view of an object that went through the API server, with the evidence of what the
    user wrote when its defaults are to be told from the user's values."""
    if not defaulted:
        return JobView.of(obj, kubernetes_version=version)
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    return JobView.of(
        obj,
        defaulted=True,
        applied=last_applied(obj),
        kubernetes_version=version,
        applied_fields=applied_fields(metadata) or None,
    )


def last_applied(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """kubectl's record of the user's own manifest, when present and readable."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    raw = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not isinstance(raw, str) or len(raw) > MAX_LAST_APPLIED_CHARS:
        return None
    try:
        applied = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(applied, dict) or applied.get("kind") != obj.get("kind"):
        return None
    return applied


def _controlling_cronjob(metadata: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference that controls the object (``controller: true``; Kubernetes allows
    one), if it names a batch CronJob."""
    refs = metadata.get("ownerReferences")
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("controller") is True:
            api_version = ref.get("apiVersion")
            if ref.get("kind") == "CronJob" and (
                isinstance(api_version, str) and api_version.startswith("batch/")
            ):
                return ref
            return None
    return None
