"""api-pod-scheduling: scheduling, DNS and host-network fields the API server rejects.

What, in a Job's pod template (CronJob: ``spec.jobTemplate.spec.template``):

* ``affinity``: node affinity terms (at least one ``nodeSelectorTerms`` entry; operators ``In``,
  ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt`` with the values each needs; label keys
  and values; ``matchFields`` only on ``metadata.name`` with one value), preferred terms'
  ``weight`` 1-100, pod (anti-)affinity terms (label and namespace selectors, ``namespaces``,
  a ``topologyKey``, ``matchLabelKeys``/``mismatchLabelKeys``);
* ``topologySpreadConstraints``: ``maxSkew`` and ``minDomains`` positive, a ``topologyKey``,
  ``whenUnsatisfiable`` ``DoNotSchedule``/``ScheduleAnyway`` (``minDomains`` only with
  ``DoNotSchedule``), no two constraints with the same key and action, ``nodeAffinityPolicy``
  and ``nodeTaintsPolicy`` ``Honor``/``Ignore``, ``matchLabelKeys`` and the ``labelSelector``
  (before 1.33 a key may not be in both; from 1.33 the API server merges ``matchLabelKeys`` into
  the selector itself, MatchLabelKeysInPodTopologySpreadSelectorMerge, and accepts it);
* ``schedulingGates`` and ``readinessGates`` (qualified names, gates unique);
* ``dnsConfig``: required with ``dnsPolicy: None`` (with a nameserver), at most 3 nameservers,
  each an IP address, at most 32 search domains and 2048 characters, option names;
* ``hostAliases`` (IP addresses, host names), ``priorityClassName``, ``runtimeClassName``,
  ``nodeName`` (DNS subdomains), ``preemptionPolicy``;
* host ports: with ``hostNetwork: true`` a ``hostPort`` equals its ``containerPort``; the same
  protocol, host IP and host port only once across the containers (and within each init
  container);
* ``resourceClaims`` (from Kubernetes 1.34, where dynamic resource allocation is on by
  default): unique DNS-label names, exactly one of ``resourceClaimName`` and
  ``resourceClaimTemplateName``.

Why: each is an HTTP 422 on create; scheduling snippets are often copied between objects with
a typo in an operator or a missing ``topologyKey``.

Example::

    topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedul       # Unsupported value

Fix: none automatic; follow the message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from jobguard.core.kubernetes.versions import TOPOLOGY_SPREAD_KEYS_MERGED_SINCE, Version
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, is_int, shown, unsupported
from jobguard.rules.api_selector import selector_syntax_errors
from jobguard.rules.base import NoOptions

CODE = "JG021"
NAME = "api-pod-scheduling"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = (
    "Affinity, topology spread, gates, DNS config, host ports and claims the API server rejects"
)
REMEDIATION = "Fix the scheduling or DNS field the message names (values are case-sensitive)."

NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
NODE_INCLUSION_POLICIES = ("Honor", "Ignore")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32
MAX_SEARCH_CHARS = 2048
IP_ERROR = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
NOT_POSITIVE = "must be greater than zero"
WEIGHT_ERROR = "must be in the range 1-100"
RESOURCE_CLAIMS_SINCE = (1, 34)  # DynamicResourceAllocation on by default (dropped before)
_SCHEDULING_FIELDS = (
    "affinity",
    "topologySpreadConstraints",
    "schedulingGates",
    "readinessGates",
    "dnsConfig",
    "hostAliases",
    "priorityClassName",
    "runtimeClassName",
    "nodeName",
    "preemptionPolicy",
    "resourceClaims",
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, item in enumerate(_list(value)):
        if isinstance(item, dict):
            yield index, item


def go_strings(values: list[Any]) -> str:
    """A ``[]string`` as ``%#v`` prints it in a field error."""
    return "[]string{" + ", ".join(shown(str(v)) for v in values) + "}"


def _label_name(at: FieldPath, key: Any) -> Iterator[Violation]:
    errors = qualified_name_errors(key if isinstance(key, str) else "")
    if errors:
        yield Violation(at, invalid(key if isinstance(key, str) else "", "; ".join(errors)))


def _node_requirement(
    at: FieldPath, requirement: dict[str, Any], check_values: bool
) -> Iterator[Violation]:
    """``ValidateNodeSelectorRequirement``."""
    operator, values = requirement.get("operator"), _list(requirement.get("values"))
    if operator in ("In", "NotIn"):
        if not values:
            yield Violation(
                (*at, "values"),
                "Required value: must be specified when `operator` is 'In' or 'NotIn'",
            )
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            yield Violation(
                (*at, "values"),
                "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            yield Violation(
                (*at, "values"),
                "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
            )
    else:
        yield Violation((*at, "operator"), invalid(operator or "", "not a valid selector operator"))
    yield from _label_name((*at, "key"), requirement.get("key"))
    if check_values:
        for index, value in enumerate(values):
            if isinstance(value, str):
                errors = label_value_errors(value)
                if errors:
                    yield Violation((*at, "values", index), invalid(value, "; ".join(errors)))


def _node_field_requirement(at: FieldPath, requirement: dict[str, Any]) -> Iterator[Violation]:
    """``ValidateNodeFieldSelectorRequirement``: only ``metadata.name``, one value."""
    operator, values = requirement.get("operator"), _list(requirement.get("values"))
    if operator in ("In", "NotIn"):
        if len(values) != 1:
            yield Violation(
                (*at, "values"),
                "Required value: must be only one value when `operator` is 'In' or 'NotIn' for "
                "node field selector",
            )
    else:
        yield Violation((*at, "operator"), invalid(operator or "", "not a valid selector operator"))
    key = requirement.get("key")
    if key != "metadata.name":
        yield Violation((*at, "key"), invalid(key or "", "not a valid field selector key"))
        return
    for index, value in enumerate(values):
        if isinstance(value, str):
            for error in dns1123_subdomain_errors(value):
                yield Violation((*at, "values", index), invalid(value, error))


def _node_term(at: FieldPath, term: dict[str, Any], check_values: bool) -> Iterator[Violation]:
    for index, requirement in _dicts(term.get("matchExpressions")):
        yield from _node_requirement((*at, "matchExpressions", index), requirement, check_values)
    for index, requirement in _dicts(term.get("matchFields")):
        yield from _node_field_requirement((*at, "matchFields", index), requirement)


def _weight(at: FieldPath, weight: Any) -> Iterator[Violation]:
    value = weight if is_int(weight) else 0
    if not 1 <= value <= 100:
        yield Violation(at, invalid(value, WEIGHT_ERROR))


def _node_affinity(at: FieldPath, affinity: dict[str, Any]) -> Iterator[Violation]:
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if isinstance(required, dict):
        terms = _list(required.get("nodeSelectorTerms"))
        here = (*at, "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        if not terms:
            yield Violation(here, "Required value: must have at least one node selector term")
        for index, term in _dicts(terms):
            yield from _node_term((*here, index), term, check_values=True)
    for index, preferred in _dicts(affinity.get("preferredDuringSchedulingIgnoredDuringExecution")):
        here = (*at, "preferredDuringSchedulingIgnoredDuringExecution", index)
        yield from _weight((*here, "weight"), preferred.get("weight"))
        preference = preferred.get("preference")
        if isinstance(preference, dict):
            # preferred terms may name label values no node has: not validated
            yield from _node_term((*here, "preference"), preference, check_values=False)


def _selector_keys(selector: Any) -> set[str]:
    if not isinstance(selector, dict):
        return set()
    labels = selector.get("matchLabels")
    keys = {k for k in labels if isinstance(k, str)} if isinstance(labels, dict) else set()
    for _, expression in _dicts(selector.get("matchExpressions")):
        if isinstance(expression.get("key"), str):
            keys.add(expression["key"])
    return keys


def _pod_affinity_term(at: FieldPath, term: dict[str, Any]) -> Iterator[Violation]:
    """``validatePodAffinityTerm``."""
    selector = term.get("labelSelector")
    yield from selector_syntax_errors(selector, (*at, "labelSelector"))
    yield from selector_syntax_errors(term.get("namespaceSelector"), (*at, "namespaceSelector"))
    for name in _list(term.get("namespaces")):
        if isinstance(name, str):
            for error in dns1123_label_errors(name):
                yield Violation((*at, "namespace"), invalid(name, error))
    match, mismatch = _list(term.get("matchLabelKeys")), _list(term.get("mismatchLabelKeys"))
    for key_field, keys in (("matchLabelKeys", match), ("mismatchLabelKeys", mismatch)):
        if keys and selector is None:
            yield Violation(
                (*at, key_field), "Forbidden: must not be specified when labelSelector is not set"
            )
            continue
        for index, key in enumerate(keys):
            yield from _label_name((*at, key_field, index), key)
    for index, key in enumerate(match):
        if key in mismatch:
            yield Violation(
                (*at, "matchLabelKeys", index),
                invalid(key, "exists in both matchLabelKeys and mismatchLabelKeys"),
            )
    topology = term.get("topologyKey")
    if not topology:
        yield Violation((*at, "topologyKey"), "Required value: can not be empty")
    yield from _label_name((*at, "topologyKey"), topology)


def _pod_affinity(at: FieldPath, affinity: dict[str, Any]) -> Iterator[Violation]:
    for index, term in _dicts(affinity.get("requiredDuringSchedulingIgnoredDuringExecution")):
        yield from _pod_affinity_term(
            (*at, "requiredDuringSchedulingIgnoredDuringExecution", index), term
        )
    for index, weighted in _dicts(affinity.get("preferredDuringSchedulingIgnoredDuringExecution")):
        here = (*at, "preferredDuringSchedulingIgnoredDuringExecution", index)
        yield from _weight((*here, "weight"), weighted.get("weight"))
        inner = weighted.get("podAffinityTerm")
        if isinstance(inner, dict):
            yield from _pod_affinity_term((*here, "podAffinityTerm"), inner)


def _affinity(at: FieldPath, affinity: Any) -> Iterator[Violation]:
    if not isinstance(affinity, dict):
        return
    node = affinity.get("nodeAffinity")
    if isinstance(node, dict):
        yield from _node_affinity((*at, "nodeAffinity"), node)
    for key in ("podAffinity", "podAntiAffinity"):
        pod = affinity.get(key)
        if isinstance(pod, dict):
            yield from _pod_affinity((*at, key), pod)


def _topology_spread(at: FieldPath, items: Any, version: Version) -> Iterator[Violation]:
    """``validateTopologySpreadConstraints``."""
    constraints = list(_dicts(items))
    for position, (index, constraint) in enumerate(constraints):
        here = (*at, index)
        skew = constraint.get("maxSkew")
        skew = skew if is_int(skew) else 0
        if skew <= 0:
            yield Violation((*here, "maxSkew"), invalid(skew, NOT_POSITIVE))
        key = constraint.get("topologyKey") or ""
        if not key:
            yield Violation((*here, "topologyKey"), "Required value: can not be empty")
        action = constraint.get("whenUnsatisfiable") or ""
        if action not in WHEN_UNSATISFIABLE:
            yield Violation((*here, "whenUnsatisfiable"), unsupported(action, WHEN_UNSATISFIABLE))
        for _, later in constraints[position + 1 :]:
            if (later.get("topologyKey") or "") == key and (
                later.get("whenUnsatisfiable") or ""
            ) == action:
                yield Violation(
                    (*here, "{topologyKey, whenUnsatisfiable}"),
                    f"Duplicate value: {shown(f'{{{key}, {action}}}')}",
                )
                break
        domains = constraint.get("minDomains")
        if is_int(domains):
            if domains <= 0:
                yield Violation((*here, "minDomains"), invalid(domains, NOT_POSITIVE))
            if action != "DoNotSchedule":
                yield Violation(
                    (*here, "minDomains"),
                    invalid(
                        domains,
                        f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}",
                    ),
                )
        for policy_key in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            policy = constraint.get(policy_key)
            if isinstance(policy, str) and policy not in NODE_INCLUSION_POLICIES:
                yield Violation((*here, policy_key), unsupported(policy, NODE_INCLUSION_POLICIES))
        selector = constraint.get("labelSelector")
        keys = _list(constraint.get("matchLabelKeys"))
        if keys:
            if selector is None:
                yield Violation(
                    (*here, "matchLabelKeys"),
                    "Forbidden: must not be specified when labelSelector is not set",
                )
            selector_keys = _selector_keys(selector)
            for key_index, label_key in enumerate(keys):
                yield from _label_name((*here, "matchLabelKeys", key_index), label_key)
                if (
                    isinstance(label_key, str)
                    and label_key in selector_keys
                    and version < TOPOLOGY_SPREAD_KEYS_MERGED_SINCE
                ):
                    yield Violation(
                        (*here, "matchLabelKeys", key_index),
                        invalid(label_key, "exists in both matchLabelKeys and labelSelector"),
                    )
        yield from selector_syntax_errors(selector, (*here, "labelSelector"))


def _gates(at: FieldPath, pod: dict[str, Any]) -> Iterator[Violation]:
    for index, gate in _dicts(pod.get("readinessGates")):
        kind = gate.get("conditionType")
        errors = qualified_name_errors(kind if isinstance(kind, str) else "")
        if errors:
            yield Violation(
                (*at, "readinessGates", index, "conditionType"),
                invalid(kind or "", "; ".join(errors)),
            )
    seen: set[str] = set()
    for index, gate in _dicts(pod.get("schedulingGates")):
        raw = gate.get("name")
        name = raw if isinstance(raw, str) else ""
        errors = qualified_name_errors(name)
        if errors:
            yield Violation((*at, "schedulingGates", index), invalid(name, "; ".join(errors)))
        if name in seen:
            yield Violation((*at, "schedulingGates", index), f"Duplicate value: {shown(name)}")
        seen.add(name)


def _ip_errors(value: Any) -> list[str]:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return [IP_ERROR]
    return []


def _dns_config(at: FieldPath, pod: dict[str, Any]) -> Iterator[Violation]:
    """``validatePodDNSConfig``."""
    config = pod.get("dnsConfig")
    if pod.get("dnsPolicy") == "None":
        if not isinstance(config, dict):
            yield Violation(
                (*at, "dnsConfig"),
                "Required value: must provide `dnsConfig` when `dnsPolicy` is None",
            )
            return
        if not _list(config.get("nameservers")):
            yield Violation(
                (*at, "dnsConfig", "nameservers"),
                "Required value: must provide at least one DNS nameserver when `dnsPolicy` is None",
            )
            return
    if not isinstance(config, dict):
        return
    here = (*at, "dnsConfig")
    nameservers = _list(config.get("nameservers"))
    if len(nameservers) > MAX_NAMESERVERS:
        yield Violation(
            (*here, "nameservers"),
            f"Invalid value: {go_strings(nameservers)}: must not have more than "
            f"{MAX_NAMESERVERS} nameservers",
        )
    for index, server in enumerate(nameservers):
        for error in _ip_errors(server):
            yield Violation((*here, "nameservers", index), invalid(str(server), error))
    searches = [str(s) for s in _list(config.get("searches"))]
    if len(searches) > MAX_SEARCH_PATHS:
        yield Violation(
            (*here, "searches"),
            f"Invalid value: {go_strings(searches)}: must not have more than "
            f"{MAX_SEARCH_PATHS} search paths",
        )
    if len(" ".join(searches)) > MAX_SEARCH_CHARS:
        yield Violation(
            (*here, "searches"),
            f"Invalid value: {go_strings(searches)}: must not have more than "
            f"{MAX_SEARCH_CHARS} characters (including spaces) in the search list",
        )
    for index, search in enumerate(searches):
        name = search.removesuffix(".")
        # Underscores and a lone "." are allowed from the relaxed rule on: not judged here.
        if search == "." or "_" in name:
            continue
        for error in dns1123_subdomain_errors(name):
            yield Violation((*here, "searches", index), invalid(name, error))
    for index, option in _dicts(config.get("options")):
        if not option.get("name"):
            yield Violation((*here, "options", index), "Required value: must not be empty")


def _names(at: FieldPath, pod: dict[str, Any]) -> Iterator[Violation]:
    for index, alias in _dicts(pod.get("hostAliases")):
        here = (*at, "hostAliases", index)
        for error in _ip_errors(alias.get("ip", "")):
            yield Violation((*here, "ip"), invalid(str(alias.get("ip", "")), error))
        for name_index, hostname in enumerate(_list(alias.get("hostnames"))):
            if isinstance(hostname, str):
                for error in dns1123_subdomain_errors(hostname):
                    yield Violation((*here, "hostnames", name_index), invalid(hostname, error))
    for key in ("nodeName", "priorityClassName", "runtimeClassName"):
        value = pod.get(key)
        if isinstance(value, str) and (value or key == "runtimeClassName"):
            for error in dns1123_subdomain_errors(value):
                yield Violation((*at, key), invalid(value, error))
    preemption = pod.get("preemptionPolicy")
    if isinstance(preemption, str):
        if not preemption:
            yield Violation((*at, "preemptionPolicy"), "Required value")
        elif preemption not in PREEMPTION_POLICIES:
            yield Violation((*at, "preemptionPolicy"), unsupported(preemption, PREEMPTION_POLICIES))


def _host_ports(sim: JobView, pod: dict[str, Any]) -> Iterator[Violation]:
    """``checkHostPortConflicts`` and ``validatePodHostNetworkDeps``. Init containers are
    checked one by one, and the API server then reports them at ``initContainers[0]``."""
    regular: set[str] = set()
    for init in (False, True):
        key = "initContainers" if init else "containers"
        for index, (_, container) in enumerate(sim.containers(init=init)):
            seen = set() if init else regular
            shown_index = 0 if init else index
            for port_index, port in _dicts(container.get("ports")):
                host = port.get("hostPort")
                if not is_int(host) or host == 0:
                    continue
                entry = f"{port.get('protocol') or 'TCP'}/{port.get('hostIP') or ''}/{host}"
                if entry in seen:
                    yield Violation(
                        sim.at(
                            "template", "spec", key, shown_index, "ports", port_index, "hostPort"
                        ),
                        f"Duplicate value: {shown(entry)}",
                    )
                seen.add(entry)
    if pod.get("hostNetwork") is not True:
        return
    for at, container in sim.containers():
        for port_index, port in _dicts(container.get("ports")):
            host, number = port.get("hostPort"), port.get("containerPort")
            if is_int(host) and host != 0 and host != number:
                yield Violation(
                    (*at, "ports", port_index, "hostPort"),
                    invalid(host, "must match `containerPort` when `hostNetwork` is true"),
                )


def _resource_claims(at: FieldPath, claims: Any) -> Iterator[Violation]:
    seen: set[str] = set()
    for index, claim in _dicts(claims):
        here = (*at, "resourceClaims", index)
        name = claim.get("name")
        if not name:
            yield Violation((*here, "name"), "Required value")
        elif isinstance(name, str):
            if name in seen:
                yield Violation((*here, "name"), f"Duplicate value: {shown(name)}")
            else:
                for error in dns1123_label_errors(name):
                    yield Violation((*here, "name"), invalid(name, error))
                seen.add(name)
        claim_name = claim.get("resourceClaimName")
        template_name = claim.get("resourceClaimTemplateName")
        if claim_name is not None and template_name is not None:
            yield Violation(
                here,
                invalid(
                    claim,
                    "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be "
                    "specified",
                ),
            )
        if claim_name is None and template_name is None:
            yield Violation(
                here,
                invalid(
                    claim, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"
                ),
            )
        for key, value in (
            ("resourceClaimName", claim_name),
            ("resourceClaimTemplateName", template_name),
        ):
            if isinstance(value, str):
                for error in dns1123_subdomain_errors(value):
                    yield Violation((*here, key), invalid(value, error))


def _has_host_ports(sim: JobView) -> bool:
    return any(
        isinstance(port, dict) and port.get("hostPort")
        for init in (False, True)
        for _, container in sim.containers(init=init)
        for port in _list(container.get("ports"))
    )


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    sim = api_view(view, subject)
    pod = sim.pod_spec
    if not pod:
        return
    at = sim.at("template", "spec")
    if pod.get("dnsPolicy") == "None" or any(k in pod for k in _SCHEDULING_FIELDS):
        # ValidatePodSpec's order
        yield from _affinity((*at, "affinity"), pod.get("affinity"))
        yield from _dns_config(at, pod)
        yield from _gates(at, pod)
        yield from _topology_spread(
            (*at, "topologySpreadConstraints"),
            pod.get("topologySpreadConstraints"),
            subject.version,
        )
        yield from _names(at, pod)
        if subject.version >= RESOURCE_CLAIMS_SINCE:
            yield from _resource_claims(at, pod.get("resourceClaims"))
    if _has_host_ports(sim):
        yield from _host_ports(sim, pod)
