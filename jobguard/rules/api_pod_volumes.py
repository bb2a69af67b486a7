"""api-pod-volumes: volume sources the API server rejects.

What, for each volume of a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``),
the fields of the common volume types (names and the single volume type are
``api-pod-template``'s):

* ``configMap.name``, ``secret.secretName``, ``persistentVolumeClaim.claimName``,
  ``csi.driver``, ``nfs.server`` and an absolute ``nfs.path`` are required;
* ``items`` (configMap, secret, projected sources, downwardAPI): a ``key``, a relative ``path``
  without ``..``, ``mode``/``defaultMode`` between 0 and 0777 (octal);
* ``downwardAPI`` items: exactly one of ``fieldRef`` (``metadata.name``, ``namespace``,
  ``labels``, ``annotations``, ``uid``) and ``resourceFieldRef`` (with a ``containerName``);
* ``hostPath``: a ``path`` without ``..`` and a known ``type``;
* ``emptyDir.sizeLimit`` not negative;
* ``projected.sources``: exactly one source each, configMap/secret names, items,
  ``serviceAccountToken`` (a ``path``, ``expirationSeconds`` between 10 minutes and 2^32 s);
* ``ephemeral``: a ``volumeClaimTemplate`` whose spec has supported ``accessModes``
  (``ReadWriteOncePod`` alone), a positive ``resources.requests.storage``, a valid
  ``storageClassName``, ``volumeMode``, ``selector``, ``volumeAttributesClassName`` (1.34+)
  and ``dataSource``/``dataSourceRef`` (name, kind, a ``PersistentVolumeClaim`` unless an
  ``apiGroup`` is given, the two agreeing), and metadata with nothing but labels and
  annotations (``ValidatePersistentVolumeClaimTemplate``);
* ``projected``: no two sources projecting the same path (``conflicting duplicate paths``);
* ``csi.driver``: at most 63 characters, an RFC 1123 subdomain (``ValidateCSIDriverName``);
* ``image``: a ``reference`` (from 1.37; 1.36 and older accept none in a pod template) and a
  known ``pullPolicy``;
* the in-tree sources Kubernetes still validates (most are deprecated, their drivers removed,
  but a typo in one is still an HTTP 422): ``gitRepo`` (``repository``, a relative
  ``directory``), ``iscsi`` (``targetPortal``, IQN/EUI/NAA formats of ``iqn`` and
  ``initiatorName``, ``lun`` 0-255, ``secretRef`` with CHAP, the ``<volume>:<targetPortal>``
  length), ``fc`` (``targetWWNs`` or ``wwids``, ``lun``), ``rbd`` and ``cephfs``
  (``monitors``, ``image``), ``azureFile`` (``secretName``, ``shareName``), ``azureDisk``
  (``diskName``, ``diskURI`` matching ``kind``, ``cachingMode``), ``gcePersistentDisk`` and
  ``awsElasticBlockStore`` (ids, ``partition``), ``glusterfs``, ``flocker``, ``cinder``,
  ``quobyte``, ``flexVolume`` (reserved option keys), ``vsphereVolume``,
  ``photonPersistentDisk``, ``portworxVolume``, ``scaleIO`` and ``storageos``.

Each check follows ``validateVolumeSource`` and the ``validate<Source>VolumeSource`` function
it calls (pkg/apis/core/validation/validation.go), with their field paths, including their
quirks: a GCE disk's errors are at ``gcePersistentDisk``'s sibling path ``persistentDisk``,
the iSCSI initiator at ``initiatorname``, a CSI secret name at ``csi.name``. A volume with only
a name is not an error: the API server defaults it to ``emptyDir: {}`` (``SetDefaults_Volume``).

Why: each is an HTTP 422 on create; a volume templated with an empty name or a mode written in
decimal (``defaultMode: 777``, which is octal 1411) fails only at deploy time.

Example::

    volumes:
      - name: config
        configMap:
          name: app-config
          defaultMode: 777        # Invalid value: 777: must be a number between 0 and 0777 (octal)

Fix: none automatic; follow the message (write modes in octal, ``0644``, or as decimal 420).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
)
from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.kubernetes.versions import IMAGE_VOLUME_REFERENCE_IN_TEMPLATES_SINCE, Version
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key, field_path
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, unsupported
from jobguard.rules.api_pod_env import (
    field_selector_errors,
    plain_field_path,
    resource_selector_errors,
)
from jobguard.rules.api_pod_security import local_path_errors, non_reserved_path_errors
from jobguard.rules.api_pod_spec import DOWNWARD_API_LABELS, ENV_RESOURCE_PATHS
from jobguard.rules.api_selector import selector_syntax_errors
from jobguard.rules.base import NoOptions

CODE = "JG022"
NAME = "api-pod-volumes"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Volume sources the API server rejects (names, items, modes, paths, claims...)"
REMEDIATION = "Give the volume source the field the message names, with a valid value."

FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)  # sorted, as sets.List prints them
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 2**32


ATTRIBUTES_CLASS_SINCE = (
    1,
    34,
)  # VolumeAttributesClass on by default (EnableVolumeAttributesClass)
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
AZURE_CACHING_MODES = ("None", "ReadOnly", "ReadWrite")
AZURE_DISK_KINDS = ("Dedicated", "Managed", "Shared")
CSI_DRIVER_MAX = 63
LUN_RANGE_ERROR = "must be between 0 and 255, inclusive"
PARTITION_RANGE_ERROR = "must be between 1 and 255, inclusive"  # pdPartitionErrorMsg
ISCSI_NAME_MAX = 64
_IQN = re.compile(
    r"iqn\.\d{4}-\d{2}\.([A-Za-z0-9\-.]+)(:[^,;*&$|\s]+)$"
)  # unanchored start, as Go's
_EUI = re.compile(r"^eui.[A-Za-z0-9]{16}$")
_NAA = re.compile(r"^naa.[A-Za-z0-9]{32}$")
# Which string fields each in-tree source requires (``field.Required`` when empty), in the
# order its validate function checks them; the field name the error is reported at is the
# second element when the API server names it differently (a GCE disk's ``persistentDisk``).
REQUIRED_STRINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gcePersistentDisk": ("persistentDisk", ("pdName",)),
    "awsElasticBlockStore": ("awsElasticBlockStore", ("volumeID",)),
    "glusterfs": ("glusterfs", ("endpoints", "path")),
    "rbd": ("rbd", ("monitors", "image")),
    "cinder": ("cinder", ("volumeID",)),
    "cephfs": ("cephfs", ("monitors",)),
    "flexVolume": ("flexVolume", ("driver",)),
    "azureFile": ("azureFile", ("secretName", "shareName")),
    "vsphereVolume": ("vsphereVolume", ("volumePath",)),
    "photonPersistentDisk": ("photonPersistentDisk", ("pdID",)),
    "portworxVolume": ("portworxVolume", ("volumeID",)),
    "azureDisk": ("azureDisk", ("diskName", "diskURI")),
    "scaleIO": ("scaleIO", ("gateway", "system", "volumeName")),
}


def _mode(at: FieldPath, mode: Any) -> Iterator[Violation]:
    if is_int(mode) and not 0 <= mode <= 0o777:
        yield Violation(at, invalid(mode, FILE_MODE_ERROR))


def _path(at: FieldPath, value: Any) -> Iterator[Violation]:
    if not value:
        yield Violation(at, "Required value")
    if isinstance(value, str):
        for error in non_reserved_path_errors(value):
            yield Violation(at, invalid(value, error))


def _items(at: FieldPath, items: Any) -> Iterator[Violation]:
    """``validateKeyToPath`` for each item."""
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        here = (*at, index)
        if not item.get("key"):
            yield Violation((*here, "key"), "Required value")
        yield from _path((*here, "path"), item.get("path"))
        yield from _mode((*here, "mode"), item.get("mode"))


def _required(at: FieldPath, source: dict[str, Any], key: str) -> Iterator[Violation]:
    if not source.get(key):
        yield Violation((*at, key), "Required value")


def _downward_items(at: FieldPath, items: Any) -> Iterator[Violation]:
    """``validateDownwardAPIVolumeFile`` (its errors are at the source, without the index)."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        yield from _path((*at, "path"), item.get("path"))
        field_ref, resource_ref = item.get("fieldRef"), item.get("resourceFieldRef")
        if isinstance(field_ref, dict):
            path = field_ref.get("fieldPath")
            if not path:
                yield Violation((*at, "fieldRef", "fieldPath"), "Required value")
            elif not plain_field_path(field_ref):
                yield from field_selector_errors((*at, "fieldRef"), field_ref)
            elif isinstance(path, str):
                label = "spec.nodeName" if path == "spec.host" else path
                if label not in DOWNWARD_API_LABELS:
                    yield Violation(
                        (*at, "fieldRef", "fieldPath"),
                        invalid(
                            path, f"error converting fieldPath: field label not supported: {path}"
                        ),
                    )
                elif label not in VOLUME_FIELD_PATHS:
                    yield Violation(
                        (*at, "fieldRef", "fieldPath"), unsupported(label, VOLUME_FIELD_PATHS)
                    )
            if resource_ref is not None:
                yield Violation(
                    at,
                    invalid(
                        "resource",
                        "fieldRef and resourceFieldRef can not be specified simultaneously",
                    ),
                )
        elif isinstance(resource_ref, dict):
            # validateContainerResourceFieldSelector(..., volume=true)
            resource = resource_ref.get("resource")
            if not resource_ref.get("containerName"):
                yield Violation((*at, "resourceFieldRef", "containerName"), "Required value")
            elif not resource:
                yield Violation((*at, "resourceFieldRef", "resource"), "Required value")
            elif (
                isinstance(resource, str)
                and resource not in ENV_RESOURCE_PATHS
                and not resource.startswith(("limits.hugepages-", "requests.hugepages-"))
            ):
                yield Violation(
                    (*at, "resourceFieldRef", "resource"), unsupported(resource, ENV_RESOURCE_PATHS)
                )
            yield from resource_selector_errors((*at, "resourceFieldRef"), resource_ref)
        elif field_ref is None and resource_ref is None:
            yield Violation(at, "Required value: one of fieldRef and resourceFieldRef is required")
        yield from _mode((*at, "mode"), item.get("mode"))


def _item_paths(items: Any) -> list[str]:
    return [
        i["path"]
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict) and isinstance(i.get("path"), str) and i["path"]
    ]


def _projected(at: FieldPath, projected: dict[str, Any]) -> Iterator[Violation]:
    """``validateProjectedVolumeSource`` / ``validateProjectionSources``."""
    yield from _mode((*at, "defaultMode"), projected.get("defaultMode"))
    sources = projected.get("sources")
    all_paths: set[str] = set()

    def duplicates(paths: list[str], shown_as: Any) -> Iterator[Violation]:
        for path in paths:
            if path in all_paths:
                value = path if shown_as is None else shown_as
                yield Violation(at, invalid(value, "conflicting duplicate paths"))
            all_paths.add(path)

    for index, source in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(source, dict):
            continue
        here = (*at, "sources", index)
        kinds = [k for k, v in source.items() if v is not None]
        for kind in ("secret", "configMap"):
            item = source.get(kind)
            if isinstance(item, dict):
                yield from _required((*here, kind), item, "name")
                yield from _items((*here, kind, "items"), item.get("items"))
                # the error shows the source's name, not the path (sic)
                yield from duplicates(_item_paths(item.get("items")), str(item.get("name") or ""))
        downward = source.get("downwardAPI")
        if isinstance(downward, dict):
            yield from _downward_items((*here, "downwardAPI"), downward.get("items"))
            yield from duplicates(_item_paths(downward.get("items")), None)
        token = source.get("serviceAccountToken")
        if isinstance(token, dict):
            token_at = (*here, "serviceAccountToken")
            seconds = token.get("expirationSeconds")
            if is_int(seconds):
                if seconds < MIN_TOKEN_SECONDS:
                    yield Violation(
                        (*token_at, "expirationSeconds"),
                        invalid(seconds, "may not specify a duration less than 10 minutes"),
                    )
                elif seconds > MAX_TOKEN_SECONDS:
                    yield Violation(
                        (*token_at, "expirationSeconds"),
                        invalid(seconds, "may not specify a duration larger than 2^32 seconds"),
                    )
            yield from _path((*token_at, "path"), token.get("path"))
        bundle = source.get("clusterTrustBundle")
        if isinstance(bundle, dict) and isinstance(bundle.get("path"), str):
            yield from duplicates([bundle["path"]], None)
        if len(kinds) > 1:
            yield Violation(here, "Forbidden: may not specify more than 1 volume type per source")


def _ephemeral(at: FieldPath, ephemeral: dict[str, Any], version: Version) -> Iterator[Violation]:
    template = ephemeral.get("volumeClaimTemplate")
    if not isinstance(template, dict):
        yield Violation((*at, "volumeClaimTemplate"), "Required value")
        return
    spec = template.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    here = (*at, "volumeClaimTemplate", "spec")
    meta = template.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    for key, value in meta.items():
        if key not in ("labels", "annotations") and value not in (None, "", [], {}):
            # validateFieldAllowList names the Go field with its first letter lowered: UID -> uID
            name = "uID" if key == "uid" else key
            yield Violation(
                (*at, "volumeClaimTemplate", "metadata", name), "Forbidden: cannot be set"
            )
    modes = spec.get("accessModes")
    if not modes:
        yield Violation(
            (*here, "accessModes"), "Required value: at least 1 access mode is required"
        )
    once_pod = other = False
    for mode in modes if isinstance(modes, list) else []:
        if mode not in ACCESS_MODES:
            yield Violation((*here, "accessModes"), unsupported(mode, ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            once_pod = True
        else:
            other = True
    if once_pod and other:
        yield Violation(
            (*here, "accessModes"),
            "Forbidden: may not use ReadWriteOncePod with other access modes",
        )
    resources = spec.get("resources")
    requests = resources.get("requests") if isinstance(resources, dict) else None
    storage = requests.get("storage") if isinstance(requests, dict) else None
    if storage is None:
        yield Violation((*here, "resources", Key("storage")), "Required value")
    else:
        amount = parse_quantity(storage)
        if amount is not None and amount <= 0:
            yield Violation(
                (*here, "resources", Key("storage")),
                invalid(str(storage), "must be greater than zero"),
            )
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        for error in dns1123_subdomain_errors(class_name):
            yield Violation((*here, "storageClassName"), invalid(class_name, error))
    volume_mode = spec.get("volumeMode")
    if isinstance(volume_mode, str) and volume_mode not in VOLUME_MODES:
        yield Violation((*here, "volumeMode"), unsupported(volume_mode, VOLUME_MODES))
    yield from _data_sources(here, spec)
    attributes_class = spec.get("volumeAttributesClassName")
    if isinstance(attributes_class, str) and attributes_class and version >= ATTRIBUTES_CLASS_SINCE:
        for error in dns1123_subdomain_errors(attributes_class):
            yield Violation((*here, "volumeAttributesClassName"), invalid(attributes_class, error))


def _data_source(at: FieldPath, source: dict[str, Any]) -> Iterator[Violation]:
    """``validateDataSource`` / ``validateDataSourceRef``."""
    yield from _required(at, source, "name")
    yield from _required(at, source, "kind")
    group = source.get("apiGroup") or ""
    kind = source.get("kind")
    if not group and kind != "PersistentVolumeClaim":
        yield Violation(
            at,
            invalid(
                kind if isinstance(kind, str) else "",
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            ),
        )
    if isinstance(group, str) and group:
        for error in dns1123_subdomain_errors(group):
            yield Violation((*at, "apiGroup"), invalid(group, error))
    namespace = source.get("namespace")
    if isinstance(namespace, str) and namespace:
        for error in dns1123_label_errors(namespace):
            yield Violation((*at, "namespace"), invalid(namespace, error))


def _data_sources(at: FieldPath, spec: dict[str, Any]) -> Iterator[Violation]:
    """The claim spec's ``selector``, ``dataSource`` and ``dataSourceRef`` checks of
    ``ValidatePersistentVolumeClaimSpec``."""
    if spec.get("selector") is not None:
        yield from selector_syntax_errors(spec["selector"], (*at, "selector"))
    source, ref = spec.get("dataSource"), spec.get("dataSourceRef")
    if isinstance(source, dict):
        yield from _data_source((*at, "dataSource"), source)
    if isinstance(ref, dict):
        yield from _data_source((*at, "dataSourceRef"), ref)
        if ref.get("namespace"):
            if source is not None:
                yield Violation(
                    at,
                    invalid(
                        field_path((*at, "dataSource")),
                        "may not be specified when dataSourceRef.namespace is specified",
                    ),
                )
        elif isinstance(source, dict) and (
            (source.get("apiGroup"), source.get("kind"), source.get("name"))
            != (ref.get("apiGroup"), ref.get("kind"), ref.get("name"))
        ):
            yield Violation(
                at, invalid(field_path((*at, "dataSource")), "must match dataSourceRef")
            )


def _volume(at: FieldPath, volume: dict[str, Any], version: Version) -> Iterator[Violation]:
    config_map = volume.get("configMap")
    if isinstance(config_map, dict):
        here = (*at, "configMap")
        yield from _required(here, config_map, "name")
        yield from _mode((*here, "defaultMode"), config_map.get("defaultMode"))
        yield from _items((*here, "items"), config_map.get("items"))
    secret = volume.get("secret")
    if isinstance(secret, dict):
        here = (*at, "secret")
        yield from _required(here, secret, "secretName")
        yield from _mode((*here, "defaultMode"), secret.get("defaultMode"))
        yield from _items((*here, "items"), secret.get("items"))
    claim = volume.get("persistentVolumeClaim")
    if isinstance(claim, dict):
        yield from _required((*at, "persistentVolumeClaim"), claim, "claimName")
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        here = (*at, "hostPath")
        path = host_path.get("path")
        if not path:
            yield Violation((*here, "path"), "Required value")
        elif isinstance(path, str):
            if ".." in path.split("/"):
                yield Violation((*here, "path"), invalid(path, "must not contain '..'"))
            kind = host_path.get("type")
            if isinstance(kind, str) and kind not in HOST_PATH_TYPES:
                yield Violation((*here, "type"), unsupported(kind, HOST_PATH_TYPES))
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and empty_dir.get("sizeLimit") is not None:
        amount = parse_quantity(empty_dir["sizeLimit"])
        if amount is not None and amount < 0:
            yield Violation(
                (*at, "emptyDir", "sizeLimit"),
                "Forbidden: SizeLimit field must be a valid resource quantity",
            )
    nfs = volume.get("nfs")
    if isinstance(nfs, dict):
        here = (*at, "nfs")
        yield from _required(here, nfs, "server")
        path = nfs.get("path") or ""
        if not path:
            yield Violation((*here, "path"), "Required value")
        if isinstance(path, str) and not posixpath.isabs(path):
            yield Violation((*here, "path"), invalid(path, "must be an absolute path"))
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        here = (*at, "downwardAPI")
        yield from _mode((*here, "defaultMode"), downward.get("defaultMode"))
        yield from _downward_items(here, downward.get("items"))
    projected = volume.get("projected")
    if isinstance(projected, dict):
        yield from _projected((*at, "projected"), projected)
    csi = volume.get("csi")
    if isinstance(csi, dict):
        yield from _csi((*at, "csi"), csi)
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict):
        yield from _ephemeral((*at, "ephemeral"), ephemeral, version)
    image = volume.get("image")
    if isinstance(image, dict):
        yield from _image((*at, "image"), image, version)
    yield from _in_tree(at, volume)


def csi_driver_errors(driver: str) -> list[str]:
    """``ValidateCSIDriverName`` (each message as the API server prints it)."""
    errors = []
    if not driver:
        errors.append("Required value")
    if len(driver) > CSI_DRIVER_MAX:
        errors.append(f"Too long: may not be more than {CSI_DRIVER_MAX} bytes")
    errors.extend(invalid(driver, e) for e in dns1123_subdomain_errors(driver.lower()))
    return errors


def _csi(at: FieldPath, csi: dict[str, Any]) -> Iterator[Violation]:
    """``validateCSIVolumeSource``."""
    driver = csi.get("driver")
    for error in csi_driver_errors(driver if isinstance(driver, str) else ""):
        yield Violation((*at, "driver"), error)
    secret = csi.get("nodePublishSecretRef")
    if isinstance(secret, dict):
        name = secret.get("name")
        if not name:
            yield Violation((*at, "nodePublishSecretRef", "name"), "Required value")
        elif isinstance(name, str):
            for error in dns1123_subdomain_errors(name):
                yield Violation((*at, "name"), invalid(name, error))  # (sic: csi.name)


def _image(at: FieldPath, image: dict[str, Any], version: Version) -> Iterator[Violation]:
    """``validateImageVolumeSource`` (an empty ``pullPolicy`` was defaulted). Its ``reference``
    is required in a pod template from 1.37 only (Kubernetes PR 135989, CHANGELOG-1.37: before,
    only a Pod's own was checked)."""
    if not image.get("reference") and version >= IMAGE_VOLUME_REFERENCE_IN_TEMPLATES_SINCE:
        yield Violation((*at, "reference"), "Required value")
    policy = image.get("pullPolicy")
    if isinstance(policy, str) and policy and policy not in PULL_POLICIES:
        yield Violation((*at, "pullPolicy"), unsupported(policy, PULL_POLICIES))


def _iscsi_name_errors(value: str) -> str | None:
    if not value.startswith(("iqn", "eui", "naa")):
        return "must be valid format starting with iqn, eui, or naa"
    pattern = _IQN if value.startswith("iqn") else _EUI if value.startswith("eui") else _NAA
    return None if pattern.search(value) else "must be valid format"


def _iscsi(at: FieldPath, iscsi: dict[str, Any], volume_name: str) -> Iterator[Violation]:
    """``validateISCSIVolumeSource`` and the name length check of ``validateVolumeSource``."""
    here = (*at, "iscsi")
    portal = iscsi.get("targetPortal")
    yield from _required(here, iscsi, "targetPortal")
    iqn = iscsi.get("iqn")
    if not iqn:
        yield Violation((*here, "iqn"), "Required value")
    elif isinstance(iqn, str):
        error = _iscsi_name_errors(iqn)
        if error:
            yield Violation((*here, "iqn"), invalid(iqn, error))
    lun = iscsi.get("lun")
    if is_int(lun) and not 0 <= lun <= 255:
        yield Violation((*here, "lun"), invalid(lun, LUN_RANGE_ERROR))
    chap = iscsi.get("chapAuthDiscovery") is True or iscsi.get("chapAuthSession") is True
    if chap and iscsi.get("secretRef") is None:
        yield Violation((*here, "secretRef"), "Required value")
    initiator = iscsi.get("initiatorName")
    if isinstance(initiator, str):
        error = _iscsi_name_errors(initiator)
        if error:
            yield Violation((*here, "initiatorname"), invalid(initiator, error))
        if len(f"{volume_name}:{portal if isinstance(portal, str) else ''}") > ISCSI_NAME_MAX:
            yield Violation(
                (*at, "name"),
                invalid(
                    volume_name,
                    "Total length of <volume name>:<iscsi.targetPortal> must be under 64 "
                    "characters if iscsi.initiatorName is specified.",
                ),
            )


def _fc(at: FieldPath, fc: dict[str, Any]) -> Iterator[Violation]:
    """``validateFCVolumeSource``."""
    wwns, wwids = fc.get("targetWWNs"), fc.get("wwids")
    if not wwns and not wwids:
        yield Violation(
            (*at, "targetWWNs"),
            "Required value: must specify either targetWWNs or wwids, but not both",
        )
    if wwns and wwids:
        yield Violation(
            (*at, "targetWWNs"),
            invalid(wwns, "targetWWNs and wwids can not be specified simultaneously"),
        )
    if wwns:
        lun = fc.get("lun")
        if lun is None:
            yield Violation(
                (*at, "lun"), "Required value: lun is required if targetWWNs is specified"
            )
        elif is_int(lun) and not 0 <= lun <= 255:
            yield Violation((*at, "lun"), invalid(lun, LUN_RANGE_ERROR))


def _azure_disk(at: FieldPath, disk: dict[str, Any]) -> Iterator[Violation]:
    """``validateAzureDisk`` after ``SetDefaults_AzureDiskVolumeSource`` (``cachingMode:
    ReadWrite``, ``kind: Shared``): a managed disk's URI starts with ``/subscriptions/``,
    a blob disk's with ``https://``."""
    caching = disk.get("cachingMode") or "ReadWrite"
    kind = disk.get("kind") or "Shared"
    uri = disk.get("diskURI")
    uri = uri if isinstance(uri, str) else ""
    if isinstance(caching, str) and caching not in AZURE_CACHING_MODES:
        yield Violation((*at, "cachingMode"), unsupported(caching, AZURE_CACHING_MODES))
    if isinstance(kind, str) and kind not in AZURE_DISK_KINDS:
        yield Violation((*at, "kind"), unsupported(kind, AZURE_DISK_KINDS))
    if kind == "Managed" and not uri.startswith("/subscriptions/"):
        yield Violation(
            (*at, "diskURI"),
            unsupported(
                uri,
                (
                    "/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}",
                ),
            ),
        )
    if kind != "Managed" and not uri.startswith("https://"):
        yield Violation(
            (*at, "diskURI"),
            unsupported(
                uri,
                ("https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd",),
            ),
        )


def _in_tree(at: FieldPath, volume: dict[str, Any]) -> Iterator[Violation]:
    """The in-tree sources of ``validateVolumeSource``, in its order."""
    name = volume.get("name")
    name = name if isinstance(name, str) else ""
    git = volume.get("gitRepo")
    if isinstance(git, dict):
        yield from _required((*at, "gitRepo"), git, "repository")
        directory = git.get("directory")
        if isinstance(directory, str):
            for error in local_path_errors(directory):
                yield Violation((*at, "gitRepo", "directory"), invalid(directory, error))
    for source in ("gcePersistentDisk", "awsElasticBlockStore"):
        disk = volume.get(source)
        if isinstance(disk, dict):
            reported_at, required = REQUIRED_STRINGS[source]
            yield from _required((*at, reported_at), disk, required[0])
            partition = disk.get("partition")
            if is_int(partition) and not 0 <= partition <= 255:
                yield Violation(
                    (*at, reported_at, "partition"), invalid(partition, PARTITION_RANGE_ERROR)
                )
    iscsi = volume.get("iscsi")
    if isinstance(iscsi, dict):
        yield from _iscsi(at, iscsi, name)
    for source in ("glusterfs",):
        yield from _required_strings(at, volume, source)
    flocker = volume.get("flocker")
    if isinstance(flocker, dict):
        yield from _flocker((*at, "flocker"), flocker)
    for source in ("rbd", "cinder", "cephfs"):
        yield from _required_strings(at, volume, source)
    cinder = volume.get("cinder")
    secret = cinder.get("secretRef") if isinstance(cinder, dict) else None
    if isinstance(secret, dict) and not secret.get("name"):
        yield Violation((*at, "cinder", "secretRef", "name"), "Required value")
    quobyte = volume.get("quobyte")
    if isinstance(quobyte, dict):
        yield from _quobyte((*at, "quobyte"), quobyte)
    fc = volume.get("fc")
    if isinstance(fc, dict):
        yield from _fc((*at, "fc"), fc)
    flex = volume.get("flexVolume")
    if isinstance(flex, dict):
        yield from _required_strings(at, volume, "flexVolume")
        options = flex.get("options")
        for key in options if isinstance(options, dict) else ():
            namespace = str(key).split("/", 1)[0] if "/" in str(key) else str(key)
            if ("." + namespace.lower()).endswith((".kubernetes.io", ".k8s.io")):
                yield Violation(
                    (*at, "flexVolume", "options", Key(str(key))),
                    invalid(str(key), "kubernetes.io and k8s.io namespaces are reserved"),
                )
    for source in ("azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume"):
        yield from _required_strings(at, volume, source)
    disk = volume.get("azureDisk")
    if isinstance(disk, dict):
        yield from _required_strings(at, volume, "azureDisk")
        yield from _azure_disk((*at, "azureDisk"), disk)
    storageos = volume.get("storageos")
    if isinstance(storageos, dict):
        yield from _storageos((*at, "storageos"), storageos)
    yield from _required_strings(at, volume, "scaleIO")


def _required_strings(at: FieldPath, volume: dict[str, Any], source: str) -> Iterator[Violation]:
    value = volume.get(source)
    if isinstance(value, dict):
        reported_at, required = REQUIRED_STRINGS[source]
        for key in required:
            yield from _required((*at, reported_at), value, key)


def _flocker(at: FieldPath, flocker: dict[str, Any]) -> Iterator[Violation]:
    """``validateFlockerVolumeSource``."""
    name, uuid = flocker.get("datasetName"), flocker.get("datasetUUID")
    if not name and not uuid:
        yield Violation(at, "Required value: one of datasetName and datasetUUID is required")
    if name and uuid:
        yield Violation(
            at,
            invalid("resource", "datasetName and datasetUUID can not be specified simultaneously"),
        )
    if isinstance(name, str) and "/" in name:
        yield Violation((*at, "datasetName"), invalid(name, "must not contain '/'"))


def _quobyte(at: FieldPath, quobyte: dict[str, Any]) -> Iterator[Violation]:
    """``validateQuobyteVolumeSource``."""
    registry, tenant = quobyte.get("registry"), quobyte.get("tenant")
    pairs = "must be a host:port pair or multiple pairs separated by commas"
    if not registry:
        yield Violation((*at, "registry"), f"Required value: {pairs}")
    elif isinstance(tenant, str) and len(tenant) >= 65:
        yield Violation(
            (*at, "tenant"),
            "Required value: must be a UUID and may not exceed a length of 64 characters",
        )
    elif isinstance(registry, str):
        for pair in registry.split(","):
            if not _is_host_port(pair):
                yield Violation((*at, "registry"), invalid(registry, pairs))
    yield from _required(at, quobyte, "volume")


def _is_host_port(pair: str) -> bool:
    """Whether Go's ``net.SplitHostPort`` accepts ``pair`` (host may be empty or [ipv6])."""
    if pair.startswith("["):
        end = pair.find("]")
        return end > 0 and pair[end + 1 : end + 2] == ":" and "]" not in pair[end + 2 :]
    return pair.count(":") == 1 and "[" not in pair and "]" not in pair


def _storageos(at: FieldPath, storageos: dict[str, Any]) -> Iterator[Violation]:
    """``validateStorageOSVolumeSource``."""
    name = storageos.get("volumeName")
    if not name:
        yield Violation((*at, "volumeName"), "Required value")
    elif isinstance(name, str):
        for error in dns1123_label_errors(name):
            yield Violation((*at, "volumeName"), invalid(name, error))
    namespace = storageos.get("volumeNamespace")
    if isinstance(namespace, str) and namespace:
        for error in dns1123_label_errors(namespace):
            yield Violation((*at, "volumeNamespace"), invalid(namespace, error))
    secret = storageos.get("secretRef")
    if isinstance(secret, dict) and not secret.get("name"):
        yield Violation((*at, "secretRef", "name"), "Required value")


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    volumes = sim.pod_spec.get("volumes")
    if not isinstance(volumes, list):
        return
    for index, volume in enumerate(volumes):
        if isinstance(volume, dict):
            yield from _volume(
                sim.at("template", "spec", "volumes", index), volume, subject.version
            )
