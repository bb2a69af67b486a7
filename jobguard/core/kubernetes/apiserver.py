"""What the Kubernetes API server does to a Job or CronJob before it validates it.

The API rules judge the object the API server's validation sees, not the manifest as written:
an omitted ``restartPolicy`` is rejected because defaulting made it ``Always``; a missing selector
is fine because the strategy generates one; a ``controller-uid`` label copied from another
cluster is wrong because the new Job gets a fresh uid. :func:`simulate` reproduces those steps
(KUBERNETES-JOB-API sections 1 and 2) on a copy of the object, for one target Kubernetes version:

0. decoding: a ``null`` item of a list of objects (``containers: [null]``, ``env: [null]``)
   decodes as an empty object, which validation then judges (:func:`fill_null_items`);
1. defaulting: the table of "set when absent" defaults
   (:data:`jobguard.core.kubernetes.defaults.DEFAULTS`: ``SetDefaults_Job``,
   ``SetDefaults_CronJob``, pod template ``restartPolicy: Always``) and, as code here, what is
   not a plain default: podFailurePolicy ``onPodConditions[].status: True``, a volume with no
   source becoming ``emptyDir: {}`` and the copy of template labels to a Job without labels. The CronJob defaulter does not default its job
   template's Job fields, only the pod template;
2. fields of feature gates that are off in the target version are dropped (the API server
   drops them silently, see :data:`FEATURES`);
3. Job CREATE only, unless ``manualSelector: true``: selector and label generation with a uid.

Which uid (how a manifest copied from another cluster differs from an object already created):
an object in a validating webhook on CREATE carries the uid the API server just gave it and
generated labels and selector that match it; a manifest exported with ``kubectl get -o yaml``
carries its old cluster's uid and matching labels too, but always also ``resourceVersion``,
which no object being created has (the API server refuses it at storage). So on CREATE the
object's own uid is used only when it has no ``resourceVersion`` and every ``controller-uid``
label and selector entry present equals it; otherwise the uid is :data:`PLACEHOLDER_UID` (a new
uid, unknown until the API server assigns it) and any ``controller-uid`` value is stale. On
UPDATE the uid is the object's own and nothing is generated.

Pure: no I/O, the input is never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobguard.core.cached import cached_property
from jobguard.core.jsoncopy import copy_json
from jobguard.core.kubernetes.defaults import (  # the "set when absent" defaults live there
    MAX_INT32 as MAX_INT32,  # re-exported: the simulation's callers read it here
)
from jobguard.core.kubernetes.defaults import (
    Scope,
    apply_defaults,
)
from jobguard.core.kubernetes.schema import fill_null_items
from jobguard.core.kubernetes.versions import (  # the gates' defaults per version live there
    CRONJOB_FEATURES,
    FEATURES,
    Feature,
)
from jobguard.core.view import JobView

PLACEHOLDER_UID = "new-uid-assigned-by-the-api-server"

JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "controller-uid"
PREFIXED_JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
PREFIXED_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
UID_LABELS = (CONTROLLER_UID_LABEL, PREFIXED_CONTROLLER_UID_LABEL)
GENERATED_LABELS = (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    PREFIXED_CONTROLLER_UID_LABEL,
    PREFIXED_JOB_NAME_LABEL,
)
PREFIXED_LABELS_SINCE = (1, 27)
CRONJOB_PFP_STATUS_DEFAULT_SINCE = (1, 34)


@dataclass(frozen=True)
class ApiObject:
    """The object as the API server's validation sees it, and how it got there."""

    obj: dict[str, Any]
    uid: str
    own_uid: bool  # uid is the object's own (already created, or an UPDATE)
    labels_copied: bool  # metadata.labels were copied from the template by defaulting
    generated_labels: frozenset[str]  # template labels the strategy added
    selector_generated: bool  # the strategy created or completed spec.selector
    dropped: tuple[str, ...]  # spec fields dropped because their gate is off
    require_prefixed_labels: bool

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @cached_property
    def view(self) -> JobView:
        """A JobView over the simulated object (one per simulation: views cache their values)."""
        return JobView(self.obj)

    def job_spec(self) -> dict[str, Any]:
        """The Job spec (CronJob: ``spec.jobTemplate.spec``), {} when malformed."""
        spec = _map(self.obj.get("spec"))
        if self.kind == "CronJob":
            return _map(_map(spec.get("jobTemplate")).get("spec"))
        return spec


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- defaulting -------------------------------------------------------------------------------
# The "set when absent" defaults are the table's (jobguard.core.kubernetes.defaults.DEFAULTS);
# what follows adds only the defaulting that is not: the label copy and the status of the
# pod-failure-policy patterns, which touch every element of a list.


def default_job_spec(spec: dict[str, Any], version: tuple[int, int]) -> None:
    """``SetDefaults_Job`` and the pod template's defaults on a Job spec (in place)."""
    apply_defaults(spec, Scope.JOB, version)
    default_pod_failure_policy(spec)
    template = spec.get("template")
    if isinstance(template, dict):
        default_pod_template(template, version)


def default_pod_template(template: dict[str, Any], version: tuple[int, int]) -> None:
    """The pod defaults the API rules depend on (in place): the table's, and the volumes'."""
    apply_defaults(template, Scope.POD, version)
    default_volume_sources(_map(template.get("spec")).get("volumes"))


def default_volume_sources(volumes: Any) -> None:
    """``SetDefaults_Volume``: a volume with no source (every source field absent or null) is
    an ``emptyDir: {}`` (in place). A manifest may list a scratch volume by name alone."""
    for volume in volumes if isinstance(volumes, list) else ():
        if isinstance(volume, dict) and all(
            value is None for key, value in volume.items() if key != "name"
        ):
            volume["emptyDir"] = {}


def default_pod_failure_policy(spec: dict[str, Any]) -> None:
    """``onPodConditions[].status`` defaults to ``True`` (in place)."""
    policy = spec.get("podFailurePolicy")
    rules = policy.get("rules") if isinstance(policy, dict) else None
    for rule in rules if isinstance(rules, list) else ():
        patterns = rule.get("onPodConditions") if isinstance(rule, dict) else None
        for pattern in patterns if isinstance(patterns, list) else ():
            if isinstance(pattern, dict) and pattern.get("status") in (None, ""):
                pattern["status"] = "True"


def default_job(obj: dict[str, Any], version: tuple[int, int]) -> bool:
    """Default a Job in place; True when metadata.labels were copied from the template."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return False
    copied = False
    template = _map(spec.get("template"))
    template_labels = _map(template.get("metadata")).get("labels") if template else None
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and not metadata.get("labels") and template_labels is not None:
        # A Go map assignment: the Job's labels and the template's are one map from here on.
        metadata["labels"] = template_labels
        copied = True
    default_job_spec(spec, version)
    return copied


def default_cronjob(obj: dict[str, Any], version: tuple[int, int]) -> None:
    """``SetDefaults_CronJob`` plus pod defaults of the job template (no Job defaults).

    The pod-failure-policy status default reaches CronJob templates from Kubernetes 1.34 on
    (kubernetes PR 131525 made it a type-level defaulter; before, only Jobs got it).
    """
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    apply_defaults(spec, Scope.CRONJOB, version)
    job_spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    if version >= CRONJOB_PFP_STATUS_DEFAULT_SINCE:
        default_pod_failure_policy(job_spec)
    template = job_spec.get("template")
    if isinstance(template, dict):
        default_pod_template(template, version)


# -- strategy ---------------------------------------------------------------------------------


def drop_disabled_fields(
    spec: dict[str, Any], features: tuple[Feature, ...], version: tuple[int, int]
) -> tuple[str, ...]:
    """Clear the fields of gates that are off in ``version``; the names dropped."""
    dropped = []
    for feature in features:
        if version >= feature.enabled:
            continue
        for name in feature.fields:
            if spec.get(name) is not None:
                del spec[name]
                dropped.append(name)
    if version < (1, 29):  # JobBackoffLimitPerIndex off: FailIndex rules are removed too
        policy = spec.get("podFailurePolicy")
        rules = policy.get("rules") if isinstance(policy, dict) else None
        if isinstance(policy, dict) and isinstance(rules, list):
            policy["rules"] = [
                r for r in rules if not (isinstance(r, dict) and r.get("action") == "FailIndex")
            ]
    return tuple(dropped)


def generate_selector(
    job: dict[str, Any], uid: str, *, prefixed: bool
) -> tuple[frozenset[str], bool]:
    """Selector and label generation (create, manualSelector not true), in place.

    Returns the template label keys added and whether the selector was created or completed.
    A user's selector is merged, not replaced.
    """
    spec = job.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return frozenset(), False
    template = spec.get("template")
    if not isinstance(template, dict):
        return frozenset(), False
    if template.get("metadata") is None:
        template["metadata"] = {}
    meta = template["metadata"]
    if not isinstance(meta, dict):
        return frozenset(), False
    if meta.get("labels") is None:
        meta["labels"] = {}
    labels = meta["labels"]
    if not isinstance(labels, dict):
        return frozenset(), False
    name = _map(job.get("metadata")).get("name")
    name = name if isinstance(name, str) else ""
    wanted = {JOB_NAME_LABEL: name, CONTROLLER_UID_LABEL: uid}
    if prefixed:
        wanted = {
            PREFIXED_JOB_NAME_LABEL: name,
            JOB_NAME_LABEL: name,
            PREFIXED_CONTROLLER_UID_LABEL: uid,
            CONTROLLER_UID_LABEL: uid,
        }
    added = set()
    for key, value in wanted.items():
        if key not in labels:
            labels[key] = value
            added.add(key)
    selector = spec.get("selector")
    if selector is None:
        selector = spec["selector"] = {}
    if not isinstance(selector, dict):
        return frozenset(added), False
    if selector.get("matchLabels") is None:
        selector["matchLabels"] = {}
    match_labels = selector["matchLabels"]
    key = PREFIXED_CONTROLLER_UID_LABEL if prefixed else CONTROLLER_UID_LABEL
    completed = False
    if isinstance(match_labels, dict) and key not in match_labels:
        match_labels[key] = uid
        completed = True
    return frozenset(added), completed


def own_uid(obj: Mapping[str, Any], operation: str) -> str | None:
    """The object's uid when it is the object's own, else None (see the module docs)."""
    metadata = _map(obj.get("metadata"))
    uid = metadata.get("uid")
    if not isinstance(uid, str) or not uid:
        return None
    if operation == "UPDATE":
        return uid
    if metadata.get("resourceVersion"):
        return None
    spec = _map(obj.get("spec"))
    labels = _map(_map(_map(spec.get("template")).get("metadata")).get("labels"))
    match_labels = _map(_map(spec.get("selector")).get("matchLabels"))
    found = [m[k] for m in (labels, match_labels) for k in UID_LABELS if k in m]
    return uid if found and all(v == uid for v in found) else None


def _placeholder(obj: Mapping[str, Any]) -> str:
    """A uid for a Job not created yet that none of its labels or selector values can equal."""
    spec = _map(obj.get("spec"))
    template_meta = _map(_map(spec.get("template")).get("metadata"))
    metadata = _map(obj.get("metadata"))
    # Only where a uid can appear: the whole object's repr costs more than the simulation.
    text = repr(
        (
            spec.get("selector"),
            template_meta.get("labels"),
            metadata.get("labels"),
            metadata.get("uid"),
        )
    )
    uid = PLACEHOLDER_UID
    while uid in text:
        uid += "-x"
    return uid


def simulate(
    obj: dict[str, Any], *, operation: str = "CREATE", version: tuple[int, int] = (1, 34)
) -> ApiObject:
    """The Job or CronJob ``obj`` after defaulting and the create strategy (a copy).

    Computed afresh on every call: a caller that asks more than once per object keeps the
    result (the API rules keep one per view and evaluation, see ``jobguard.rules._api``).
    """
    return _simulate(obj, operation, version)


def _copy_for_defaulting(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` that defaulting can change without touching ``obj``.

    Defaulting and selector generation write only inside ``spec`` and set ``metadata.labels``
    (a new map or the template's, never changing the old one), so ``spec`` is copied deeply,
    ``metadata`` one level, and the rest (``status``, ``managedFields``...) is shared.
    """
    out = dict(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = dict(out["metadata"])
    if "spec" in out:
        out["spec"] = copy_json(out["spec"])
    return out


def _simulate(obj: dict[str, Any], operation: str, version: tuple[int, int]) -> ApiObject:
    out = _copy_for_defaulting(obj)
    kind = out.get("kind")
    if isinstance(out.get("spec"), dict) and isinstance(kind, str):
        fill_null_items(out, kind, version)
    uid = own_uid(obj, operation)
    mine = uid is not None
    uid = uid or _placeholder(obj)
    labels_copied = False
    generated: frozenset[str] = frozenset()
    selector_generated = False
    dropped: tuple[str, ...] = ()
    spec = out.get("spec")
    template_labels = _map(_map(_map(_map(spec).get("template")).get("metadata")).get("labels"))
    prefixed = version >= PREFIXED_LABELS_SINCE and (
        operation == "CREATE"
        or (
            PREFIXED_JOB_NAME_LABEL in template_labels
            and PREFIXED_CONTROLLER_UID_LABEL in template_labels
        )
    )
    if kind == "Job":
        labels_copied = default_job(out, version)
        if isinstance(spec, dict):
            dropped = drop_disabled_fields(spec, FEATURES, version)
        if operation == "CREATE":
            generated, selector_generated = generate_selector(out, uid, prefixed=prefixed)
    elif kind == "CronJob":
        default_cronjob(out, version)
        if isinstance(spec, dict):
            dropped = drop_disabled_fields(spec, CRONJOB_FEATURES, version)
            job_spec = _map(_map(spec.get("jobTemplate")).get("spec"))
            dropped += drop_disabled_fields(job_spec, FEATURES, version)
    return ApiObject(
        obj=out,
        uid=uid,
        own_uid=mine,
        labels_copied=labels_copied,
        generated_labels=generated,
        selector_generated=selector_generated,
        dropped=dropped,
        require_prefixed_labels=prefixed,
    )
