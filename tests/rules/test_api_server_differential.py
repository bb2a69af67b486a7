"""A differential table: jobguard's api rules against the API server's verdict, case by case.

Each case changes one part of a valid Job's pod template (or its metadata) and states what a
kube-apiserver answers, derived from the validation function named in ``source``
(pkg/apis/core/validation, pkg/apis/batch/validation, apimachinery's ObjectMeta validation):
the exact (field path, message) list, in the server's order, or nothing for a manifest the
server accepts. Every case is generated twice, as a Job and as a CronJob (whose pod template
sits under ``spec.jobTemplate.spec.template``), and checked at the version it names, so a
regression in any of these fields shows as a difference from the server.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from tests.helpers import evaluate_obj

IGNORED = frozenset({"api-warnings", "api-feature-gates"})  # warnings, not rejections


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # the Kubernetes function whose verdict ``errors`` restates
    pod: dict[str, Any] = field(default_factory=dict)  # merged into the base pod spec
    errors: tuple[tuple[str, str], ...] = ()  # (path, message prefix); {pod} = pod spec path
    version: Version = DEFAULT_KUBERNETES_VERSION
    template_meta: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # merged into the object's metadata
    job_spec: dict[str, Any] = field(default_factory=dict)  # merged into the Job spec
    status: dict[str, Any] | None = None
    kinds: tuple[str, ...] = ("Job", "CronJob")


MAIN = {"name": "main", "image": "busybox:1.36"}


def main(**extra: Any) -> list[dict[str, Any]]:
    return [{**MAIN, **extra}]


CASES: list[Case] = [
    # -- volumes ----------------------------------------------------------------------------
    Case(
        "a volume with only a name is an emptyDir",
        "SetDefaults_Volume",
        pod={
            "volumes": [{"name": "scratch"}],
            "containers": main(volumeMounts=[{"name": "scratch", "mountPath": "/s"}]),
        },
    ),
    Case(
        "iscsi without a target portal, with a bad IQN",
        "validateISCSIVolumeSource",
        pod={"volumes": [{"name": "v", "iscsi": {"iqn": "iqn.x", "lun": 0}}]},
        errors=(
            ("{pod}.volumes[0].iscsi.targetPortal", "Required value"),
            ("{pod}.volumes[0].iscsi.iqn", 'Invalid value: "iqn.x": must be valid format'),
        ),
    ),
    Case(
        "iscsi initiator name too long with the volume name",
        "validateVolumeSource (iscsi)",
        pod={
            "volumes": [
                {
                    "name": "v" * 40,
                    "iscsi": {
                        "targetPortal": "p" * 30,
                        "iqn": "eui.0123456789ABCDEF",
                        "initiatorName": "naa.0123456789abcdef0123456789abcdef",
                    },
                }
            ]
        },
        errors=(
            (
                "{pod}.volumes[0].name",
                'Invalid value: "'
                + "v" * 40
                + '": Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters',
            ),
        ),
    ),
    Case(
        "rbd without monitors",
        "validateRBDVolumeSource",
        pod={"volumes": [{"name": "v", "rbd": {"image": "i"}}]},
        errors=(("{pod}.volumes[0].rbd.monitors", "Required value"),),
    ),
    Case(
        "fc with both targetWWNs and wwids",
        "validateFCVolumeSource",
        pod={"volumes": [{"name": "v", "fc": {"targetWWNs": ["a"], "wwids": ["b"], "lun": 256}}]},
        errors=(
            (
                "{pod}.volumes[0].fc.targetWWNs",
                'Invalid value: ["a"]: targetWWNs and wwids can not be specified simultaneously',
            ),
            ("{pod}.volumes[0].fc.lun", "Invalid value: 256: must be between 0 and 255, inclusive"),
        ),
    ),
    Case(
        "azureFile without a secret name",
        "validateAzureFile",
        pod={"volumes": [{"name": "v", "azureFile": {"shareName": "s"}}]},
        errors=(("{pod}.volumes[0].azureFile.secretName", "Required value"),),
    ),
    Case(
        "cephfs without monitors",
        "validateCephFSVolumeSource",
        pod={"volumes": [{"name": "v", "cephfs": {"monitors": []}}]},
        errors=(("{pod}.volumes[0].cephfs.monitors", "Required value"),),
    ),
    Case(
        "gitRepo with an absolute directory",
        "validateGitRepoVolumeSource",
        pod={"volumes": [{"name": "v", "gitRepo": {"repository": "r", "directory": "/src"}}]},
        errors=(
            (
                "{pod}.volumes[0].gitRepo.directory",
                'Invalid value: "/src": must be a relative path',
            ),
        ),
    ),
    Case(
        "a CSI driver name with an underscore",
        "ValidateCSIDriverName",
        pod={"volumes": [{"name": "v", "csi": {"driver": "my_driver"}}]},
        errors=(
            (
                "{pod}.volumes[0].csi.driver",
                'Invalid value: "my_driver": a lowercase RFC 1123 subdomain',
            ),
        ),
    ),
    Case(
        "a CSI driver name in upper case is accepted (lower-cased before the check)",
        "ValidateCSIDriverName",
        pod={"volumes": [{"name": "v", "csi": {"driver": "Disk.CSI.Azure.com"}}]},
    ),
    Case(
        "projected sources projecting one path twice",
        "validateProjectionSources",
        pod={
            "volumes": [
                {
                    "name": "v",
                    "projected": {
                        "sources": [
                            {
                                "downwardAPI": {
                                    "items": [
                                        {"path": "p", "fieldRef": {"fieldPath": "metadata.name"}}
                                    ]
                                }
                            },
                            {
                                "downwardAPI": {
                                    "items": [
                                        {"path": "p", "fieldRef": {"fieldPath": "metadata.uid"}}
                                    ]
                                }
                            },
                        ]
                    },
                }
            ]
        },
        errors=(("{pod}.volumes[0].projected", 'Invalid value: "p": conflicting duplicate paths'),),
    ),
    Case(
        "an image volume with a lower-case pull policy",
        "validateImageVolumeSource",
        pod={"volumes": [{"name": "v", "image": {"reference": "r:1", "pullPolicy": "never"}}]},
        errors=(("{pod}.volumes[0].image.pullPolicy", 'Unsupported value: "never"'),),
    ),
    Case(
        "an ephemeral volume with an unknown access mode",
        "ValidatePersistentVolumeClaimSpec",
        pod={
            "volumes": [
                {
                    "name": "v",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "accessModes": ["RWO"],
                                "resources": {"requests": {"storage": "1Gi"}},
                            }
                        }
                    },
                }
            ]
        },
        errors=(
            (
                "{pod}.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes",
                'Unsupported value: "RWO"',
            ),
        ),
    ),
    Case(
        "an ephemeral claim restored from a snapshot without its apiGroup",
        "validateDataSource",
        pod={
            "volumes": [
                {
                    "name": "v",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}},
                                "dataSource": {"kind": "VolumeSnapshot", "name": "snap"},
                            }
                        }
                    },
                }
            ]
        },
        errors=(
            (
                "{pod}.volumes[0].ephemeral.volumeClaimTemplate.spec.dataSource",
                "Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            ),
        ),
    ),
    Case(
        "an ephemeral claim with a snapshot data source and a matching dataSourceRef is accepted",
        "ValidatePersistentVolumeClaimSpec",
        pod={
            "volumes": [
                {
                    "name": "v",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}},
                                "dataSource": {
                                    "apiGroup": "snapshot.storage.k8s.io",
                                    "kind": "VolumeSnapshot",
                                    "name": "snap",
                                },
                                "dataSourceRef": {
                                    "apiGroup": "snapshot.storage.k8s.io",
                                    "kind": "VolumeSnapshot",
                                    "name": "snap",
                                },
                                "selector": {"matchLabels": {"tier": "fast"}},
                            }
                        }
                    },
                }
            ]
        },
    ),
    # -- volume devices and mounts ------------------------------------------------------------
    Case(
        "a block device from a configMap volume",
        "ValidateVolumeDevices",
        pod={
            "volumes": [{"name": "c", "configMap": {"name": "c"}}],
            "containers": main(volumeDevices=[{"name": "c", "devicePath": "/dev/c"}]),
        },
        errors=(
            (
                "{pod}.containers[0].volumeDevices[0].name",
                'Invalid value: "c": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode',
            ),
        ),
    ),
    Case(
        "a block device naming no volume, without a path",
        "ValidateVolumeDevices",
        pod={"containers": main(volumeDevices=[{"name": "nope"}])},
        errors=(
            ("{pod}.containers[0].volumeDevices[0].name", 'Not found: "nope"'),
            ("{pod}.containers[0].volumeDevices[0].devicePath", "Required value"),
        ),
    ),
    Case(
        "recursiveReadOnly without readOnly",
        "validateMountRecursiveReadOnly",
        pod={
            "volumes": [{"name": "c", "emptyDir": {}}],
            "containers": main(
                volumeMounts=[{"name": "c", "mountPath": "/c", "recursiveReadOnly": "IfPossible"}]
            ),
        },
        errors=(
            (
                "{pod}.containers[0].volumeMounts.recursiveReadOnly",
                "Forbidden: may only be specified when readOnly is true",
            ),
        ),
    ),
    Case(
        "recursiveReadOnly with an unknown value",
        "validateMountRecursiveReadOnly",
        pod={
            "volumes": [{"name": "c", "emptyDir": {}}],
            "containers": main(
                volumeMounts=[
                    {
                        "name": "c",
                        "mountPath": "/c",
                        "readOnly": True,
                        "recursiveReadOnly": "Always",
                    }
                ]
            ),
        },
        errors=(
            ("{pod}.containers[0].volumeMounts.recursiveReadOnly", 'Unsupported value: "Always"'),
        ),
    ),
    # -- env valueFrom ------------------------------------------------------------------------
    Case(
        "a subscripted label path is accepted",
        "validateObjectFieldSelector",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    }
                ]
            )
        },
    ),
    Case(
        "a subscripted annotation key that is no qualified name",
        "validateObjectFieldSelector",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['a/b/c']"}},
                    }
                ]
            )
        },
        errors=(
            (
                "{pod}.containers[0].env[0].valueFrom.fieldRef",
                'Invalid value: "a/b/c": a qualified name must consist of',
            ),
        ),
    ),
    Case(
        "a subscript on a field that takes none",
        "ConvertDownwardAPIFieldLabel",
        pod={
            "containers": main(
                env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name['x']"}}}]
            )
        },
        errors=(
            (
                "{pod}.containers[0].env[0].valueFrom.fieldRef.fieldPath",
                "Invalid value: \"metadata.name['x']\": error converting fieldPath: field label does not support subscript",
            ),
        ),
    ),
    Case(
        "a fieldRef apiVersion other than v1",
        "ConvertDownwardAPIFieldLabel",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {
                            "fieldRef": {"apiVersion": "v1beta1", "fieldPath": "metadata.name"}
                        },
                    }
                ]
            )
        },
        errors=(
            (
                "{pod}.containers[0].env[0].valueFrom.fieldRef.fieldPath",
                'Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v1beta1',
            ),
        ),
    ),
    Case(
        "a CPU divisor of 1k",
        "validateContainerResourceDivisor",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {
                            "resourceFieldRef": {"resource": "requests.cpu", "divisor": "1k"}
                        },
                    }
                ]
            )
        },
        errors=(
            (
                "{pod}.containers[0].env[0].valueFrom.resourceFieldRef.divisor",
                'Invalid value: "requests.cpu": only divisor\'s values 1m and 1 are supported with the cpu resource',
            ),
        ),
    ),
    Case(
        "a memory divisor of 1000 is 1k in canonical form, accepted",
        "validateContainerResourceDivisor",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {
                            "resourceFieldRef": {"resource": "limits.memory", "divisor": "1000"}
                        },
                    }
                ]
            )
        },
    ),
    Case(
        "a downward API volume item with a bad divisor",
        "validateDownwardAPIVolumeFile",
        pod={
            "volumes": [
                {
                    "name": "v",
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "cpu",
                                "resourceFieldRef": {
                                    "containerName": "main",
                                    "resource": "limits.cpu",
                                    "divisor": "2",
                                },
                            }
                        ]
                    },
                }
            ]
        },
        errors=(
            (
                "{pod}.volumes[0].downwardAPI.resourceFieldRef.divisor",
                'Invalid value: "limits.cpu": only divisor\'s values 1m and 1',
            ),
        ),
    ),
    Case(
        "fileKeyRef naming no volume (1.35+)",
        "validateEnvVarValueFrom (fileKeyRef)",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {
                            "fileKeyRef": {"volumeName": "nope", "path": "a.env", "key": "K"}
                        },
                    }
                ]
            )
        },
        errors=(
            ("{pod}.containers[0].env[0].valueFrom.fileKeyRef.volumeName", 'Not found: "nope"'),
        ),
    ),
    Case(
        "fileKeyRef is dropped before 1.35",
        "DropDisabledPodFields (EnvFiles)",
        pod={
            "containers": main(
                env=[
                    {
                        "name": "A",
                        "valueFrom": {
                            "fileKeyRef": {"volumeName": "nope", "path": "a.env", "key": "K"}
                        },
                    }
                ]
            )
        },
        version=(1, 34),
    ),
    # -- extended resources and hugepages ----------------------------------------------------------
    Case(
        "an extended resource request without a limit",
        "validateResourceRequirements (IsOvercommitAllowed)",
        pod={"containers": main(resources={"requests": {"nvidia.com/gpu": 1}})},
        errors=(
            (
                "{pod}.containers[0].resources.limits",
                "Required value: Limit must be set for non overcommitable resources",
            ),
        ),
    ),
    Case(
        "an extended resource request below its limit",
        "validateResourceRequirements (IsOvercommitAllowed)",
        pod={
            "containers": main(
                resources={"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}
            )
        },
        errors=(
            (
                "{pod}.containers[0].resources.requests",
                'Invalid value: "1": must be equal to nvidia.com/gpu limit of 2',
            ),
        ),
    ),
    Case(
        "an extended resource limit of 1.5",
        "ValidateResourceQuantityValue",
        pod={"containers": main(resources={"limits": {"example.com/dev": "1.5"}})},
        errors=(
            (
                "{pod}.containers[0].resources.limits[example.com/dev]",
                'Invalid value: "1.5": must be an integer',
            ),
        ),
    ),
    Case(
        "hugepages without cpu or memory",
        "validateResourceRequirements",
        pod={"containers": main(resources={"limits": {"hugepages-1Gi": "2Gi"}})},
        errors=(("{pod}.containers[0].resources", "Forbidden: HugePages require cpu or memory"),),
    ),
    Case(
        "a claim the pod does not declare",
        "validateResourceClaimNames",
        pod={
            "resourceClaims": [{"name": "a", "resourceClaimName": "a"}],
            "containers": main(resources={"claims": [{"name": "b"}]}),
        },
        errors=(
            (
                "{pod}.containers[0].resources.claims[0]",
                'Not found: "b": must be one of the names in pod.spec.resourceClaims: a',
            ),
        ),
    ),
    Case(
        "container claims are dropped before 1.34",
        "DropDisabledPodFields (DynamicResourceAllocation)",
        pod={"containers": main(resources={"claims": [{"name": "b"}]})},
        version=(1, 33),
    ),
    # -- pod-level resources -------------------------------------------------------------------------
    Case(
        "pod-level ephemeral-storage",
        "validatePodResourceName",
        pod={"resources": {"limits": {"ephemeral-storage": "1Gi"}}},
        errors=(
            (
                "{pod}.resources.limits[ephemeral-storage]",
                'Unsupported value: "ephemeral-storage": supported values: "cpu", "hugepages-", "memory"',
            ),
        ),
    ),
    Case(
        "a pod-level name that is not standard",
        "validateResourceName",
        pod={"resources": {"requests": {"gpu": "1"}}},
        errors=(
            (
                "{pod}.resources.requests[gpu]",
                'Invalid value: "gpu": must be a standard resource type or fully qualified',
            ),
        ),
    ),
    Case(
        "a pod-level request above its limit",
        "validateResourceRequirements",
        pod={"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}},
        errors=(
            (
                "{pod}.resources.requests",
                'Invalid value: "2": must be less than or equal to cpu limit of 1',
            ),
        ),
    ),
    Case(
        "a pod-level request below the containers' sum",
        "validatePodResourceConsistency",
        pod={
            "resources": {"requests": {"cpu": "1"}},
            "containers": [
                {**MAIN, "resources": {"requests": {"cpu": "700m"}}},
                {"name": "b", "image": "busybox:1.36", "resources": {"requests": {"cpu": "700m"}}},
            ],
        },
        errors=(
            (
                "{pod}.resources.requests[cpu]",
                'Invalid value: "1": must be greater than or equal to aggregate container requests of 1400m',
            ),
        ),
    ),
    Case(
        "a pod-level hugepages limit below the containers' limits",
        "validatePodResourceConsistency",
        pod={
            "resources": {"limits": {"hugepages-2Mi": "2Mi", "memory": "1Gi"}},
            "containers": main(
                resources={
                    "limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi"},
                    "requests": {"hugepages-2Mi": "4Mi"},
                }
            ),
        },
        errors=(
            (
                "{pod}.resources.limits[hugepages-2Mi]",
                'Invalid value: "2Mi": must be greater than or equal to aggregate container limits of 4Mi',
            ),
            (
                "{pod}.resources.containers[0][hugepages-2Mi].limits",
                'Invalid value: "4Mi": must be less than or equal to pod limits of 2Mi',
            ),
        ),
    ),
    Case(
        "pod-level resources in a Windows pod",
        "validatePodResources",
        pod={"os": {"name": "windows"}, "resources": {"limits": {"cpu": "1"}}},
        errors=(("{pod}.resources", "Forbidden: may not be set for a windows pod"),),
    ),
    Case(
        "pod-level resources are dropped before 1.34",
        "DropDisabledPodFields (PodLevelResources)",
        pod={"resources": {"requests": {"cpu": "-1"}}},
        version=(1, 33),
    ),
    # -- null or empty list items ---------------------------------------------------------------
    Case(
        "containers: [null] is an empty container",
        "validateContainers (a null item decodes as the zero Container)",
        pod={"containers": [None]},
        errors=(
            ("{pod}.containers[0].name", "Required value"),
            ("{pod}.containers[0].image", "Required value"),
        ),
    ),
    Case(
        "env: [null] is an env var without a name",
        "ValidateEnv",
        pod={"containers": main(env=[None])},
        errors=(("{pod}.containers[0].env[0].name", "Required value"),),
    ),
    Case(
        "tolerations: [null] is a toleration without key or operator",
        "ValidateTolerations",
        pod={"tolerations": [None]},
        errors=(
            (
                "{pod}.tolerations[0].operator",
                'Invalid value: "": operator must be Exists when `key` is empty',
            ),
        ),
    ),
    Case(
        "sysctls: [{}] is a sysctl without a name",
        "validateSysctls",
        pod={"securityContext": {"sysctls": [{}]}},
        errors=(("{pod}.securityContext.sysctls[0].name", "Required value"),),
    ),
    # -- security context -----------------------------------------------------------------------
    Case(
        "seLinuxChangePolicy: MountOption while SELinuxMount is off (1.36)",
        "validateSELinuxChangePolicy (AllowOnlyRecursiveSELinuxChangePolicy)",
        pod={"securityContext": {"seLinuxChangePolicy": "MountOption"}},
        version=(1, 36),
        errors=(
            (
                "{pod}.securityContext.seLinuxChangePolicy",
                'Unsupported value: "MountOption": supported values: "Recursive"',
            ),
        ),
    ),
    Case(
        "seLinuxChangePolicy: MountOption is accepted from 1.37 (SELinuxMount GA)",
        "validateSELinuxChangePolicy",
        pod={"securityContext": {"seLinuxChangePolicy": "MountOption"}},
        version=(1, 37),
    ),
    # -- Job fields ---------------------------------------------------------------------------
    Case(
        'a pod failure policy rule with containerName: ""',
        "validatePodFailurePolicyRuleOnExitCodes",
        job_spec={
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": "", "operator": "In", "values": [1]},
                    }
                ]
            }
        },
        errors=(
            (
                "{job}.podFailurePolicy.rules[0].onExitCodes.containerName",
                'Invalid value: "": must be one of the container or initContainer names in the pod template',
            ),
        ),
    ),
]

CASES += [
    # -- Job fields -------------------------------------------------------------------------------
    Case(
        "succeededIndexes longer than 64 KiB",
        "validateSuccessPolicy (maxJobSuccessPolicySucceededIndexesLimit)",
        job_spec={
            "completionMode": "Indexed",
            "completions": 5,
            "parallelism": 1,
            "successPolicy": {"rules": [{"succeededIndexes": "1" * 65537}]},
        },
        errors=(
            (
                "{job}.successPolicy.rules[0].succeededIndexes",
                "Too long: must have at most 65536 bytes",
            ),
            (
                "{job}.successPolicy.rules[0].succeededIndexes",
                'Invalid value: "111',  # then validateIndexesFormat: not an int32
            ),
        ),
    ),
    # -- object metadata ------------------------------------------------------------------------
    Case(
        "an owner reference without a uid",
        "validateOwnerReference",
        meta={
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": ""}]
        },
        errors=(("metadata.ownerReferences.uid", 'Invalid value: "": uid must not be empty'),),
    ),
    Case(
        "two controller owner references",
        "ValidateOwnerReferences",
        meta={
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "a",
                    "uid": "1",
                    "controller": True,
                },
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "b",
                    "uid": "2",
                    "controller": True,
                },
            ]
        },
        errors=(("metadata.ownerReferences", "Invalid value: "),),
    ),
    Case(
        "an owner reference apiVersion without a version",
        "validateOwnerReference (schema.FromAPIVersionAndKind)",
        meta={
            "ownerReferences": [
                {"apiVersion": "apps/", "kind": "Deployment", "name": "b", "uid": "2"}
            ]
        },
        errors=(
            (
                "metadata.ownerReferences.apiVersion",
                'Invalid value: "apps/": version must not be empty',
            ),
        ),
    ),
    Case(
        "an unqualified finalizer that is not standard",
        "validateKubeFinalizerName",
        meta={"finalizers": ["cleanup"]},
        errors=(
            (
                "metadata.finalizers[0]",
                'Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
            ),
        ),
    ),
    Case(
        "standard and domain-prefixed finalizers are accepted",
        "ValidateFinalizers",
        meta={"finalizers": ["kubernetes", "foregroundDeletion", "example.com/cleanup"]},
    ),
    Case(
        "orphan and foregroundDeletion together",
        "ValidateFinalizers",
        meta={"finalizers": ["orphan", "foregroundDeletion"]},
        errors=(("metadata.finalizers", "Invalid value: "),),
    ),
    Case(
        "a CronJob generateName of 48 characters makes a 53-character name",
        "ValidateCronJobCreate (after name generation)",
        meta={"generateName": "a" * 47 + "-"},
        errors=(("metadata.name", "Invalid value: "),),
        kinds=("CronJob",),
    ),
    Case(
        "a CronJob generateName of 47 characters is accepted",
        "ValidateCronJobCreate (after name generation)",
        meta={"generateName": "a" * 46 + "-"},
        kinds=("CronJob",),
    ),
    Case(
        "an Indexed Job generateName whose pod hostnames exceed 63 characters",
        "validateJob (Indexed hostname, after name generation)",
        meta={"generateName": "j" * 57 + "-"},
        job_spec={"completionMode": "Indexed", "completions": 3, "parallelism": 1},
        errors=(("metadata.name", "Invalid value: "),),
        kinds=("Job",),
    ),
    # -- pod template annotations --------------------------------------------------------------------
    Case(
        "a pod-deletion-cost that is not a 32-bit integer",
        "ValidatePodSpecificAnnotations",
        template_meta={"annotations": {"controller.kubernetes.io/pod-deletion-cost": "3000000000"}},
        errors=(
            (
                "{tpl}.annotations[controller.kubernetes.io/pod-deletion-cost]",
                'Invalid value: "3000000000": must be a 32bit integer',
            ),
        ),
    ),
    Case(
        "a mirror-pod annotation without nodeName",
        "ValidatePodSpecificAnnotations",
        template_meta={"annotations": {"kubernetes.io/config.mirror": "x"}},
        errors=(
            (
                "{tpl}.annotations[kubernetes.io/config.mirror]",
                'Invalid value: "x": must set spec.nodeName',
            ),
        ),
    ),
    Case(
        "a container seccomp annotation with a localhost path going up",
        "ValidateSeccompProfile",
        template_meta={
            "annotations": {
                "container.seccomp.security.alpha.kubernetes.io/main": "localhost/../p.json"
            }
        },
        errors=(
            (
                "{tpl}.annotations.container.seccomp.security.alpha.kubernetes.io/main",
                "Invalid value: \"../p.json\": must not contain '..'",
            ),
        ),
    ),
    Case(
        "an AppArmor annotation disagreeing with the container field",
        "validateAppArmorAnnotationsAndFieldsMatchOnCreate",
        template_meta={
            "annotations": {"container.apparmor.security.beta.kubernetes.io/main": "unconfined"}
        },
        pod={"containers": main(securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})},
        errors=(
            (
                "{pod}.containers[0].securityContext.appArmorProfile.type",
                "Forbidden: apparmor type in annotation and field must match",
            ),
        ),
    ),
    Case(
        "a tolerations annotation with a toleration the field would refuse",
        "ValidateTolerationsInPodAnnotations",
        template_meta={
            "annotations": {
                "scheduler.alpha.kubernetes.io/tolerations": '[{"key": "a", "Operator": "Exists", "value": "b"}]'
            }
        },
        errors=(
            (
                "{tpl}.annotations.scheduler.alpha.kubernetes.io/tolerations[0].operator",
                "Invalid value: ",
            ),
        ),
    ),
    Case(
        "a tolerations annotation that is no JSON list",
        "ValidateTolerationsInPodAnnotations (GetTolerationsFromPodAnnotations)",
        template_meta={"annotations": {"scheduler.alpha.kubernetes.io/tolerations": "key=a"}},
        errors=(
            ("{tpl}.annotations", 'Invalid value: "scheduler.alpha.kubernetes.io/tolerations": '),
        ),
    ),
    # -- hostnameOverride ------------------------------------------------------------------------------
    Case(
        "hostnameOverride beside setHostnameAsFQDN",
        "ValidatePodSpec (HostnameOverride, KEP-4762)",
        pod={"hostnameOverride": "a.example.com", "setHostnameAsFQDN": True},
        errors=(("{pod}.hostnameOverride", "Invalid value: "),),
    ),
    Case(
        "hostnameOverride with an underscore",
        "ValidatePodSpec (HostnameOverride, KEP-4762)",
        pod={"hostnameOverride": "a_b"},
        errors=(
            ("{pod}.hostnameOverride", 'Invalid value: "a_b": a lowercase RFC 1123 subdomain'),
        ),
    ),
    Case(
        "hostnameOverride is dropped before 1.35",
        "DropDisabledPodFields (HostnameOverride)",
        pod={"hostnameOverride": "a_b"},
        version=(1, 34),
    ),
    # -- timestamps ----------------------------------------------------------------------------------
    Case(
        "a creationTimestamp that is a date",
        "metav1.Time.UnmarshalJSON",
        meta={"creationTimestamp": "2024-01-01"},
        errors=(
            (
                "metadata.creationTimestamp",
                'parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00"',
            ),
        ),
    ),
    Case(
        "a status time with a lower-case t",
        "metav1.Time.UnmarshalJSON",
        status={"lastScheduleTime": "2024-01-01t10:00:00Z"},
        errors=(("status.lastScheduleTime", "parsing time "),),
        kinds=("CronJob",),
    ),
    Case(
        "a claim template's metadata with a creationTimestamp",
        "ValidateTemplateObjectMeta (only labels and annotations may be set)",
        pod={
            "volumes": [
                {
                    "name": "w",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "metadata": {"creationTimestamp": "2024-01-01T10:00:00Z"},
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}},
                            },
                        }
                    },
                }
            ]
        },
        errors=(
            (
                "{pod}.volumes[0].ephemeral.volumeClaimTemplate.metadata.creationTimestamp",
                "Forbidden: cannot be set",
            ),
        ),
    ),
    Case(
        "an exported template creationTimestamp: null is accepted",
        "metav1.Time.UnmarshalJSON",
        template_meta={"creationTimestamp": None},
    ),
]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(copy.deepcopy(extra))
    return out


def build(case: Case, kind: str) -> dict[str, Any]:
    pod = _merge({"restartPolicy": "Never", "containers": main()}, case.pod)
    template: dict[str, Any] = {"spec": pod}
    if case.template_meta:
        template["metadata"] = copy.deepcopy(case.template_meta)
    job_spec = _merge({"template": template}, case.job_spec)
    name = "differential" if kind == "Job" else "differential-cron"
    metadata = _merge({"name": name}, case.meta)
    if metadata.get("generateName"):
        del metadata["name"]
    obj: dict[str, Any] = {"apiVersion": "batch/v1", "kind": kind, "metadata": metadata}
    if kind == "Job":
        obj["spec"] = job_spec
    else:
        obj["spec"] = {"schedule": "0 2 * * *", "jobTemplate": {"spec": job_spec}}
    if case.status is not None:
        obj["status"] = copy.deepcopy(case.status)
    return obj


def expected(case: Case, kind: str) -> list[tuple[str, str]]:
    job = "spec" if kind == "Job" else "spec.jobTemplate.spec"
    return [
        (p.format(pod=f"{job}.template.spec", tpl=f"{job}.template", job=job), m)
        for p, m in case.errors
    ]


def api_findings(obj: dict[str, Any], version: Version) -> list[tuple[str, str]]:
    report = evaluate_obj(obj, version=version)
    return [
        (f.field, f.message)
        for f in report.findings
        if f.rule.startswith("api-") and f.rule not in IGNORED
    ]


PARAMS = [
    pytest.param(case, kind, id=f"{kind}: {case.name}") for case in CASES for kind in case.kinds
]


@pytest.mark.parametrize(("case", "kind"), PARAMS)
def test_jobguard_gives_the_api_servers_verdict(case: Case, kind: str) -> None:
    got = api_findings(build(case, kind), case.version)
    want = expected(case, kind)
    assert [p for p, _ in got] == [p for p, _ in want], (case.source, got)
    for (path, message), (_, prefix) in zip(got, want, strict=True):
        assert message.startswith(prefix), (case.source, path, message)
