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
* ``ephemeral``: a ``volumeClaimTemplate`` whose spec has ``accessModes`` and a
  ``resources.requests.storage``.

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
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, unsupported
from jobguard.rules.api_pod_security import local_path_errors
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


def _mode(at: FieldPath, mode: Any) -> Iterator[Violation]:
    if is_int(mode) and not 0 <= mode <= 0o777:
        yield Violation(at, invalid(mode, FILE_MODE_ERROR))


def non_reserved_path_errors(value: str) -> list[str]:
    """``ValidateLocalNonReservedPath``."""
    errors = local_path_errors(value)
    if value.startswith("..") and not value.startswith("../"):
        errors.append("must not start with '..'")
    return errors


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
            elif isinstance(path, str) and "[" not in path and path not in VOLUME_FIELD_PATHS:
                yield Violation(
                    (*at, "fieldRef", "fieldPath"), unsupported(path, VOLUME_FIELD_PATHS)
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
            if not resource_ref.get("containerName"):
                yield Violation((*at, "resourceFieldRef", "containerName"), "Required value")
            elif not resource_ref.get("resource"):
                yield Violation((*at, "resourceFieldRef", "resource"), "Required value")
        elif field_ref is None and resource_ref is None:
            yield Violation(at, "Required value: one of fieldRef and resourceFieldRef is required")
        yield from _mode((*at, "mode"), item.get("mode"))


def _projected(at: FieldPath, projected: dict[str, Any]) -> Iterator[Violation]:
    yield from _mode((*at, "defaultMode"), projected.get("defaultMode"))
    sources = projected.get("sources")
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
        downward = source.get("downwardAPI")
        if isinstance(downward, dict):
            yield from _downward_items((*here, "downwardAPI"), downward.get("items"))
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
        if len(kinds) > 1:
            yield Violation(here, "Forbidden: may not specify more than 1 volume type per source")


def _ephemeral(at: FieldPath, ephemeral: dict[str, Any]) -> Iterator[Violation]:
    template = ephemeral.get("volumeClaimTemplate")
    if not isinstance(template, dict):
        yield Violation((*at, "volumeClaimTemplate"), "Required value")
        return
    spec = template.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    here = (*at, "volumeClaimTemplate", "spec")
    if not spec.get("accessModes"):
        yield Violation(
            (*here, "accessModes"), "Required value: at least 1 access mode is required"
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


def _volume(at: FieldPath, volume: dict[str, Any]) -> Iterator[Violation]:
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
        yield from _required((*at, "csi"), csi, "driver")
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict):
        yield from _ephemeral((*at, "ephemeral"), ephemeral)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    volumes = sim.pod_spec.get("volumes")
    if not isinstance(volumes, list):
        return
    for index, volume in enumerate(volumes):
        if isinstance(volume, dict):
            yield from _volume(sim.at("template", "spec", "volumes", index), volume)
