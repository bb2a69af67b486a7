"""api-pod-template: a pod template the API server rejects.

What: the pod template of a Job (CronJob: ``spec.jobTemplate.spec.template``) must have at least
one container (also when ``spec``, the job template or the template is missing or null: the API
server validates an empty one); every container and init container needs a name that is an RFC 1123 label
(lower case, digits, '-', at most 63 characters), unique across containers and init containers,
and an ``image``; ``ephemeralContainers`` are not allowed in a template. A container's own
``restartPolicy`` and ``restartPolicyRules`` follow ``validateContainerRestartPolicy``
(``pkg/apis/core/validation``) from Kubernetes 1.35, where ContainerRestartRules is on by
default: any container may set ``restartPolicy`` ``Always``, ``Never`` or ``OnFailure``; rules
need a ``restartPolicy``, at most 20 of them, each with ``action: Restart`` and ``exitCodes``
(operator ``In`` or ``NotIn``, at most 255 values), and errors name the rule's own path
(``restartPolicyRules[0].exitCodes.operator``). Before 1.35 an init container's
``restartPolicy`` may only be ``Always`` (a native sidecar) and a regular container may not set
one. Volumes need unique RFC 1123 label names and exactly one volume type; every volume mount
names a volume of the template and has a ``mountPath``; resource names are ``cpu``, ``memory``,
``ephemeral-storage``, ``hugepages-<size>`` or domain-prefixed (``nvidia.com/gpu``), quantities
are not negative and a request is at most its limit.

Why: each is an HTTP 422 from the API server (``spec.template.spec.containers[0].image:
Required value``); a templating mistake (an empty image variable) shows up only at deploy time.

Example::

    containers:
      - name: Main_Worker          # Invalid value: a lowercase RFC 1123 label ...
        image: ""                  # Required value

Fix: none automatic; name the containers and give each one an image.

Not checked here: volume sources' own fields (``api-pod-volumes``), ports and environment
variables (``api-pod-spec``), probes and mounts (``api-pod-probes``), security contexts
(``api-pod-security``), affinity and the other scheduling fields (``api-pod-scheduling``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import dns1123_label_errors, qualified_name_errors
from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.kubernetes.versions import Version, pod_gate_on
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, shown, unsupported
from jobguard.rules.api_pod_resources import overcommit_allowed
from jobguard.rules.base import NoOptions

CODE = "JG005"
NAME = "api-pod-template"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Pod templates the API server rejects: containers, names, images, volumes, mounts, resources"
)
REMEDIATION = (
    "Give the pod template at least one container, each with a unique DNS-label name and an image."
)


def _containers(
    sim: JobView, key: str, seen: set[str], *, init: bool, version: Version
) -> Iterator[Violation]:
    items = sim.pod_spec.get(key)
    if not isinstance(items, list):
        return
    volumes = _volume_names(sim)
    for index, container in enumerate(items):
        if not isinstance(container, dict):
            continue
        at = sim.at("template", "spec", key, index)
        name: Any = container.get("name")
        problems = []
        if not name:
            problems.append("Required value (every container needs a name)")
        elif isinstance(name, str):
            errors = dns1123_label_errors(name)
            if errors:
                problems.append(invalid(name, "; ".join(errors)))
        if isinstance(name, str):
            if name in seen:
                problems.append(
                    f"Duplicate value: {shown(name)} (container and init container names must be unique)"
                )
            seen.add(name)
        if problems:
            yield Violation((*at, "name"), "; ".join(problems))
        if not container.get("image"):
            yield Violation((*at, "image"), "Required value (the container has no image)")
        yield from _mounts(at, container, volumes)
        yield from _resources(at, container)
        for relative, message in container_restart_errors(container, init=init, version=version):
            yield Violation((*at, *relative), message)


#: ``validateContainerRestartPolicy``'s value sets, sorted as ``sets.List`` prints them.
CONTAINER_RESTART_POLICIES = ("Always", "Never", "OnFailure")
RESTART_RULE_ACTIONS = ("Restart",)
RESTART_RULE_OPERATORS = ("In", "NotIn")
MAX_RESTART_RULES = 20
MAX_RESTART_RULE_EXIT_CODES = 255


def container_restart_errors(
    container: dict[str, Any], *, init: bool, version: Version
) -> Iterator[tuple[FieldPath, str]]:
    """A container's ``restartPolicy``/``restartPolicyRules`` errors, paths relative to it.

    From the version where ContainerRestartRules is on by default this follows
    ``validateContainerRestartPolicy`` (``pkg/apis/core/validation``), which ``validateContainers``
    and ``validateInitContainers`` call for a container that sets either field. Before it,
    ``validateContainers`` forbids a regular container's ``restartPolicy`` and
    ``validateInitContainers`` accepts only ``Always`` (the rules field does not exist yet, or is
    dropped with its gate: ``api-feature-gates`` reports it).
    """
    policy = container.get("restartPolicy")
    if not pod_gate_on("ContainerRestartRules", version):
        if isinstance(policy, str) and not init:
            yield ("restartPolicy",), "Forbidden: may not be set for non-init containers"
        elif isinstance(policy, str) and policy != "Always":
            yield ("restartPolicy",), unsupported(policy, ("Always",))
        return
    found = container.get("restartPolicyRules")
    rules = found if isinstance(found, list) else []
    if policy is None:
        if rules:
            yield (
                ("restartPolicy",),
                "Required value: must specify restartPolicy when restart rules are used",
            )
    elif isinstance(policy, str) and policy not in CONTAINER_RESTART_POLICIES:
        yield ("restartPolicy",), unsupported(policy, CONTAINER_RESTART_POLICIES)
    if len(rules) > MAX_RESTART_RULES:
        yield (
            ("restartPolicyRules",),
            f"Too many: {len(rules)}: must have at most {MAX_RESTART_RULES} items",
        )
    for index, item in enumerate(rules):
        rule = item if isinstance(item, dict) else {}  # a null item is validated as empty
        here: FieldPath = ("restartPolicyRules", index)
        action = rule.get("action") or ""
        if isinstance(action, str) and action not in RESTART_RULE_ACTIONS:
            yield (*here, "action"), unsupported(action, RESTART_RULE_ACTIONS)
        exit_codes = rule.get("exitCodes")
        if exit_codes is None:
            yield (*here, "exitCodes"), "Required value: must be specified"
        elif isinstance(exit_codes, dict):
            operator = exit_codes.get("operator") or ""
            if isinstance(operator, str) and operator not in RESTART_RULE_OPERATORS:
                yield (
                    (*here, "exitCodes", "operator"),
                    unsupported(operator, RESTART_RULE_OPERATORS),
                )
            values = exit_codes.get("values")
            if isinstance(values, list) and len(values) > MAX_RESTART_RULE_EXIT_CODES:
                yield (
                    (*here, "exitCodes", "values"),
                    f"Too many: {len(values)}: must have at most "
                    f"{MAX_RESTART_RULE_EXIT_CODES} items",
                )


def _volumes(sim: JobView) -> Iterator[Violation]:
    items = sim.pod_spec.get("volumes")
    if not isinstance(items, list):
        return
    seen: set[str] = set()
    for index, volume in enumerate(items):
        if not isinstance(volume, dict):
            continue
        at = sim.at("template", "spec", "volumes", index)
        name = volume.get("name")
        problems = []
        if not name:
            problems.append("Required value (every volume needs a name)")
        elif isinstance(name, str):
            errors = dns1123_label_errors(name)
            if errors:
                problems.append(invalid(name, "; ".join(errors)))
            if name in seen:
                problems.append(f"Duplicate value: {shown(name)}")
            seen.add(name)
        if problems:
            yield Violation((*at, "name"), "; ".join(problems))
        sources = [k for k, v in volume.items() if k != "name" and v is not None]
        if not sources:
            yield Violation(at, "Required value: must specify a volume type")
        elif len(sources) > 1:
            yield Violation((*at, sources[1]), "Forbidden: may not specify more than 1 volume type")


def _volume_names(sim: JobView) -> set[str]:
    items = sim.pod_spec.get("volumes")
    items = items if isinstance(items, list) else []
    return {v["name"] for v in items if isinstance(v, dict) and isinstance(v.get("name"), str)}


def _mounts(at: FieldPath, container: dict[str, Any], volumes: set[str]) -> Iterator[Violation]:
    mounts = container.get("volumeMounts")
    for index, mount in enumerate(mounts if isinstance(mounts, list) else []):
        if not isinstance(mount, dict):
            continue
        name = mount.get("name")
        if not name:
            yield Violation((*at, "volumeMounts", index, "name"), "Required value")
        elif isinstance(name, str) and name not in volumes:
            yield Violation(
                (*at, "volumeMounts", index, "name"),
                f"Not found: {shown(name)} (no volume of the pod template has this name)",
            )
        if not mount.get("mountPath"):
            yield Violation((*at, "volumeMounts", index, "mountPath"), "Required value")


CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
# Unprefixed names the API server knows (IsStandardResourceName) beyond the container ones.
OTHER_STANDARD_RESOURCES = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "services.nodeports",
        "services.loadbalancers",
    }
    | {f"{scope}.{r}" for scope in ("requests", "limits") for r in CONTAINER_RESOURCES}
    | {"requests.storage"}
)


def resource_name_errors(name: str) -> list[str]:
    """``validateContainerResourceName``: cpu, memory, ephemeral-storage, hugepages-<size>, or a
    domain-prefixed extended resource (``nvidia.com/gpu``)."""
    qualified = qualified_name_errors(name)
    if qualified:
        return qualified
    if "/" in name:
        native = "kubernetes.io/" in name
        if not native and (
            name.startswith("requests.") or qualified_name_errors("requests." + name)
        ):
            return ["doesn't follow extended resource name standard"]
        return []
    if name in CONTAINER_RESOURCES or name.startswith("hugepages-"):
        return []
    errors = []
    if name not in OTHER_STANDARD_RESOURCES and not name.startswith("requests.hugepages-"):
        errors.append("must be a standard resource type or fully qualified")
    errors.append("must be a standard resource for containers")
    return errors


def _resources(at: FieldPath, container: dict[str, Any]) -> Iterator[Violation]:
    resources = container.get("resources")
    if not isinstance(resources, dict):
        return
    limits = resources.get("limits")
    limits = limits if isinstance(limits, dict) else {}
    requests = resources.get("requests")
    requests = requests if isinstance(requests, dict) else {}
    for kind, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            name_errors = resource_name_errors(str(name))
            if name_errors:
                yield Violation(
                    (*at, "resources", kind, Key(str(name))),
                    "; ".join(invalid(str(name), e) for e in name_errors),
                )
                continue
            amount = parse_quantity(raw)
            if amount is not None and amount < 0:
                yield Violation(
                    (*at, "resources", kind, Key(str(name))),
                    invalid(str(raw), "must be greater than or equal to 0"),
                )
    for name, raw in requests.items():
        if not overcommit_allowed(str(name)):
            continue  # must equal its limit: api-pod-resources
        request, limit = parse_quantity(raw), parse_quantity(limits.get(name))
        if request is not None and limit is not None and request > limit:
            yield Violation(
                (*at, "resources", "requests"),
                invalid(str(raw), f"must be less than or equal to {name} limit of {limits[name]}"),
            )


def pod_spec_absent(view: JobView) -> bool:
    """Whether the pod spec is missing or null, or is inside a missing or null parent.

    The API server decodes a missing or null ``spec``, ``jobTemplate`` or ``template`` as an
    empty struct and validates it: the pod then has no containers. Any other non-mapping value
    is a decoding error, which ``api-structure`` reports instead.
    """
    node: Any = view.obj
    for key in view.pod_spec_prefix:
        if node is None:
            return True
        if not isinstance(node, dict):
            return False
        node = node.get(key)
    return node is None


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    if not isinstance(sim.template.get("spec"), dict):
        if pod_spec_absent(view):
            yield Violation(
                view.at("template", "spec", "containers"),
                "Required value (the Job has no pod template spec)",
            )
        return
    containers = sim.pod_spec.get("containers")
    if not isinstance(containers, list) or not containers:
        yield Violation(
            view.at("template", "spec", "containers"),
            "Required value (a pod needs at least one container)",
        )
    yield from _volumes(sim)
    version = subject.version
    seen: set[str] = set()
    yield from _containers(sim, "containers", seen, init=False, version=version)
    yield from _containers(sim, "initContainers", seen, init=True, version=version)
    ephemeral = sim.pod_spec.get("ephemeralContainers")
    if isinstance(ephemeral, list) and ephemeral:
        yield Violation(
            view.at("template", "spec", "ephemeralContainers"),
            "Forbidden: ephemeral containers not allowed in pod template",
        )
