"""api-pod-env: environment variable sources the API server rejects beyond their names.

What, for each ``env[].valueFrom`` of the containers and init containers of a Job's pod
template (CronJob: ``spec.jobTemplate.spec.template``), the parts of
``validateEnvVarValueFrom`` (pkg/apis/core/validation/validation.go) that ``api-pod-spec``
leaves out:

* ``fieldRef.apiVersion`` other than ``v1`` (``ConvertDownwardAPIFieldLabel``: ``unsupported
  pod version``; an empty one is defaulted to ``v1``);
* subscripted ``fieldRef.fieldPath`` (``SplitMaybeSubscriptedPath``): only
  ``metadata.labels['<key>']`` and ``metadata.annotations['<key>']``, with a key that is a
  qualified name (annotations compared in lower case; the error is at ``fieldRef``); any other
  path with brackets is not a field label;
* ``resourceFieldRef.divisor`` (``validateContainerResourceDivisor``): ``1m`` or ``1`` for CPU,
  ``1``, ``1k`` ... ``1E`` or ``1Ki`` ... ``1Ei`` for memory, ephemeral storage and hugepages,
  compared in the quantity's canonical form (``1000m`` is ``1``, ``1024`` is not ``1Ki``);
* ``fileKeyRef`` (from 1.35, EnvFiles on by default; the field is dropped before): a
  ``volumeName`` (an RFC 1123 label naming a volume of the pod), a relative ``path`` without
  ``..`` and a ``key`` (printable ASCII but ``=``).

The same field-path and divisor rules apply to ``downwardAPI`` volume items, where
``api-pod-volumes`` reports them.

Why: each is an HTTP 422 on create: ``metadata.labels['app.kubernetes.io/name']`` works, but
``metadata.labels[app]`` (no quotes) or ``divisor: 1Mi`` for CPU does not.

Example::

    env:
      - name: CPU_LIMIT
        valueFrom:
          resourceFieldRef: {resource: limits.cpu, divisor: 1Mi}
          # divisor: Invalid value: "limits.cpu": only divisor's values 1m and 1 are supported

Fix: none automatic; follow the message.

Source note: the ``fileKeyRef`` checks follow KEP-3721 and the merged validation change
(kubernetes PR 132626: every referenced volume must exist, the path is a local path); their
exact wording could not be read from a released tree, so only the field paths are asserted
in the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from jobguard.core.kubernetes.names import dns1123_label_errors, qualified_name_errors
from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid
from jobguard.rules.api_pod_security import non_reserved_path_errors
from jobguard.rules.base import NoOptions

CODE = "JG025"
NAME = "api-pod-env"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Env var sources the API server rejects (field API versions, subscripts, divisors, env files)"
)
REMEDIATION = (
    "Use fieldRef apiVersion v1, metadata.labels['<key>'] with quotes, a divisor the resource "
    "supports, and a fileKeyRef naming a volume of the pod."
)

FILE_KEY_REF_SINCE = (1, 35)  # EnvFiles on by default; the field is dropped before
RELAXED_ENV_NAME_ERROR = "a valid environment variable name must consist only of printable ASCII characters other than '='"
CPU_DIVISOR_ERROR = "only divisor's values 1m and 1 are supported with the cpu resource"
BYTES_DIVISORS = "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the {} resource"
_DECIMAL_BYTES = frozenset(Decimal(10) ** (3 * k) for k in range(7))  # 1, 1k ... 1E
_BINARY_BYTES = frozenset(Decimal(1024) ** k for k in range(1, 7))  # 1Ki ... 1Ei
_CPU = frozenset({Decimal("0.001"), Decimal(1)})  # 1m, 1


def split_subscripted(path: str) -> tuple[str, str] | None:
    """``fieldpath.SplitMaybeSubscriptedPath``: ``metadata.labels['app']`` -> (path, key)."""
    if not path.endswith("']"):
        return None
    parts = path[: -len("']")].split("['", 1)
    if len(parts) < 2 or not parts[0]:
        return None
    return parts[0], parts[1]


def field_selector_errors(at: FieldPath, field_ref: dict[str, Any]) -> Iterator[Violation]:
    """What ``validateObjectFieldSelector`` says of a non-v1 ``apiVersion`` or a path with
    brackets (other paths are judged by the rules of the container or the volume)."""
    version = field_ref.get("apiVersion") or "v1"  # SetDefaults_ObjectFieldSelector
    path = field_ref.get("fieldPath")
    if not isinstance(path, str) or not path or not isinstance(version, str):
        return
    here = (*at, "fieldPath")
    if version != "v1":
        yield Violation(
            here, invalid(path, f"error converting fieldPath: unsupported pod version: {version}")
        )
        return
    if "[" not in path:
        return
    split = split_subscripted(path)
    if split is None:
        hint = ""
        bare = path.split("[", 1)
        if bare[0] in ("metadata.labels", "metadata.annotations") and path.endswith("]"):
            hint = f" (quote the key: {bare[0]}['{bare[1][:-1].strip(chr(39))}'])"
        yield Violation(
            here,
            invalid(path, f"error converting fieldPath: field label not supported: {path}") + hint,
        )
        return
    base, subscript = split
    if base == "metadata.annotations":
        subscript = subscript.lower()
    elif base != "metadata.labels":
        yield Violation(
            here,
            invalid(
                path, f"error converting fieldPath: field label does not support subscript: {path}"
            ),
        )
        return
    for error in qualified_name_errors(subscript):
        yield Violation(at, invalid(subscript, error))


def plain_field_path(field_ref: dict[str, Any]) -> bool:
    """Whether the container's or volume's own list of field paths judges this reference (a
    v1 reference without brackets); :func:`field_selector_errors` judges the others."""
    path = field_ref.get("fieldPath")
    return (field_ref.get("apiVersion") or "v1") == "v1" and not (
        isinstance(path, str) and "[" in path
    )


def _canonical_in(raw: Any, decimal_values: frozenset[Decimal], binary: bool) -> bool:
    """Whether the quantity's canonical string (``Quantity.String()``) is one of the allowed
    divisors, given as the values of their decimal forms and whether ``1Ki``...``1Ei`` are."""
    amount = parse_quantity(raw)
    if amount is None:
        return True  # not a quantity: api-structure reports it
    text = str(raw).strip()
    if text.endswith(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")):  # binary SI
        if amount in _BINARY_BYTES:
            return binary
        return amount < 1024 and amount in decimal_values  # printed in decimal below 1Ki
    if any(c in text for c in "eE") and not text.endswith("E"):  # decimal exponent
        return amount == 1 and amount in decimal_values
    return amount in decimal_values


def divisor_error(resource: Any, divisor: Any) -> str | None:
    """``validateContainerResourceDivisor``: the message for a divisor the resource does not
    take, or None (an unset or zero divisor is not checked)."""
    amount = parse_quantity(divisor)
    if divisor is None or amount is None or amount == 0 or not isinstance(resource, str):
        return None
    if resource in ("limits.cpu", "requests.cpu"):
        return None if _canonical_in(divisor, _CPU, binary=False) else CPU_DIVISOR_ERROR
    kind = None
    if resource in ("limits.memory", "requests.memory"):
        kind = "memory"
    elif resource in ("limits.ephemeral-storage", "requests.ephemeral-storage"):
        kind = "local ephemeral storage"
    elif resource.startswith(("requests.hugepages-", "limits.hugepages-")):
        kind = "hugepages"
    if kind is None or _canonical_in(divisor, _DECIMAL_BYTES, binary=True):
        return None
    return BYTES_DIVISORS.format(kind)


def resource_selector_errors(at: FieldPath, selector: dict[str, Any]) -> Iterator[Violation]:
    resource = selector.get("resource")
    error = divisor_error(resource, selector.get("divisor"))
    if error:
        yield Violation((*at, "divisor"), invalid(resource, error))


def _file_key_ref(at: FieldPath, ref: dict[str, Any], volumes: set[str]) -> Iterator[Violation]:
    name = ref.get("volumeName")
    if not name:
        yield Violation((*at, "volumeName"), "Required value")
    elif isinstance(name, str):
        for error in dns1123_label_errors(name):
            yield Violation((*at, "volumeName"), invalid(name, error))
    path = ref.get("path")
    if not path:
        yield Violation((*at, "path"), "Required value")
    elif isinstance(path, str):
        for error in non_reserved_path_errors(path):
            yield Violation((*at, "path"), invalid(path, error))
    key = ref.get("key")
    if not key:
        yield Violation((*at, "key"), "Required value")
    elif isinstance(key, str) and not all(" " <= c <= "~" and c != "=" for c in key):
        yield Violation((*at, "key"), invalid(key, RELAXED_ENV_NAME_ERROR))
    if isinstance(name, str) and name and name not in volumes:
        yield Violation((*at, "volumeName"), f'Not found: "{name}"')


def _volume_names(sim: JobView) -> set[str]:
    items = sim.pod_spec.get("volumes")
    return {
        v["name"]
        for v in (items if isinstance(items, list) else [])
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    }


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    if not sim.pod_spec:
        return
    files = subject.version >= FILE_KEY_REF_SINCE
    volumes: set[str] | None = None
    for init in (False, True):
        for at, container in sim.containers(init=init):
            env = container.get("env")
            for index, var in enumerate(env if isinstance(env, list) else []):
                source = var.get("valueFrom") if isinstance(var, dict) else None
                if not isinstance(source, dict):
                    continue
                here = (*at, "env", index, "valueFrom")
                field_ref = source.get("fieldRef")
                if isinstance(field_ref, dict):
                    yield from field_selector_errors((*here, "fieldRef"), field_ref)
                resource_ref = source.get("resourceFieldRef")
                if isinstance(resource_ref, dict):
                    yield from resource_selector_errors((*here, "resourceFieldRef"), resource_ref)
                file_ref = source.get("fileKeyRef")
                if files and isinstance(file_ref, dict):
                    if volumes is None:
                        volumes = _volume_names(sim)
                    yield from _file_key_ref((*here, "fileKeyRef"), file_ref, volumes)
