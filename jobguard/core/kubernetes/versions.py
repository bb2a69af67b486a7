"""The Kubernetes versions jobguard judges manifests for, and what changes between them.

* :data:`OLDEST` to :data:`NEWEST`: every minor release whose OpenAPI schema the data file
  carries (``tools/gen_schema.py``); :data:`DEFAULT_KUBERNETES_VERSION` when none is given.
* :func:`parse_version`: the one reader of ``--kubernetes-version`` (lint and serve). It takes
  ``MAJOR.MINOR`` and nothing else, as the version is a minor release: ``v1.34`` and
  ``1.34.1`` are refused with the spelling to use instead (patch releases never change the API).
* Feature gates: which Job, CronJob and pod template fields the API server drops on create
  because their gate is off by default in a version. The defaults come from the versioned
  specs in Kubernetes' ``pkg/features/kube_features.go``: the alpha release (off), the first
  release that turned the gate on by default, or none while it is still off in the newest
  release checked (1.35's tree; a gate not turned on there is taken to be still off in 1.36
  and 1.37).

Pure data and functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, int]

OLDEST: Version = (1, 25)
NEWEST: Version = (1, 37)
#: The version the API rules emulate unless told otherwise: the newest stable release (1.37).
#: Its differences from 1.36 come from the 1.37 release notes (docs/api-checks.md, "Kubernetes
#: 1.37"); the verdicts of 1.36 were verified against a real v1.36 API server.
DEFAULT_KUBERNETES_VERSION: Version = (1, 37)
AUTO = "auto"

_MAJOR_MINOR = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")


class VersionError(ValueError):
    """A ``--kubernetes-version`` value that is not a supported MAJOR.MINOR."""


def show(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def supported_range() -> str:
    return f"{show(OLDEST)} to {show(NEWEST)}"


def is_supported(version: Version) -> bool:
    return OLDEST <= version <= NEWEST


def parse_version(text: str) -> Version:
    """``"1.34"`` -> ``(1, 34)``; anything else raises :class:`VersionError` saying why."""
    value = text.strip()
    match = _MAJOR_MINOR.fullmatch(value)
    if match is None:
        hint = _respelled(value)
        if hint is not None:
            raise VersionError(
                f"{text!r}: give the minor release as MAJOR.MINOR, {hint!r} (patch releases "
                "and the v prefix are not part of it)"
            )
        raise VersionError(f"{text!r} is not MAJOR.MINOR (e.g. {show(DEFAULT_KUBERNETES_VERSION)})")
    version = (int(match.group(1)), int(match.group(2)))
    if not is_supported(version):
        raise VersionError(
            f"Kubernetes {show(version)} is not supported: jobguard knows the API of "
            f"{supported_range()}"
        )
    return version


def _respelled(value: str) -> str | None:
    """``v1.34`` or ``1.34.2`` (or ``v1.34.2``) as the MAJOR.MINOR the user meant."""
    m = re.fullmatch(r"([vV]?)([0-9]+)\.([0-9]+)(\.[0-9]+)?", value)
    if m is None or not (m.group(1) or m.group(4)):
        return None
    return f"{int(m.group(2))}.{int(m.group(3))}"


def parse_setting(text: str) -> Version | None:
    """``--kubernetes-version`` of ``jobguard serve``: a version, or None for ``auto``."""
    if text.strip().lower() == AUTO:
        return None
    return parse_version(text)


# -- feature gates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """A Job/CronJob feature gate: the version it appeared (alpha, off by default) and the
    version it was turned on by default (beta or GA). Below ``enabled`` its fields are dropped."""

    gate: str
    added: Version
    enabled: Version
    fields: tuple[str, ...]  # Job spec fields (CronJob: spec fields) the gate guards


FEATURES: tuple[Feature, ...] = (
    Feature("JobPodFailurePolicy", (1, 25), (1, 26), ("podFailurePolicy",)),
    Feature(
        "JobBackoffLimitPerIndex", (1, 28), (1, 29), ("backoffLimitPerIndex", "maxFailedIndexes")
    ),
    Feature("JobPodReplacementPolicy", (1, 28), (1, 29), ("podReplacementPolicy",)),
    Feature("JobSuccessPolicy", (1, 30), (1, 31), ("successPolicy",)),
    Feature("JobManagedBy", (1, 30), (1, 32), ("managedBy",)),
)
CRONJOB_FEATURES: tuple[Feature, ...] = (
    Feature("CronJobTimeZone", (1, 24), (1, 25), ("timeZone",)),
)

#: Elastic Indexed Jobs (completions may change with parallelism): beta on by default from
#: 1.27, GA in 1.31, gate removed in 1.32.
ELASTIC_INDEXED_JOB_SINCE: Version = (1, 27)
#: ``MutableSchedulingDirectivesForSuspendedJobs``: alpha in 1.35, on by default from 1.36 (the
#: template's scheduling directives of a suspended Job may change even after it once ran).
SCHEDULING_DIRECTIVES_OF_ANY_SUSPENDED_JOB_SINCE: Version = (1, 36)
#: ``MutablePodResourcesForSuspendedJobs`` (KEP-5440): alpha in 1.35, beta and on by default
#: from 1.36 (still beta in 1.37, GA planned for 1.38). A suspended Job's template may change
#: its containers' and init containers' ``resources`` (requests, limits, claims).
RESOURCES_OF_SUSPENDED_JOB_SINCE: Version = (1, 36)
#: ``MatchLabelKeysInPodTopologySpreadSelectorMerge`` (Kubernetes PR 129874, beta and on by
#: default from 1.33): the API server merges a topology spread constraint's ``matchLabelKeys``
#: into its ``labelSelector`` itself, so a key may then be in both (a v1.36 server accepts it).
TOPOLOGY_SPREAD_KEYS_MERGED_SINCE: Version = (1, 33)
#: Kubernetes PR 135989 (1.37): an image volume's ``image.reference`` is required in pod
#: templates too (before, only a Pod's own was checked).
IMAGE_VOLUME_REFERENCE_IN_TEMPLATES_SINCE: Version = (1, 37)


#: ``SELinuxMount``: alpha in 1.30, beta but off by default from 1.33 to 1.36, GA in 1.37 (KEP
#: 1710, kubernetes PR 139956 and the 1.37 documentation change "Graduate SELinuxMount to GA in
#: 1.37"). While it is off, validation (``AllowOnlyRecursiveSELinuxChangePolicy``) accepts only
#: ``seLinuxChangePolicy: Recursive`` on create.
SELINUX_MOUNT_ENABLED_SINCE: Version | None = (1, 37)


def selinux_mount_enabled(version: Version) -> bool:
    return SELINUX_MOUNT_ENABLED_SINCE is not None and version >= SELINUX_MOUNT_ENABLED_SINCE


def feature_enabled(gate: str, version: Version) -> bool:
    for feature in FEATURES + CRONJOB_FEATURES:
        if feature.gate == gate:
            return version >= feature.enabled
    raise KeyError(gate)


@dataclass(frozen=True)
class FieldGate:
    """A pod template field behind a feature gate (``DropDisabledPodFields``): the schema
    fields (``<type>.<field>``) it guards, its alpha release and the first release with the
    gate on by default (None: still off in the newest release)."""

    gate: str
    added: Version
    enabled: Version | None
    fields: tuple[str, ...]

    def off_in(self, version: Version) -> bool:
        return version >= self.added and (self.enabled is None or version < self.enabled)


_CORE = "io.k8s.api.core.v1."

POD_FIELD_GATES: tuple[FieldGate, ...] = (
    FieldGate("PodSchedulingReadiness", (1, 26), (1, 27), (_CORE + "PodSpec.schedulingGates",)),
    FieldGate(
        "DynamicResourceAllocation",
        (1, 26),
        (1, 34),
        (_CORE + "PodSpec.resourceClaims", _CORE + "ResourceRequirements.claims"),
    ),
    FieldGate(
        "MatchLabelKeysInPodTopologySpread",
        (1, 25),
        (1, 27),
        (_CORE + "TopologySpreadConstraint.matchLabelKeys",),
    ),
    FieldGate(
        "NodeInclusionPolicyInPodTopologySpread",
        (1, 25),
        (1, 26),
        (
            _CORE + "TopologySpreadConstraint.nodeAffinityPolicy",
            _CORE + "TopologySpreadConstraint.nodeTaintsPolicy",
        ),
    ),
    FieldGate("UserNamespacesSupport", (1, 25), (1, 33), (_CORE + "PodSpec.hostUsers",)),
    FieldGate("ProcMountType", (1, 12), (1, 33), (_CORE + "SecurityContext.procMount",)),
    FieldGate("InPlacePodVerticalScaling", (1, 27), (1, 33), (_CORE + "Container.resizePolicy",)),
    FieldGate("SidecarContainers", (1, 28), (1, 29), (_CORE + "Container.restartPolicy",)),
    FieldGate("PodLifecycleSleepAction", (1, 29), (1, 30), (_CORE + "LifecycleHandler.sleep",)),
    FieldGate(
        "MatchLabelKeysInPodAffinity",
        (1, 29),
        (1, 31),
        (_CORE + "PodAffinityTerm.matchLabelKeys", _CORE + "PodAffinityTerm.mismatchLabelKeys"),
    ),
    FieldGate(
        "VolumeAttributesClass",
        (1, 29),
        (1, 34),
        (_CORE + "PersistentVolumeClaimSpec.volumeAttributesClassName",),
    ),
    FieldGate(
        "ClusterTrustBundleProjection",
        (1, 29),
        None,
        (_CORE + "VolumeProjection.clusterTrustBundle",),
    ),
    FieldGate(
        "RecursiveReadOnlyMounts", (1, 30), (1, 31), (_CORE + "VolumeMount.recursiveReadOnly",)
    ),
    FieldGate("ImageVolume", (1, 31), (1, 35), (_CORE + "Volume.image",)),
    FieldGate(
        "SupplementalGroupsPolicy",
        (1, 31),
        (1, 33),
        (_CORE + "PodSecurityContext.supplementalGroupsPolicy",),
    ),
    FieldGate(
        "SELinuxChangePolicy", (1, 32), (1, 33), (_CORE + "PodSecurityContext.seLinuxChangePolicy",)
    ),
    FieldGate("PodLevelResources", (1, 32), (1, 34), (_CORE + "PodSpec.resources",)),
    FieldGate("ContainerStopSignals", (1, 33), None, (_CORE + "Lifecycle.stopSignal",)),
    FieldGate("ContainerRestartRules", (1, 34), (1, 35), (_CORE + "Container.restartPolicyRules",)),
    FieldGate("EnvFiles", (1, 34), (1, 35), (_CORE + "EnvVarSource.fileKeyRef",)),
    FieldGate("HostnameOverride", (1, 34), (1, 35), (_CORE + "PodSpec.hostnameOverride",)),
    FieldGate("PodCertificateRequest", (1, 34), None, (_CORE + "VolumeProjection.podCertificate",)),
    FieldGate("GenericWorkload", (1, 35), None, (_CORE + "PodSpec.workloadRef",)),
)


def pod_gate_on(gate: str, version: Version) -> bool:
    """Whether pod field gate ``gate`` is on by default in ``version``."""
    for found in POD_FIELD_GATES:
        if found.gate == gate:
            return found.enabled is not None and version >= found.enabled
    raise KeyError(gate)


def pod_fields_off(version: Version) -> dict[str, FieldGate]:
    """Schema field (``<type>.<field>``) -> its gate, for the gates off by default in ``version``."""
    return {f: g for g in POD_FIELD_GATES if g.off_in(version) for f in g.fields}
