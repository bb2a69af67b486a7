"""api-pod-spec: pod-spec fields with fixed values or syntax that the API server rejects.

What, in a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``):

* each container's and init container's ``imagePullPolicy`` (``Always``, ``IfNotPresent``,
  ``Never``), ``ports`` (``containerPort``/``hostPort`` 1-65535, ``protocol`` TCP/UDP/SCTP, port
  names: IANA service names of at most 15 characters, unique in the container) and ``env``
  names (required; from Kubernetes 1.32 any printable ASCII but ``=``, before that a
  C-identifier-like name, see ``--kubernetes-version``) and ``valueFrom`` (exactly one source,
  not beside a ``value``; ``fieldRef.fieldPath`` one a container's environment can read,
  ``resourceFieldRef.resource``, ``configMapKeyRef``/``secretKeyRef`` names and keys),
  ``envFrom`` (one of ``configMapRef``/``secretRef`` with a name, ``prefix`` an env var name),
  ``terminationMessagePolicy`` (``File``/``FallbackToLogsOnError``);
* the pod's ``activeDeadlineSeconds`` (1 to 2147483647), ``dnsPolicy``, ``hostname`` and
  ``subdomain`` (RFC 1123 labels), ``serviceAccountName`` (an RFC 1123 subdomain),
  ``nodeSelector`` (label syntax) and ``tolerations`` (key syntax, ``Equal``/``Exists``,
  effects ``NoSchedule``/``PreferNoSchedule``/``NoExecute``, ``tolerationSeconds`` only with
  ``NoExecute``).

Why: each is an HTTP 422 on create, typically from a value written in the wrong case
(``imagePullPolicy: always``) or a port name that is too long.

Example::

    containers:
      - name: main
        image: busybox:1.36
        imagePullPolicy: always          # Unsupported value: "always"
        ports: [{name: metrics-endpoint, containerPort: 9090}]   # name: at most 15 characters

Fix: none automatic; follow the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, shown, unsupported
from jobguard.rules.api_object_meta import label_errors
from jobguard.rules.base import NoOptions

CODE = "JG017"
NAME = "api-pod-spec"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Pod-spec values the API server rejects (pull policy, ports, env names, DNS, tolerations...)"
)
REMEDIATION = "Use the values and syntax the message names (values are case-sensitive)."

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
DNS_POLICIES = (
    "ClusterFirst",
    "ClusterFirstWithHostNet",
    "Default",
    "None",
)  # sorted, as sets.List prints them
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_INT32 = 2**31 - 1
RELAXED_ENV_NAMES_SINCE = (1, 32)  # RelaxedEnvironmentVariableValidation on by default

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
#: Printable ASCII (space to tilde) except "=": the relaxed rule, one regex instead of a
#: Python loop over the characters (every env var of every container is checked).
_RELAXED_ENV_NAME = re.compile(r"[ -<>-~]*")
ENV_NAME_ERROR = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "
    "'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
)
RELAXED_ENV_NAME_ERROR = "a valid environment variable name must consist only of printable ASCII characters other than '='"
PORT_RANGE_ERROR = "must be between 1 and 65535, inclusive"
MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")  # in the API server's order
# ConvertDownwardAPIFieldLabel's v1 labels, and those an env var may use (sorted, as printed)
DOWNWARD_API_LABELS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
ENV_RESOURCE_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_ERROR = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key_name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def port_name_errors(name: str) -> list[str]:
    """``IsValidPortName`` (an IANA_SVC_NAME)."""
    errors = []
    if len(name) > 15:
        errors.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]+", name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if not re.search(r"[a-z]", name):
        errors.append("must contain at least one letter (a-z)")
    if name.startswith("-") or name.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def env_name_errors(name: str, version: tuple[int, int]) -> list[str]:
    if version >= RELAXED_ENV_NAMES_SINCE:
        if _RELAXED_ENV_NAME.fullmatch(name):
            return []
        return [RELAXED_ENV_NAME_ERROR]
    return [] if _ENV_NAME.match(name) else [ENV_NAME_ERROR]


def _container(
    at: FieldPath, container: dict[str, Any], version: tuple[int, int]
) -> Iterator[Violation]:
    policy = container.get("imagePullPolicy")
    if isinstance(policy, str) and policy and policy not in PULL_POLICIES:
        yield Violation((*at, "imagePullPolicy"), unsupported(policy, PULL_POLICIES))
    ports = container.get("ports")
    names: set[str] = set()
    for index, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        here = (*at, "ports", index)
        name = port.get("name")
        if isinstance(name, str) and name:
            errors = port_name_errors(name)
            if errors:
                yield Violation((*here, "name"), "; ".join(invalid(name, e) for e in errors))
            elif name in names:
                yield Violation((*here, "name"), f"Duplicate value: {shown(name)}")
            names.add(name)
        number = port.get("containerPort")
        if number in (None, 0):
            yield Violation((*here, "containerPort"), "Required value")
        elif is_int(number) and not 1 <= number <= 65535:
            yield Violation((*here, "containerPort"), invalid(number, PORT_RANGE_ERROR))
        host = port.get("hostPort")
        if is_int(host) and host != 0 and not 1 <= host <= 65535:
            yield Violation((*here, "hostPort"), invalid(host, PORT_RANGE_ERROR))
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol and protocol not in PROTOCOLS:
            yield Violation((*here, "protocol"), unsupported(protocol, PROTOCOLS))
    env = container.get("env")
    for index, var in enumerate(env if isinstance(env, list) else []):
        if not isinstance(var, dict):
            continue
        name = var.get("name")
        if not name:
            yield Violation((*at, "env", index, "name"), "Required value")
        elif isinstance(name, str):
            errors = env_name_errors(name, version)
            if errors:
                yield Violation((*at, "env", index, "name"), invalid(name, "; ".join(errors)))
        source = var.get("valueFrom")
        if isinstance(source, dict):
            here = (*at, "env", index, "valueFrom")
            yield from _value_source(here, source)
            kinds = [k for k, v in source.items() if v is not None]
            if not kinds:
                yield Violation(
                    here,
                    'Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, '
                    "`configMapKeyRef` or `secretKeyRef`",
                )
            elif var.get("value"):
                yield Violation(
                    here, 'Invalid value: "": may not be specified when `value` is not empty'
                )
            elif len(kinds) > 1:
                yield Violation(
                    here, 'Invalid value: "": may not have more than one field specified at a time'
                )
    yield from _env_from(at, container, version)
    message_policy = container.get("terminationMessagePolicy")
    if isinstance(message_policy, str) and message_policy not in ("", *MESSAGE_POLICIES):
        yield Violation(
            (*at, "terminationMessagePolicy"), unsupported(message_policy, MESSAGE_POLICIES)
        )


def config_key_errors(key: str) -> list[str]:
    """``IsConfigMapKey``."""
    errors = []
    if len(key) > 253:
        errors.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(key):
        errors.append(CONFIG_KEY_ERROR)
    if key == ".":
        errors.append("must not be '.'")
    elif key == "..":
        errors.append("must not be '..'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _key_selector(at: FieldPath, selector: Any) -> Iterator[Violation]:
    """``validateConfigMapKeySelector`` / ``validateSecretKeySelector``."""
    if not isinstance(selector, dict):
        return
    name = selector.get("name") or ""
    if isinstance(name, str):
        for error in dns1123_subdomain_errors(name):
            yield Violation((*at, "name"), invalid(name, error))
    key = selector.get("key")
    if not key:
        yield Violation((*at, "key"), "Required value")
    elif isinstance(key, str):
        for error in config_key_errors(key):
            yield Violation((*at, "key"), invalid(key, error))


def _value_source(at: FieldPath, source: dict[str, Any]) -> Iterator[Violation]:
    """The sources of ``validateEnvVarValueFrom``, in its order."""
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, dict):
        here = (*at, "fieldRef")
        version, path = field_ref.get("apiVersion") or "v1", field_ref.get("fieldPath")
        if not path:
            yield Violation((*here, "fieldPath"), "Required value")
        elif isinstance(path, str) and version == "v1" and "[" not in path:
            path = "spec.nodeName" if path == "spec.host" else path
            if path not in DOWNWARD_API_LABELS:
                yield Violation(
                    (*here, "fieldPath"),
                    invalid(path, f"error converting fieldPath: field label not supported: {path}"),
                )
            elif path not in ENV_FIELD_PATHS:
                yield Violation((*here, "fieldPath"), unsupported(path, ENV_FIELD_PATHS))
    resource_ref = source.get("resourceFieldRef")
    if isinstance(resource_ref, dict):
        resource = resource_ref.get("resource")
        if not resource:
            yield Violation((*at, "resourceFieldRef", "resource"), "Required value")
        elif (
            isinstance(resource, str)
            and resource not in ENV_RESOURCE_PATHS
            and not resource.startswith(("limits.hugepages-", "requests.hugepages-"))
        ):
            yield Violation(
                (*at, "resourceFieldRef", "resource"), unsupported(resource, ENV_RESOURCE_PATHS)
            )
    yield from _key_selector((*at, "configMapKeyRef"), source.get("configMapKeyRef"))
    yield from _key_selector((*at, "secretKeyRef"), source.get("secretKeyRef"))


def _env_from(
    at: FieldPath, container: dict[str, Any], version: tuple[int, int]
) -> Iterator[Violation]:
    """``ValidateEnvFrom`` (its source-count errors are at ``envFrom``, without the index)."""
    items = container.get("envFrom")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        here = (*at, "envFrom", index)
        prefix = item.get("prefix")
        if isinstance(prefix, str) and prefix:
            errors = env_name_errors(prefix, version)
            if errors:
                yield Violation((*here, "prefix"), invalid(prefix, "; ".join(errors)))
        sources = [k for k in ("configMapRef", "secretRef") if item.get(k) is not None]
        for key in sources:
            ref = item.get(key)
            name = ref.get("name") if isinstance(ref, dict) else None
            if not name:
                yield Violation((*here, key, "name"), "Required value")
            elif isinstance(name, str):
                # a name prefix: a trailing '-' is allowed
                masked = name[:-1] + "a" if name.endswith("-") else name
                for error in dns1123_subdomain_errors(masked):
                    yield Violation((*here, key, "name"), invalid(name, error))
        if not sources:
            yield Violation(
                (*at, "envFrom"),
                'Invalid value: "": must specify one of: `configMapRef` or `secretRef`',
            )
        elif len(sources) > 1:
            yield Violation(
                (*at, "envFrom"),
                'Invalid value: "": may not have more than one field specified at a time',
            )


def _tolerations(sim: JobView) -> Iterator[Violation]:
    yield from toleration_errors(
        sim.at("template", "spec", "tolerations"), sim.pod_spec.get("tolerations")
    )


def toleration_errors(path: FieldPath, items: Any) -> Iterator[Violation]:
    """``ValidateTolerations`` of the list at ``path`` (also the tolerations annotation's)."""
    for index, toleration in enumerate(items if isinstance(items, list) else []):
        if not isinstance(toleration, dict):
            continue
        at = (*path, index)
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or ""
        value = toleration.get("value") or ""
        effect = toleration.get("effect") or ""
        if isinstance(key, str) and key:
            errors = qualified_name_errors(key)
            if errors:
                yield Violation((*at, "key"), invalid(key, "; ".join(errors)))
        if not key and operator != "Exists":
            yield Violation(
                (*at, "operator"),
                invalid(
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                ),
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            yield Violation(
                (*at, "effect"),
                invalid(effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"),
            )
        if operator in ("Equal", ""):
            errors = label_value_errors(str(value))
            if errors:
                yield Violation((*at, "operator"), invalid(value, ";".join(errors)))
        elif operator == "Exists":
            if value:
                yield Violation(
                    (*at, "operator"),
                    invalid(toleration, "value must be empty when `operator` is 'Exists'"),
                )
        else:
            yield Violation((*at, "operator"), unsupported(operator, TOLERATION_OPERATORS))
        if effect and effect not in TAINT_EFFECTS:
            yield Violation((*at, "effect"), unsupported(effect, TAINT_EFFECTS))


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    pod = sim.pod_spec
    if not pod:
        return
    deadline = pod.get("activeDeadlineSeconds")
    if is_int(deadline) and not 1 <= deadline <= MAX_INT32:
        yield Violation(
            sim.at("template", "spec", "activeDeadlineSeconds"),
            invalid(deadline, f"must be between 1 and {MAX_INT32}, inclusive"),
        )
    dns = pod.get("dnsPolicy")
    if isinstance(dns, str) and dns and dns not in DNS_POLICIES:
        yield Violation(sim.at("template", "spec", "dnsPolicy"), unsupported(dns, DNS_POLICIES))
    for name in ("hostname", "subdomain"):
        value = pod.get(name)
        if isinstance(value, str) and value:
            errors = dns1123_label_errors(value)
            if errors:
                yield Violation(sim.at("template", "spec", name), invalid(value, "; ".join(errors)))
    account = pod.get("serviceAccountName")
    if isinstance(account, str) and account:
        errors = dns1123_subdomain_errors(account)
        if errors:
            yield Violation(
                sim.at("template", "spec", "serviceAccountName"),
                invalid(account, "; ".join(errors)),
            )
    selector_errors = label_errors(pod.get("nodeSelector"))
    if selector_errors:
        yield Violation(sim.at("template", "spec", "nodeSelector"), "; ".join(selector_errors))
    for init in (False, True):
        for at, container in sim.containers(init=init):
            yield from _container(at, container, subject.version)
    yield from _tolerations(sim)
