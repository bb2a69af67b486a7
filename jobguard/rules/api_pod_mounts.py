"""api-pod-mounts: volume devices and mount options the API server rejects.

What, for each container and init container of a Job's pod template (CronJob:
``spec.jobTemplate.spec.template``):

* ``volumeDevices`` (``ValidateVolumeDevices``): a ``name`` naming a volume of the template
  that is a ``persistentVolumeClaim`` or an ``ephemeral`` volume (block mode needs a claim),
  unique names and ``devicePath``s, no ``..`` in a ``devicePath``, and no name or path that a
  ``volumeMounts`` entry of the same container also uses;
* ``volumeMounts`` against the devices (``ValidateVolumeMounts``): a mount may not reuse a
  device's name or path;
* ``recursiveReadOnly`` (``validateMountRecursiveReadOnly``): ``Disabled``, ``IfPossible`` or
  ``Enabled``, and the last two only with ``readOnly: true`` and no mount propagation other
  than ``None`` (from Kubernetes 1.31, where RecursiveReadOnlyMounts is on; the field is
  dropped before);
* a mount of an ``image`` volume may not use ``subPath`` or ``subPathExpr``.

Messages and paths are those of pkg/apis/core/validation/validation.go, which the checks
follow in order.

Why: each is an HTTP 422 on create: a raw block device needs a claim in block mode, and a
read-only mount made recursively read-only must say ``readOnly: true``.

Example::

    volumeMounts:
      - name: data
        mountPath: /data
        recursiveReadOnly: Enabled     # Forbidden: may only be specified when readOnly is true

Fix: none automatic; follow the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, shown, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG023"
NAME = "api-pod-mounts"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Volume devices, recursive read-only mounts and image-volume sub-paths the API server rejects"
)
REMEDIATION = "Follow the message: block devices need a claim, recursiveReadOnly needs readOnly."

RECURSIVE_READ_ONLY = ("Disabled", "Enabled", "IfPossible")  # sorted, as sets.List prints them
RECURSIVE_READ_ONLY_SINCE = (1, 31)  # RecursiveReadOnlyMounts on by default (dropped before)


def _volumes(sim: JobView) -> dict[str, dict[str, Any]]:
    items = sim.pod_spec.get("volumes")
    return {
        v["name"]: v
        for v in (items if isinstance(items, list) else [])
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    }


def _entries(container: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    items = container.get(key)
    return [
        (i, m)
        for i, m in enumerate(items if isinstance(items, list) else [])
        if isinstance(m, dict)
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mounts(
    at: FieldPath,
    container: dict[str, Any],
    volumes: dict[str, dict[str, Any]],
    version: tuple[int, int],
) -> Iterator[Violation]:
    """The parts of ``ValidateVolumeMounts`` no other rule checks."""
    devices = {
        _text(d.get("name")): _text(d.get("devicePath"))
        for _, d in _entries(container, "volumeDevices")
    }
    for index, mount in _entries(container, "volumeMounts"):
        here = (*at, "volumeMounts", index)
        name, path = _text(mount.get("name")), _text(mount.get("mountPath"))
        if devices and name in devices:
            yield Violation(
                (*here, "name"), invalid(name, "must not already exist in volumeDevices")
            )
        if devices and path in devices.values():
            yield Violation(
                (*here, "mountPath"),
                invalid(path, "must not already exist as a path in volumeDevices"),
            )
        volume = volumes.get(name)
        if volume is not None and volume.get("image") is not None:
            for key in ("subPath", "subPathExpr"):
                value = mount.get(key)
                if isinstance(value, str) and value:
                    yield Violation(
                        (*here, key), invalid(value, "not allowed in image volume sources")
                    )
        if version >= RECURSIVE_READ_ONLY_SINCE:
            yield from _recursive_read_only((*at, "volumeMounts", "recursiveReadOnly"), mount)


def _recursive_read_only(at: FieldPath, mount: dict[str, Any]) -> Iterator[Violation]:
    """``validateMountRecursiveReadOnly`` (its errors are at ``volumeMounts.recursiveReadOnly``,
    without the index, as the API server reports them)."""
    value = mount.get("recursiveReadOnly")
    if not isinstance(value, str):
        return
    if value in ("Enabled", "IfPossible"):
        if mount.get("readOnly") is not True:
            yield Violation(at, "Forbidden: may only be specified when readOnly is true")
        propagation = mount.get("mountPropagation")
        if isinstance(propagation, str) and propagation and propagation != "None":
            yield Violation(
                at,
                "Forbidden: may only be specified when mountPropagation is None or not specified",
            )
    elif value != "Disabled":
        yield Violation(at, unsupported(value, RECURSIVE_READ_ONLY))


def _devices(
    at: FieldPath, container: dict[str, Any], volumes: dict[str, dict[str, Any]]
) -> Iterator[Violation]:
    """``ValidateVolumeDevices``."""
    mounts = {
        _text(m.get("name")): _text(m.get("mountPath"))
        for _, m in _entries(container, "volumeMounts")
    }
    names: set[str] = set()
    paths: set[str] = set()
    for index, device in _entries(container, "volumeDevices"):
        here = (*at, "volumeDevices", index)
        name, path = _text(device.get("name")), _text(device.get("devicePath"))
        volume = volumes.get(name)
        if not name:
            yield Violation((*here, "name"), "Required value")
        if name in names:
            yield Violation((*here, "name"), invalid(name, "must be unique"))
        if (
            volume is not None
            and volume.get("persistentVolumeClaim") is None
            and volume.get("ephemeral") is None
        ):
            yield Violation(
                (*here, "name"),
                invalid(
                    name,
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
                ),
            )
        if volume is None:
            yield Violation((*here, "name"), f"Not found: {shown(name)}")
        if not path:
            yield Violation((*here, "devicePath"), "Required value")
        if path in paths:
            yield Violation((*here, "devicePath"), invalid(path, "must be unique"))
        if path and ".." in path.replace("\\", "/").split("/"):
            yield Violation(
                (*here, "devicePath"), invalid(path, "can not contain backsteps ('..')")
            )
        else:
            paths.add(path)
        if name in mounts:
            yield Violation(
                (*here, "name"), invalid(name, "must not already exist in volumeMounts")
            )
        if path in mounts.values():
            yield Violation(
                (*here, "devicePath"),
                invalid(path, "must not already exist as a path in volumeMounts"),
            )
        if name:
            names.add(name)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    if not sim.pod_spec:
        return
    volumes: dict[str, dict[str, Any]] | None = None
    # validateContainers, then validateInitContainers; per container mounts before devices.
    for init in (False, True):
        for at, container in sim.containers(init=init):
            if container.get("volumeMounts") is None and container.get("volumeDevices") is None:
                continue
            if volumes is None:
                volumes = _volumes(sim)
            yield from _mounts(at, container, volumes, subject.version)
            yield from _devices(at, container, volumes)
