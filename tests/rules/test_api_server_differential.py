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

from jobguard.core.context import Context
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
        "seLinuxChangePolicy: MountOption while SELinuxMount is off",
        "validateSELinuxChangePolicy (AllowOnlyRecursiveSELinuxChangePolicy)",
        pod={"securityContext": {"seLinuxChangePolicy": "MountOption"}},
        errors=(
            (
                "{pod}.securityContext.seLinuxChangePolicy",
                'Unsupported value: "MountOption": supported values: "Recursive"',
            ),
        ),
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
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": job_spec}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": job_spec}},
    }


def expected(case: Case, kind: str) -> list[tuple[str, str]]:
    job = "spec" if kind == "Job" else "spec.jobTemplate.spec"
    return [
        (p.format(pod=f"{job}.template.spec", tpl=f"{job}.template", job=job), m)
        for p, m in case.errors
    ]


def api_findings(obj: dict[str, Any], version: Version) -> list[tuple[str, str]]:
    report = evaluate_obj(obj, ctx=Context(kubernetes_version=version))
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
