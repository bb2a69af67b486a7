"""api-pod-probes: probes, lifecycle hooks, volume mounts and resize policies the API server rejects.

What, for each container and init container of a Job's pod template (CronJob:
``spec.jobTemplate.spec.template``):

* ``livenessProbe``, ``readinessProbe``, ``startupProbe``: exactly one handler (``exec`` with a
  ``command``, ``httpGet``, ``tcpSocket``, ``grpc``); ports 1-65535 or an IANA port name;
  ``httpGet.scheme`` ``HTTP``/``HTTPS``; header names; the timing fields not negative;
  ``successThreshold`` 1 for liveness and startup probes; ``terminationGracePeriodSeconds``
  positive, and not on a readiness probe;
* ``lifecycle.postStart``/``preStop``: the same handler rules (``sleep`` instead of ``grpc``,
  at most the pod's ``terminationGracePeriodSeconds``: from Kubernetes 1.30, where ``sleep``
  is on by default, and 0 allowed from 1.33);
* init containers that are not sidecars (no ``restartPolicy: Always``) may not have probes or a
  ``lifecycle``;
* ``volumeMounts``: each ``mountPath`` once per container, ``subPath``/``subPathExpr`` relative
  without ``..`` and not both, ``mountPropagation`` values;
* ``resizePolicy``: ``cpu``/``memory`` once each, ``NotRequired``/``RestartContainer``, and only
  ``NotRequired`` in a pod with ``restartPolicy: Never`` (from Kubernetes 1.33, where in-place
  resize is on by default; before, the API server drops the field).

Why: each is an HTTP 422 on create. Probes copied from a Deployment onto a Job's init container,
or ``successThreshold: 3`` on a liveness probe, are typical.

Example::

    initContainers:
      - name: migrate
        image: migrate:1.4
        livenessProbe:          # Forbidden: may not be set for init containers without restartPolicy=Always
          exec: {command: [true]}

Fix: none automatic; follow the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, shown, unsupported
from jobguard.rules.api_pod_security import local_path_errors
from jobguard.rules.api_pod_spec import PORT_RANGE_ERROR, port_name_errors
from jobguard.rules.base import NoOptions

CODE = "JG020"
NAME = "api-pod-probes"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Probes, lifecycle hooks, volume mounts and resize policies the API server rejects"
REMEDIATION = "Fix the probe, hook, mount or resize policy the message names."

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
HTTP_SCHEMES = ("HTTP", "HTTPS")
PROBE_COUNTERS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
RESIZE_RESOURCES = ("cpu", "memory")
RESIZE_POLICIES = ("NotRequired", "RestartContainer")
RESIZE_SINCE = (1, 33)  # InPlacePodVerticalScaling on by default
SLEEP_SINCE = (1, 30)  # PodLifecycleSleepAction on by default (the field is dropped before)
SLEEP_ZERO_SINCE = (1, 33)  # PodLifecycleSleepActionAllowZero on by default
DEFAULT_GRACE_PERIOD = 30
INIT_FORBIDDEN = "Forbidden: may not be set for init containers without restartPolicy=Always"
_HTTP_HEADER_NAME = re.compile(r"^[-A-Za-z0-9]+$")
HTTP_HEADER_ERROR = (
    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', "
    "regex used for validation is '[-A-Za-z0-9]+')"
)


def _port(at: FieldPath, port: Any) -> Iterator[Violation]:
    """``ValidatePortNumOrName`` (a missing port is the number 0)."""
    if port is None:
        port = 0
    if is_int(port):
        if not 1 <= port <= 65535:
            yield Violation(at, invalid(port, PORT_RANGE_ERROR))
    elif isinstance(port, str):
        for error in port_name_errors(port):
            yield Violation(at, invalid(port, error))


def _sleep_seconds(
    at: FieldPath, seconds: Any, grace: Any, version: tuple[int, int]
) -> Iterator[Violation]:
    """``validateSleepAction``: at most the pod's grace period; 0 only from 1.33."""
    if not is_int(seconds) or version < SLEEP_SINCE:
        return
    limit = grace if is_int(grace) else DEFAULT_GRACE_PERIOD
    if version >= SLEEP_ZERO_SINCE:
        if not 0 <= seconds <= limit:
            yield Violation(
                at,
                invalid(
                    seconds,
                    f"must be non-negative and less than terminationGracePeriodSeconds ({limit})",
                ),
            )
    elif not 0 < seconds <= limit:
        yield Violation(
            at,
            invalid(
                seconds,
                f"must be greater than 0 and less than terminationGracePeriodSeconds ({limit}). "
                "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
            ),
        )


def _handler(
    at: FieldPath,
    handler: dict[str, Any],
    kinds: tuple[str, ...],
    grace: Any,
    version: tuple[int, int],
) -> Iterator[Violation]:
    """``validateHandler``: exactly one handler type, each valid."""
    found = 0
    for kind in kinds:
        action = handler.get(kind)
        if action is None or (kind == "sleep" and version < SLEEP_SINCE):
            continue
        if found:
            yield Violation((*at, kind), "Forbidden: may not specify more than 1 handler type")
            continue
        found += 1
        if not isinstance(action, dict):
            continue
        here = (*at, kind)
        if kind == "exec" and not action.get("command"):
            yield Violation((*here, "command"), "Required value")
        elif kind == "httpGet":
            yield from _port((*here, "port"), action.get("port"))
            scheme = action.get("scheme")
            if isinstance(scheme, str) and scheme and scheme not in HTTP_SCHEMES:
                yield Violation((*here, "scheme"), unsupported(scheme, HTTP_SCHEMES))
            headers = action.get("httpHeaders")
            for header in headers if isinstance(headers, list) else []:
                name = header.get("name") if isinstance(header, dict) else None
                if isinstance(name, str) and not _HTTP_HEADER_NAME.match(name):
                    yield Violation((*here, "httpHeaders"), invalid(name, HTTP_HEADER_ERROR))
        elif kind in ("tcpSocket", "grpc"):
            yield from _port((*here, "port"), action.get("port"))
        elif kind == "sleep":
            yield from _sleep_seconds((*here, "seconds"), action.get("seconds"), grace, version)
    if not found:
        yield Violation(at, "Required value: must specify a handler type")


def _probe(
    at: FieldPath, kind: str, probe: dict[str, Any], grace: Any, version: tuple[int, int]
) -> Iterator[Violation]:
    yield from _handler(at, probe, PROBE_HANDLERS, grace, version)
    for key in PROBE_COUNTERS:
        value = probe.get(key)
        if is_int(value) and value < 0:
            yield Violation((*at, key), invalid(value, "must be greater than or equal to 0"))
    probe_grace = probe.get("terminationGracePeriodSeconds")
    if is_int(probe_grace) and probe_grace <= 0:
        yield Violation(
            (*at, "terminationGracePeriodSeconds"), invalid(probe_grace, "must be greater than 0")
        )
    success = probe.get("successThreshold")
    if kind != "readinessProbe" and is_int(success) and success not in (0, 1):
        # 0 is defaulted to 1
        yield Violation((*at, "successThreshold"), invalid(success, "must be 1"))
    if kind == "readinessProbe" and probe_grace is not None:
        yield Violation(
            (*at, "terminationGracePeriodSeconds"),
            invalid(probe_grace, "must not be set for readinessProbes"),
        )


def _mounts(at: FieldPath, container: dict[str, Any]) -> Iterator[Violation]:
    """``ValidateVolumeMounts`` beyond names (``api-pod-template``). The API server reports
    subPath errors at ``volumeMounts.subPath``, without the index: so does this rule."""
    mounts = container.get("volumeMounts")
    seen: set[str] = set()
    for index, mount in enumerate(mounts if isinstance(mounts, list) else []):
        if not isinstance(mount, dict):
            continue
        here = (*at, "volumeMounts", index)
        path = mount.get("mountPath")
        if isinstance(path, str) and path:
            if path in seen:
                yield Violation((*here, "mountPath"), invalid(path, "must be unique"))
            seen.add(path)
        sub_path, sub_expr = mount.get("subPath"), mount.get("subPathExpr")
        if isinstance(sub_path, str) and sub_path:
            for error in local_path_errors(sub_path):
                yield Violation((*at, "volumeMounts", "subPath"), invalid(sub_path, error))
        if isinstance(sub_expr, str) and sub_expr:
            if sub_path:
                yield Violation(
                    (*here, "subPathExpr"),
                    invalid(sub_expr, "subPathExpr and subPath are mutually exclusive"),
                )
            for error in local_path_errors(sub_expr):
                yield Violation((*at, "volumeMounts", "subPathExpr"), invalid(sub_expr, error))
        propagation = mount.get("mountPropagation")
        if isinstance(propagation, str) and propagation not in MOUNT_PROPAGATIONS:
            yield Violation(
                (*at, "volumeMounts", "mountPropagation"),
                unsupported(propagation, MOUNT_PROPAGATIONS),
            )
        elif propagation == "Bidirectional":
            context = container.get("securityContext")
            privileged = context.get("privileged") if isinstance(context, dict) else None
            if privileged is not True:
                yield Violation(
                    (*at, "volumeMounts", "mountPropagation"),
                    "Forbidden: Bidirectional mount propagation is available only to privileged "
                    "containers",
                )


def _resize(at: FieldPath, container: dict[str, Any], pod_policy: Any) -> Iterator[Violation]:
    """``validateResizePolicy`` (its errors are at ``resizePolicy``, without the index)."""
    items = container.get("resizePolicy")
    seen: set[str] = set()
    here = (*at, "resizePolicy")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        resource, policy = item.get("resourceName") or "", item.get("restartPolicy") or ""
        if not isinstance(resource, str) or not isinstance(policy, str):
            continue  # a type error: api-structure reports it
        if resource in seen:
            yield Violation((*here, index), f"Duplicate value: {shown(resource)}")
        seen.add(resource)
        if not resource:
            yield Violation(here, "Required value")
        elif resource not in RESIZE_RESOURCES:
            yield Violation(here, unsupported(resource, RESIZE_RESOURCES))
        if not policy:
            yield Violation(here, "Required value")
        elif policy not in RESIZE_POLICIES:
            yield Violation(here, unsupported(policy, RESIZE_POLICIES))
        if pod_policy == "Never" and policy != "NotRequired":
            yield Violation(
                here, invalid(policy, "must be 'NotRequired' when `restartPolicy` is 'Never'")
            )


_CONTAINER_FIELDS = (*PROBES, "lifecycle", "volumeMounts", "resizePolicy")


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    pod = sim.pod_spec
    if not pod:
        return
    grace = pod.get("terminationGracePeriodSeconds")
    resize = subject.version >= RESIZE_SINCE
    for init in (False, True):
        for at, container in sim.containers(init=init):
            if not any(k in container for k in _CONTAINER_FIELDS):
                continue  # the usual container: nothing of this rule's to look at
            sidecar = init and container.get("restartPolicy") == "Always"
            if init and not sidecar:
                for key in ("lifecycle", *PROBES):
                    if container.get(key) is not None:
                        yield Violation((*at, key), INIT_FORBIDDEN)
            else:
                lifecycle = container.get("lifecycle")
                if isinstance(lifecycle, dict):
                    for hook in ("postStart", "preStop"):
                        handler = lifecycle.get(hook)
                        if isinstance(handler, dict):
                            yield from _handler(
                                (*at, "lifecycle", hook),
                                handler,
                                LIFECYCLE_HANDLERS,
                                grace,
                                subject.version,
                            )
                for kind in PROBES:
                    probe = container.get(kind)
                    if isinstance(probe, dict):
                        yield from _probe((*at, kind), kind, probe, grace, subject.version)
            yield from _mounts(at, container)
            if resize:
                yield from _resize(at, container, pod.get("restartPolicy"))
