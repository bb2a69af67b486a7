"""api-pod-security: security contexts, host namespaces and OS rules the API server rejects.

What, in a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``), as the API server's
``ValidatePodSpec`` checks them:

* each container's and init container's ``securityContext``: ``runAsUser``/``runAsGroup``
  between 0 and 2147483647, ``procMount`` ``Default`` or ``Unmasked`` (``Unmasked`` only with
  ``hostUsers: false``), ``seccompProfile`` and ``appArmorProfile`` (a known ``type``; a
  ``localhostProfile`` exactly when the type is ``Localhost``, a relative path without ``..``),
  ``allowPrivilegeEscalation: false`` beside ``privileged: true`` or an added ``CAP_SYS_ADMIN``,
  ``windowsOptions`` (``gmsaCredentialSpecName``, ``gmsaCredentialSpec``, ``runAsUserName``);
* the pod's ``securityContext``: ``fsGroup``, ``runAsUser``, ``runAsGroup`` and
  ``supplementalGroups`` in range, ``fsGroupChangePolicy`` (``Always``/``OnRootMismatch``),
  ``supplementalGroupsPolicy`` (``Merge``/``Strict``), ``seLinuxChangePolicy``, ``sysctls``
  (names, duplicates, no ``net.*`` sysctl beside ``hostNetwork`` and no IPC sysctl beside
  ``hostIPC``), ``seccompProfile``, ``appArmorProfile``, ``windowsOptions``;
  ``shareProcessNamespace`` together with ``hostPID``;
* Windows HostProcess pods: all containers or none are ``hostProcess`` (pod and container
  values must agree), and such a pod needs ``hostNetwork: true``;
* ``hostUsers: false`` (a user namespace) with ``hostNetwork``, ``hostPID`` or ``hostIPC``;
* ``os.name``: ``linux`` or ``windows``; a Linux pod may not set ``windowsOptions``, a Windows
  pod none of the Linux-only fields (``seLinuxOptions``, ``seccompProfile``,
  ``appArmorProfile``, ``capabilities``, ``privileged``, ``allowPrivilegeEscalation``,
  ``procMount``, ``readOnlyRootFilesystem``, ``runAsUser``, ``runAsGroup``, ``fsGroup``,
  ``sysctls``, ``hostPID``, ``hostIPC``, ``hostUsers``, ``shareProcessNamespace``...).

Why: these are HTTP 422s that only show at deploy time, often from a manifest copied between
Linux and Windows pools or from a hardening snippet applied to the wrong level
(``spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: cannot
be set for a windows pod``).

Example::

    spec:
      os: {name: windows}
      containers:
        - name: main
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
          securityContext:
            allowPrivilegeEscalation: false   # Forbidden: cannot be set for a windows pod

Fix: none automatic; remove the field the message names or set the one it asks for.

Versions: ``procMount`` and ``hostUsers`` are judged from Kubernetes 1.33 (``ProcMountType`` and
``UserNamespacesSupport`` on by default); before that the API server drops them silently.

Not checked: ``privileged: true`` and HostProcess containers are accepted, as by an API server
running with ``--allow-privileged=true`` (kubeadm, kind and managed clusters do).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import dns1123_subdomain_errors
from jobguard.core.kubernetes.versions import selinux_mount_enabled
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, shown, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG019"
NAME = "api-pod-security"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Security contexts, host namespaces and Windows/Linux pod fields the API server rejects"
REMEDIATION = "Remove the field the message names, or set the one it asks for."

# ProcMountType and UserNamespacesSupport are on by default from 1.33; before that the API server
# drops procMount and hostUsers from a new object silently, so nothing about them is judged.
PROC_MOUNT_SINCE = (1, 33)
HOST_USERS_SINCE = (1, 33)
MAX_ID = 2**31 - 1  # IsValidUserID / IsValidGroupID: 0 to math.MaxInt32
ID_RANGE_ERROR = f"must be between 0 and {MAX_ID}, inclusive"
PROC_MOUNTS = ("Default", "Unmasked")
SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
APPARMOR_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")  # sorted, as sets.List prints them
SUPPLEMENTAL_GROUPS_POLICIES = ("Merge", "Strict")
SELINUX_CHANGE_POLICIES = ("MountOption", "Recursive")
OS_NAMES = ("linux", "windows")
WINDOWS_FORBIDDEN = "Forbidden: cannot be set for a windows pod"
LINUX_FORBIDDEN = "Forbidden: windows options cannot be set for a linux pod"
USERNS_FORBIDDEN = "Forbidden: when `pod.Spec.HostUsers` is false"

SYSCTL_MAX_LENGTH = 253
_SYSCTL_SEGMENT = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
SYSCTL_PATTERN = "^(" + _SYSCTL_SEGMENT + "[\\./])*" + _SYSCTL_SEGMENT + "$"
_SYSCTL = re.compile(SYSCTL_PATTERN)
# component-helpers' sysctl namespaces: the sysctls a pod sharing the host's namespace may not set.
_IPC_SYSCTLS = ("kernel.sem",)
_IPC_SYSCTL_PREFIXES = ("kernel.shm", "kernel.msg", "fs.mqueue.")

# Container securityContext fields validateWindows forbids, in its order.
WINDOWS_CONTAINER_FIELDS = (
    "appArmorProfile",
    "seLinuxOptions",
    "seccompProfile",
    "capabilities",
    "readOnlyRootFilesystem",
    "privileged",
    "allowPrivilegeEscalation",
    "procMount",
    "runAsUser",
    "runAsGroup",
)
# Pod securityContext fields validateWindows forbids (reported under securityContext).
WINDOWS_POD_CONTEXT_FIELDS = ("appArmorProfile", "seLinuxOptions")
WINDOWS_POD_CONTEXT_FIELDS_AFTER = (
    "seccompProfile",
    "fsGroup",
    "fsGroupChangePolicy",
)
WINDOWS_POD_CONTEXT_FIELDS_LAST = (
    "runAsUser",
    "runAsGroup",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "seLinuxChangePolicy",
)

# windowsOptions.runAsUserName (validateWindowsSecurityContextOptions)
MAX_GMSA_SPEC_KIB = 64
MAX_DOMAIN_LENGTH = 256
MAX_USER_LENGTH = 104
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NETBIOS = re.compile(r'^[^\\/:\*\?"<>|\.][^\\/:\*\?"<>|]{0,14}$')
_DNS_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_WINDOWS_DOMAIN = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})*$")
_BAD_USER_CHARS = re.compile(r'["/\\:;|=,\+\*\?<>@\[\]]')
_DOTS_SPACES = re.compile(r"^[\. ]+$")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id_errors(at: FieldPath, value: Any) -> Iterator[Violation]:
    if is_int(value) and not 0 <= value <= MAX_ID:
        yield Violation(at, invalid(value, ID_RANGE_ERROR))


def local_path_errors(value: str) -> list[str]:
    """``validateLocalDescendingPath``: relative, without a ``..`` element."""
    errors = []
    if posixpath.isabs(value):
        errors.append("must be a relative path")
    if ".." in value.split("/"):
        errors.append("must not contain '..'")
    return errors


def non_reserved_path_errors(value: str) -> list[str]:
    """``ValidateLocalNonReservedPath``: also not starting with ``..``."""
    errors = local_path_errors(value)
    if value.startswith("..") and not value.startswith("../"):
        errors.append("must not start with '..'")
    return errors


def _seccomp(at: FieldPath, profile: Any) -> Iterator[Violation]:
    if not isinstance(profile, dict):
        return
    kind = profile.get("type")
    if not kind:
        yield Violation(
            (*at, "type"), "Required value: type is required when seccompProfile is set"
        )
    elif isinstance(kind, str) and kind not in SECCOMP_TYPES:
        yield Violation((*at, "type"), unsupported(kind, SECCOMP_TYPES))
    local = profile.get("localhostProfile")
    if kind == "Localhost":
        if local is None:
            yield Violation(
                (*at, "localhostProfile"),
                "Required value: must be set when seccomp type is Localhost",
            )
        elif isinstance(local, str):
            for error in local_path_errors(local):
                yield Violation((*at, "localhostProfile"), invalid(local, error))
    elif local is not None:
        yield Violation(
            (*at, "localhostProfile"),
            invalid(profile, "can only be set when seccomp type is Localhost"),
        )


def _apparmor(at: FieldPath, profile: Any) -> Iterator[Violation]:
    if not isinstance(profile, dict):
        return
    kind = profile.get("type")
    local = profile.get("localhostProfile")
    if kind == "Localhost":
        required = "Required value: must be set when AppArmor type is Localhost"
        if local is None:
            yield Violation((*at, "localhostProfile"), required)
        elif isinstance(local, str):
            if local.strip() != local:
                yield Violation(
                    (*at, "localhostProfile"), invalid(local, "must not be padded with whitespace")
                )
            elif not local:
                yield Violation((*at, "localhostProfile"), required)
            if len(local) > 4095:
                yield Violation(
                    (*at, "localhostProfile"), "Too long: may not be more than 4095 bytes"
                )
    elif kind in ("RuntimeDefault", "Unconfined"):
        if local is not None:
            yield Violation(
                (*at, "localhostProfile"),
                invalid(local, "can only be set when AppArmor type is Localhost"),
            )
    elif not kind:
        yield Violation(
            (*at, "type"), "Required value: type is required when appArmorProfile is set"
        )
    elif isinstance(kind, str):
        yield Violation((*at, "type"), unsupported(kind, APPARMOR_TYPES))


def run_as_user_name_errors(name: str) -> list[str]:
    """``validateWindowsSecurityContextOptions`` for ``runAsUserName``."""
    if not name:
        return ["runAsUserName cannot be an empty string"]
    if _CONTROL.search(name):
        return ["runAsUserName cannot contain control characters"]
    parts = name.split("\\")
    if len(parts) > 2:
        return ["runAsUserName cannot contain more than one backslash"]
    domain, user = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    errors = []
    if len(domain) >= MAX_DOMAIN_LENGTH:
        errors.append(f"runAsUserName's Domain length must be under {MAX_DOMAIN_LENGTH} characters")
    if len(parts) == 2 and not (_NETBIOS.match(domain) or _WINDOWS_DOMAIN.match(domain)):
        errors.append("runAsUserName's Domain doesn't match the NetBios nor the DNS format")
    if not user:
        errors.append("runAsUserName's User cannot be empty")
    elif len(user) > MAX_USER_LENGTH:
        errors.append(
            f"runAsUserName's User length must not be longer than {MAX_USER_LENGTH} characters"
        )
    if _DOTS_SPACES.match(user):
        errors.append("runAsUserName's User cannot contain only periods or spaces")
    if _BAD_USER_CHARS.search(user):
        errors.append(
            "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]"
        )
    return errors


def _windows_options(at: FieldPath, options: Any) -> Iterator[Violation]:
    if not isinstance(options, dict):
        return
    spec_name = options.get("gmsaCredentialSpecName")
    if isinstance(spec_name, str):
        for error in dns1123_subdomain_errors(spec_name):
            yield Violation((*at, "gmsaCredentialSpecName"), invalid(spec_name, error))
    spec = options.get("gmsaCredentialSpec")
    if isinstance(spec, str):
        if not spec:
            yield Violation(
                (*at, "gmsaCredentialSpec"),
                invalid(spec, "gmsaCredentialSpec cannot be an empty string"),
            )
        elif len(spec.encode()) > MAX_GMSA_SPEC_KIB * 1024:
            yield Violation(
                (*at, "gmsaCredentialSpec"),
                invalid(
                    spec[:20] + "...",
                    f"gmsaCredentialSpec size must be under {MAX_GMSA_SPEC_KIB} KiB",
                ),
            )
    user = options.get("runAsUserName")
    if isinstance(user, str):
        for error in run_as_user_name_errors(user):
            yield Violation((*at, "runAsUserName"), invalid(user, error))


def _container_context(
    at: FieldPath, context: Any, host_users: bool, version: tuple[int, int]
) -> Iterator[Violation]:
    """``ValidateSecurityContext`` (privileged is left to cluster policy: allowed)."""
    if not isinstance(context, dict):
        return
    yield from _id_errors((*at, "runAsUser"), context.get("runAsUser"))
    yield from _id_errors((*at, "runAsGroup"), context.get("runAsGroup"))
    proc_mount = context.get("procMount")
    if isinstance(proc_mount, str) and version >= PROC_MOUNT_SINCE:
        if proc_mount not in PROC_MOUNTS:
            yield Violation((*at, "procMount"), unsupported(proc_mount, PROC_MOUNTS))
        if host_users and proc_mount == "Unmasked":
            yield Violation(
                (*at, "procMount"),
                invalid(proc_mount, "`hostUsers` must be false to use `Unmasked`")
                + " (set the pod's hostUsers: false to run it in a user namespace)",
            )
    yield from _seccomp((*at, "seccompProfile"), context.get("seccompProfile"))
    if context.get("allowPrivilegeEscalation") is False:
        if context.get("privileged") is True:
            yield Violation(
                at,
                invalid(
                    context,
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                ),
            )
        added = _mapping(context.get("capabilities")).get("add")
        for capability in added if isinstance(added, list) else []:
            if capability == "CAP_SYS_ADMIN":
                yield Violation(
                    at,
                    invalid(
                        context,
                        "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                        "CAP_SYS_ADMIN",
                    ),
                )
    yield from _windows_options((*at, "windowsOptions"), context.get("windowsOptions"))
    yield from _apparmor((*at, "appArmorProfile"), context.get("appArmorProfile"))


def sysctl_namespace(name: str) -> str | None:
    """``utilsysctl.GetNamespace`` of a sysctl name (slash-separated names normalised)."""
    dot, slash = name.find("."), name.find("/")
    if slash != -1 and (dot == -1 or slash < dot):
        name = name.translate(str.maketrans("./", "/."))
    if name in _IPC_SYSCTLS or name.startswith(_IPC_SYSCTL_PREFIXES):
        return "ipc"
    if name.startswith("net."):
        return "net"
    return None


def _sysctls(at: FieldPath, items: Any, pod: dict[str, Any]) -> Iterator[Violation]:
    seen: set[str] = set()
    for index, sysctl in enumerate(items if isinstance(items, list) else []):
        if not isinstance(sysctl, dict):
            continue
        here = (*at, index, "name")
        name = sysctl.get("name")
        if name is None:  # ``sysctls: [{}]``: the empty name is validated (Required)
            name = ""
        if not isinstance(name, str):
            continue
        if not name:
            yield Violation(here, "Required value")
        elif len(name) > SYSCTL_MAX_LENGTH or not _SYSCTL.match(name):
            yield Violation(
                here,
                invalid(
                    name,
                    f"must have at most {SYSCTL_MAX_LENGTH} characters and match regex "
                    + SYSCTL_PATTERN,
                ),
            )
        elif name in seen:
            yield Violation(here, f"Duplicate value: {shown(name)}")
        namespace = sysctl_namespace(name)
        if pod.get("hostNetwork") is True and namespace == "net":
            yield Violation(here, invalid(name, "may not be specified when 'hostNetwork' is true"))
        elif pod.get("hostIPC") is True and namespace == "ipc":
            yield Violation(here, invalid(name, "may not be specified when 'hostIPC' is true"))
        seen.add(name)


def _pod_context(
    at: FieldPath, context: dict[str, Any], pod: dict[str, Any], *, only_recursive: bool
) -> Iterator[Violation]:
    """``validatePodSpecSecurityContext``; ``only_recursive`` is the validation option
    ``AllowOnlyRecursiveSELinuxChangePolicy`` (the SELinuxMount gate off, on create)."""
    for key in ("fsGroup", "runAsUser", "runAsGroup"):
        yield from _id_errors((*at, key), context.get(key))
    groups = context.get("supplementalGroups")
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        yield from _id_errors((*at, "supplementalGroups", index), group)
    if pod.get("shareProcessNamespace") is True and pod.get("hostPID") is True:
        yield Violation(
            (*at, "shareProcessNamespace"),
            invalid(True, "ShareProcessNamespace and HostPID cannot both be enabled"),
        )
    yield from _sysctls((*at, "sysctls"), context.get("sysctls"), pod)
    for key, values in (("fsGroupChangePolicy", FS_GROUP_CHANGE_POLICIES),):
        value = context.get(key)
        if isinstance(value, str) and value not in values:
            yield Violation((*at, key), unsupported(value, values))
    yield from _seccomp((*at, "seccompProfile"), context.get("seccompProfile"))
    yield from _windows_options((*at, "windowsOptions"), context.get("windowsOptions"))
    yield from _apparmor((*at, "appArmorProfile"), context.get("appArmorProfile"))
    selinux: tuple[str, ...] = ("Recursive",) if only_recursive else SELINUX_CHANGE_POLICIES
    policies: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("supplementalGroupsPolicy", SUPPLEMENTAL_GROUPS_POLICIES),
        ("seLinuxChangePolicy", selinux),
    )
    for key, allowed in policies:
        value = context.get(key)
        if isinstance(value, str) and value not in allowed:
            yield Violation((*at, key), unsupported(value, allowed))


def _host_process(
    at: FieldPath, pod: dict[str, Any], containers: list[tuple[FieldPath, dict[str, Any]]]
) -> Iterator[Violation]:
    """``validateWindowsHostProcessPod``: all containers or none, and only with hostNetwork."""
    pod_value = _mapping(_mapping(pod.get("securityContext")).get("windowsOptions")).get(
        "hostProcess"
    )
    host_process = 0
    for path, container in containers:
        value = _mapping(_mapping(container.get("securityContext")).get("windowsOptions")).get(
            "hostProcess"
        )
        if isinstance(pod_value, bool) and isinstance(value, bool) and pod_value != value:
            yield Violation(
                (*path, "securityContext", "windowsOptions", "hostProcess"),
                invalid(
                    value,
                    f"pod hostProcess value must be identical if both are specified, was "
                    f"{shown(pod_value)}",
                ),
            )
        if value is True or (value is None and pod_value is True):
            host_process += 1
    if not host_process:
        return
    if host_process != len(containers):
        yield Violation(
            at,
            invalid(
                "",
                "If pod contains any hostProcess containers then all containers must be "
                "HostProcess containers",
            ),
        )
    if pod.get("hostNetwork") is not True:
        yield Violation(
            (*at, "hostNetwork"),
            invalid(False, "hostNetwork must be true if pod contains any hostProcess containers"),
        )


def _host_users(at: FieldPath, pod: dict[str, Any]) -> Iterator[Violation]:
    """``validateHostUsers`` (its paths spell ``HostPID``/``HostIPC`` so)."""
    if pod.get("hostUsers") is not False:
        return
    for key, shown_as in (
        ("hostNetwork", "hostNetwork"),
        ("hostPID", "HostPID"),
        ("hostIPC", "HostIPC"),
    ):
        if pod.get(key) is True:
            yield Violation((*at, shown_as), USERNS_FORBIDDEN)


def _linux(
    at: FieldPath, context: dict[str, Any], containers: list[tuple[FieldPath, dict[str, Any]]]
) -> Iterator[Violation]:
    if context.get("windowsOptions") is not None:
        yield Violation((*at, "securityContext", "windowsOptions"), LINUX_FORBIDDEN)
    for path, container in containers:
        if _mapping(container.get("securityContext")).get("windowsOptions") is not None:
            yield Violation((*path, "securityContext", "windowsOptions"), LINUX_FORBIDDEN)


def _windows(
    at: FieldPath,
    pod: dict[str, Any],
    context: dict[str, Any],
    containers: list[tuple[FieldPath, dict[str, Any]]],
) -> Iterator[Violation]:
    """``validateWindows``: the Linux-only fields, in its order."""
    for key in WINDOWS_POD_CONTEXT_FIELDS:
        if context.get(key) is not None:
            yield Violation((*at, "securityContext", key), WINDOWS_FORBIDDEN)
    if pod.get("hostUsers") is not None:
        yield Violation((*at, "hostUsers"), WINDOWS_FORBIDDEN)
    for key in ("hostPID", "hostIPC"):
        if pod.get(key) is True:
            yield Violation((*at, key), WINDOWS_FORBIDDEN)
    for key in WINDOWS_POD_CONTEXT_FIELDS_AFTER:
        if context.get(key) is not None:
            yield Violation((*at, "securityContext", key), WINDOWS_FORBIDDEN)
    if context.get("sysctls"):
        yield Violation((*at, "securityContext", "sysctls"), WINDOWS_FORBIDDEN)
    if pod.get("shareProcessNamespace") is not None:
        yield Violation((*at, "shareProcessNamespace"), WINDOWS_FORBIDDEN)
    for key in WINDOWS_POD_CONTEXT_FIELDS_LAST:
        if context.get(key) is not None:
            yield Violation((*at, "securityContext", key), WINDOWS_FORBIDDEN)
    for path, container in containers:
        container_context = container.get("securityContext")
        if not isinstance(container_context, dict):
            continue
        for key in WINDOWS_CONTAINER_FIELDS:
            if container_context.get(key) is not None:
                yield Violation((*path, "securityContext", key), WINDOWS_FORBIDDEN)


def _os(
    at: FieldPath,
    pod: dict[str, Any],
    context: dict[str, Any],
    containers: list[tuple[FieldPath, dict[str, Any]]],
) -> Iterator[Violation]:
    os = pod.get("os")
    if not isinstance(os, dict):
        return
    name = os.get("name")
    if not name:
        yield Violation((*at, "os", "name"), "Required value: cannot be empty")
    elif name == "linux":
        yield from _linux(at, context, containers)
    elif name == "windows":
        yield from _windows(at, pod, context, containers)
    elif isinstance(name, str):
        yield Violation((*at, "os"), unsupported(name, OS_NAMES))


_RELEVANT_POD_FIELDS = ("securityContext", "os", "hostUsers", "shareProcessNamespace")


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    pod = sim.pod_spec
    if not pod:
        return
    # Visit order of VisitContainersWithPath: init containers, then containers.
    containers = [*sim.containers(init=True), *sim.containers()]
    with_context = [(p, c) for p, c in containers if isinstance(c.get("securityContext"), dict)]
    if not with_context and not any(pod.get(k) is not None for k in _RELEVANT_POD_FIELDS):
        return  # the usual pod: nothing of this rule's to look at
    at = sim.at("template", "spec")
    context = _mapping(pod.get("securityContext"))
    version = subject.version
    if version < HOST_USERS_SINCE and "hostUsers" in pod:
        pod = {k: v for k, v in pod.items() if k != "hostUsers"}  # dropped by the API server
    host_users = pod.get("hostUsers") is not False
    # ValidatePodSpec's order: containers, init containers, the pod, HostProcess, user
    # namespaces, then the OS rules.
    for init in (False, True):
        for path, container in sim.containers(init=init):
            yield from _container_context(
                (*path, "securityContext"), container.get("securityContext"), host_users, version
            )
    only_recursive = subject.api_operation == "CREATE" and not selinux_mount_enabled(version)
    yield from _pod_context((*at, "securityContext"), context, pod, only_recursive=only_recursive)
    if with_context or context.get("windowsOptions") is not None:
        yield from _host_process(at, pod, containers)
    yield from _host_users(at, pod)
    yield from _os(at, pod, context, containers)
