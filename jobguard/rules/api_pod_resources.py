"""api-pod-resources: resource requirements the API server rejects beyond names and signs.

What, in a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``), following
``validateResourceRequirements`` and ``validatePodResources``
(pkg/apis/core/validation/validation.go):

* extended resources (``example.com/gpu``: a domain-prefixed name outside ``kubernetes.io``)
  and hugepages cannot be overcommitted (``IsOvercommitAllowed``): a request needs a limit
  (``limits: Required value: Limit must be set for non overcommitable resources``) and must
  equal it; extended resources are whole numbers (``must be an integer``,
  ``ValidateResourceQuantityValue``);
* hugepages: a quantity that is a whole multiple of the page size (``hugepages-2Mi: 3Mi`` is
  not), and only beside a ``cpu`` or ``memory`` request or limit;
* container ``resources.claims`` (``validateResourceClaimNames``): a name, not repeated,
  naming one of the pod's ``resourceClaims`` (from 1.34, where DynamicResourceAllocation is on;
  the field is dropped before);
* pod-level ``spec.resources`` (``validatePodResources``, from 1.34 where PodLevelResources is
  on; dropped before): no ``claims``; names that are standard or fully qualified and supported
  at pod level (``cpu``, ``memory``, ``hugepages-<size>``); no negative quantities; requests
  at most limits; each pod-level request at least the containers' aggregate request
  (``resourcehelper.AggregateContainerRequests``: the sum of the containers and sidecars, or
  the largest init container if more), a pod-level hugepages limit at least their aggregate
  limit, and each container's limit at most the pod-level limit; none at all in a Windows pod.

Names that are not resource names at all, negative container quantities and a container
request above an overcommittable limit are ``api-pod-template``'s.

Not reproduced: the server compares aggregated requests only where the pod sets a request
for that resource (a request it leaves out counts as zero there); jobguard compares only
resources the pod names, so it can miss such a case but never rejects a valid template.

Why: each is an HTTP 422 on create: a GPU request without the same limit, half a GPU, or a
pod-level CPU request below what its containers ask.

Example::

    resources:
      requests: {nvidia.com/gpu: 1}    # limits: Required value: Limit must be set for
                                       # non overcommitable resources

Fix: none automatic; set the limit equal to the request (extended resources, hugepages).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal
from typing import Any

from jobguard.core.kubernetes.names import dns1123_label_errors, qualified_name_errors
from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, shown, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG024"
NAME = "api-pod-resources"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Extended resources, hugepages, resource claims and pod-level resources the API server rejects"
)
REMEDIATION = (
    "Give extended resources and hugepages a whole limit equal to the request; keep pod-level "
    "resources to cpu, memory and hugepages, at least what the containers request."
)

CLAIMS_SINCE = (1, 34)  # DynamicResourceAllocation on by default; the field is dropped before
POD_RESOURCES_SINCE = (1, 34)  # PodLevelResources on by default; the field is dropped before
HUGEPAGES_PREFIX = "hugepages-"
POD_LEVEL_SUPPORTED = ("cpu", "hugepages-", "memory")  # sets.List(SupportedPodLevelResources())
QOS_RESOURCES = ("cpu", "memory")
# helper.IsStandardResourceName's unprefixed names (validateResourceName)
STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)


def is_native(name: str) -> bool:
    """``helper.IsNativeResource``: unprefixed, or prefixed with ``kubernetes.io/``."""
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith(HUGEPAGES_PREFIX)


def is_extended(name: str) -> bool:
    """``helper.IsExtendedResourceName``."""
    if is_native(name) or name.startswith("requests."):
        return False
    return not qualified_name_errors("requests." + name)


def overcommit_allowed(name: str) -> bool:
    """``helper.IsOvercommitAllowed``."""
    return is_native(name) and not is_hugepages(name)


def _text(raw: Any) -> str:
    return str(raw)


def hugepage_error(name: str, raw: Any) -> str | None:
    """``validateResourceQuantityHugePageValue`` (``IsHugePageResourceValueDivisible``)."""
    amount = parse_quantity(raw)
    page = parse_quantity(name[len(HUGEPAGES_PREFIX) :])
    if amount is None:
        return None
    divisible = (
        page is not None
        and page > 0
        and page == page.to_integral_value()
        and amount.to_integral_value(rounding=ROUND_CEILING) % page == 0
    )
    if divisible:
        return None
    return f"{_text(raw)} is not positive integer multiple of {name}"


def _quantity_errors(name: str, raw: Any) -> list[str]:
    """The parts of ``ValidateResourceQuantityValue`` and the hugepage check not reported by
    ``api-pod-template`` (negative quantities are)."""
    errors = []
    if is_extended(name):  # names first: most are cpu and memory, whose values need no parse
        amount = parse_quantity(raw)
        if amount is not None and amount >= 0 and amount % 1 != 0:
            errors.append(invalid(_text(raw), "must be an integer"))
    if is_hugepages(name):
        error = hugepage_error(name, raw)
        if error:
            errors.append(invalid(_text(raw), error))
    return errors


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _container_requirements(
    at: FieldPath, resources: dict[str, Any], claim_names: set[str], version: tuple[int, int]
) -> Iterator[Violation]:
    limits, requests = _mapping(resources.get("limits")), _mapping(resources.get("requests"))
    for name, raw in limits.items():
        for error in _quantity_errors(str(name), raw):
            yield Violation((*at, "limits", Key(str(name))), error)
    for name, raw in requests.items():
        name = str(name)
        for error in _quantity_errors(name, raw) if not is_hugepages(name) else []:
            yield Violation((*at, "requests", Key(name)), error)
        if not overcommit_allowed(name):
            if name in limits:
                request, limit = parse_quantity(raw), parse_quantity(limits[name])
                if request is not None and limit is not None and request != limit:
                    yield Violation(
                        (*at, "requests"),
                        invalid(
                            _text(raw), f"must be equal to {name} limit of {_text(limits[name])}"
                        )
                        + " (extended resources and hugepages are not overcommitted)",
                    )
            else:
                yield Violation(
                    (*at, "limits"),
                    "Required value: Limit must be set for non overcommitable resources"
                    f" ({name} is not overcommitted: set limits[{name}] equal to the request)",
                )
        page_error = hugepage_error(name, raw) if is_hugepages(name) else None
        if page_error:
            yield Violation((*at, "requests", Key(name)), invalid(_text(raw), page_error))
    yield from _hugepages_need_cpu_or_memory(at, limits, requests)
    if version >= CLAIMS_SINCE:
        yield from _claims((*at, "claims"), resources.get("claims"), claim_names)


def _hugepages_need_cpu_or_memory(
    at: FieldPath, limits: dict[str, Any], requests: dict[str, Any]
) -> Iterator[Violation]:
    names = [str(n) for n in (*limits, *requests)]
    if any(is_hugepages(n) for n in names) and not any(n in QOS_RESOURCES for n in names):
        yield Violation(at, "Forbidden: HugePages require cpu or memory")


def _claims(at: FieldPath, claims: Any, pod_claims: set[str]) -> Iterator[Violation]:
    """``validateResourceClaimNames``."""
    seen: set[str] = set()
    for index, claim in enumerate(claims if isinstance(claims, list) else []):
        if not isinstance(claim, dict):
            continue
        name = claim.get("name")
        name = name if isinstance(name, str) else ""
        request = claim.get("request")
        request = request if isinstance(request, str) else ""
        if not name:
            yield Violation((*at, index), "Required value")
            continue
        if name in seen:
            yield Violation((*at, index), f"Duplicate value: {shown(name)}")
        else:
            key = name
            if request:
                for error in dns1123_label_errors(request):
                    yield Violation((*at, index, "request"), invalid(request, error))
                key += "/" + request
            if key in seen:
                yield Violation((*at, index), f"Duplicate value: {shown(key)}")
            elif not request:
                for other in sorted(seen):
                    if "/" in other and other.split("/", 1)[0] == name:
                        yield Violation((*at, index), f"Duplicate value: {shown(name)}")
            seen.add(key)
        if name not in pod_claims:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += (": " + ", ".join(sorted(pod_claims))) if pod_claims else " which is empty"
            yield Violation((*at, index), f"Not found: {shown(name)}: {detail}")


def _pod_claim_names(pod: dict[str, Any]) -> set[str]:
    claims = pod.get("resourceClaims")
    return {
        c["name"]
        for c in (claims if isinstance(claims, list) else [])
        if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"]
    }


def pod_resource_name_errors(name: str) -> list[str]:
    """``validatePodResourceName``."""
    qualified = qualified_name_errors(name)
    if qualified:
        return [invalid(name, e) for e in qualified]
    quota_hugepages = name.startswith((HUGEPAGES_PREFIX, "requests." + HUGEPAGES_PREFIX))
    if "/" not in name and name not in STANDARD_RESOURCES and not quota_hugepages:
        return [invalid(name, "must be a standard resource type or fully qualified")]
    if name not in ("cpu", "memory") and not is_hugepages(name):
        return [unsupported(name, POD_LEVEL_SUPPORTED)]
    return []


def _aggregate(pod: dict[str, Any], kind: str) -> dict[str, Decimal]:
    """``resourcehelper.AggregateContainerRequests`` (``kind`` requests) or
    ``AggregateContainerLimits`` (limits): the containers' sum, sidecars included, or the
    largest init container step if more."""
    total: dict[str, Decimal] = {}
    for container in _containers(pod, "containers"):
        _add(total, _quantities(container, kind))
    sidecars: dict[str, Decimal] = {}
    init_max: dict[str, Decimal] = {}
    for container in _containers(pod, "initContainers"):
        own = _quantities(container, kind)
        if container.get("restartPolicy") == "Always":
            _add(total, own)
            _add(sidecars, own)
            step = dict(sidecars)
        else:
            step = dict(own)
            _add(step, sidecars)
        for name, amount in step.items():
            if amount > init_max.get(name, Decimal(0)):
                init_max[name] = amount
    for name, amount in init_max.items():
        if amount > total.get(name, Decimal(0)):
            total[name] = amount
    return total


def _containers(pod: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = pod.get(key)
    return [c for c in (items if isinstance(items, list) else []) if isinstance(c, dict)]


def _quantities(container: dict[str, Any], kind: str) -> dict[str, Decimal]:
    values = _mapping(_mapping(container.get("resources")).get(kind))
    out = {}
    for name, raw in values.items():
        amount = parse_quantity(raw)
        if amount is not None:
            out[str(name)] = amount
    return out


def _add(total: dict[str, Decimal], more: dict[str, Decimal]) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, Decimal(0)) + amount


def _pod_resources(at: FieldPath, pod: dict[str, Any]) -> Iterator[Violation]:
    """``validatePodResources``."""
    resources = pod.get("resources")
    if not isinstance(resources, dict):
        return
    if _mapping(pod.get("os")).get("name") == "windows":
        yield Violation(at, "Forbidden: may not be set for a windows pod")
        return
    if resources.get("claims") is not None:
        yield Violation(
            (*at, "claims"), "Forbidden: claims cannot be set for Resources at pod-level"
        )
    limits, requests = _mapping(resources.get("limits")), _mapping(resources.get("requests"))
    for kind, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            here = (*at, kind, Key(str(name)))
            for error in pod_resource_name_errors(str(name)):
                yield Violation(here, error)
            amount = parse_quantity(raw)
            if amount is not None and amount < 0:
                yield Violation(here, invalid(_text(raw), "must be greater than or equal to 0"))
            for error in _quantity_errors(str(name), raw):
                yield Violation(here, error)
            if kind == "requests" and name in limits:
                limit = parse_quantity(limits[name])
                if amount is not None and limit is not None and amount > limit:
                    yield Violation(
                        (*at, "requests"),
                        invalid(
                            _text(raw),
                            f"must be less than or equal to {name} limit of {_text(limits[name])}",
                        ),
                    )
    yield from _hugepages_need_cpu_or_memory(at, limits, requests)
    aggregate = _aggregate(pod, "requests")
    for name, raw in requests.items():
        pod_request = parse_quantity(raw)
        need = aggregate.get(str(name))
        if pod_request is not None and need is not None and need > pod_request:
            yield Violation(
                (*at, "requests", Key(str(name))),
                invalid(
                    _text(raw),
                    f"must be greater than or equal to aggregate container requests of {_number(need)}",
                ),
            )
    aggregate_limits = _aggregate(pod, "limits")
    for name, raw in limits.items():
        pod_limit, need = parse_quantity(raw), aggregate_limits.get(str(name))
        if (
            is_hugepages(str(name))
            and pod_limit is not None
            and need is not None
            and need > pod_limit
        ):
            yield Violation(
                (*at, "limits", Key(str(name))),
                invalid(
                    _text(raw),
                    f"must be greater than or equal to aggregate container limits of {_number(need)}",
                ),
            )
    listed = pod.get("containers")
    # A wrong type (``containers: true``) is api-structure's error; this check reads lists only.
    for index, container in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(container, dict):
            continue
        container_limits = _mapping(_mapping(container.get("resources")).get("limits"))
        for name, raw in container_limits.items():
            if name not in limits:
                continue
            own, cap = parse_quantity(raw), parse_quantity(limits[name])
            if own is not None and cap is not None and own > cap:
                yield Violation(
                    (*at, "containers", index, Key(str(name)), "limits"),
                    invalid(
                        _text(raw),
                        f"must be less than or equal to pod limits of {_text(limits[name])}",
                    ),
                )


def _number(amount: Decimal) -> str:
    """A sum of quantities the way the server prints it (``Quantity.String()``): binary
    suffixes for whole multiples of 1024 (memory), else plain or milli digits."""
    if amount == amount.to_integral_value():
        whole = int(amount)
        for power, suffix in ((6, "Ei"), (5, "Pi"), (4, "Ti"), (3, "Gi"), (2, "Mi"), (1, "Ki")):
            if whole and whole % 1024**power == 0:
                return f"{whole // 1024**power}{suffix}"
        return str(whole)
    milli = amount * 1000
    if milli == milli.to_integral_value():
        return f"{int(milli)}m"
    return str(amount.normalize())


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    pod = sim.pod_spec
    if not pod:
        return
    version = subject.version
    claim_names: set[str] | None = None
    for init in (False, True):
        for at, container in sim.containers(init=init):
            resources = container.get("resources")
            if not isinstance(resources, dict):
                continue
            if claim_names is None:
                claim_names = _pod_claim_names(pod)
            yield from _container_requirements((*at, "resources"), resources, claim_names, version)
    if version >= POD_RESOURCES_SINCE and pod.get("resources") is not None:
        yield from _pod_resources(sim.at("template", "spec", "resources"), pod)
