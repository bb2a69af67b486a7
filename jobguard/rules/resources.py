"""resources: every container of a Job's pods states its resource requests and limits.

What: each container and init container (native sidecars included) of the pod template must set
the policy's ``requests`` (default cpu and memory) and ``limits`` (default memory), and stay at or
below ``max_cpu`` / ``max_memory`` when the policy sets them (requests and limits alike).

What a container lacks is one finding per container, at its ``resources``
(``spec.template.spec.containers[0].resources``; CronJob:
``spec.jobTemplate.spec.template.spec.containers[0].resources``), naming every missing request and
limit: one change to the manifest, one finding. A pod of several containers none of which sets
any of them is one finding, at the pod spec (``spec.template.spec``), naming every container:
sizing the pod is one decision, and from Kubernetes 1.34 one block (pod-level ``resources``). A value above a maximum is a finding at its own
path (``...resources.limits.cpu``). Containers are checked in pod order (``initContainers``
first, they run first), each: what it lacks, then maxima.

What counts as set, as the API server and kubelet see it:

* a request is set when the container requests it or limits it: for Pods the API server copies a
  container's limit into a missing request of the same resource (``SetDefaults_Pod``; not done for
  templates, so the manifest shows no request, but the Job's pods have one);
* with pod-level resources (``spec.template.spec.resources``, beta and on by default from
  Kubernetes 1.34) a pod-level request or limit covers every container for that resource.

Why: a container without requests is scheduled as if it needed nothing and lands on full nodes;
without a memory limit a Job with a leak or a huge input can take a node's memory and get other
teams' pods evicted or OOM-killed; a batch Job often runs many pods in parallel, which multiplies
both. Namespaces with a LimitRange get defaults injected into the *pods* (never into the Job's
template), so a policy for such namespaces may scope the rule out or lower its action.

Example::

    spec:
      template:
        spec:
          containers:
          - name: main
            image: registry.example/etl:2.3
            # no resources: one finding, "no cpu request, no memory request and no memory limit"

Fix: set values that fit the workload, e.g. ``resources: {requests: {cpu: 500m, memory: 1Gi},
limits: {memory: 1Gi}}``. No automatic fix: a guessed limit either OOM-kills a healthy Job or
hides a leak; a guessed request wastes or starves capacity.

Options:
  requests    resource names every container must request (default ``[cpu, memory]``)
  limits      resource names every container must limit (default ``[memory]``)
  max_cpu     largest CPU request or limit per container, a quantity such as ``"8"`` or ``"500m"``
              (default none)
  max_memory  largest memory request or limit per container, such as ``"16Gi"`` (default none)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jobguard.core.kubernetes.quantity import parse_quantity
from jobguard.core.model import Action, Category, Violation
from jobguard.core.paths import FieldPath, field_path
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    JOB_FORMS,
    CelCheck,
    CelContext,
    Translation,
    has,
    lit,
    present,
)
from jobguard.rules._cel import (
    path as spec_path,
)

CODE = "JG111"
NAME = "resources"
CATEGORY = Category.POLICY
FIXES = False  # reports only: the mutating webhook skips it
DEFAULT_ACTION = Action.WARN
SUMMARY = "Containers set resource requests and limits (default: cpu+memory requests, memory limit)"
REMEDIATION = (
    "Set resources.requests (cpu, memory) and resources.limits (memory) on every container and "
    "init container of the pod template, sized for the workload."
)

POD_LEVEL_RESOURCES_SINCE = (1, 34)

_RESOURCE_WORDS = {"cpu": "CPU", "memory": "memory"}
_WHY_NO_LIMIT = {
    "cpu": "it may use every idle core of its node",
    "memory": "a runaway run can take its node's memory from other pods",
}


@dataclass(frozen=True)
class Options:
    requests: tuple[str, ...] = ("cpu", "memory")
    limits: tuple[str, ...] = ("memory",)
    max_cpu: str | None = None
    max_memory: str | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        for name in ("max_cpu", "max_memory"):
            value = getattr(self, name)
            if value is None:
                continue
            parsed = parse_quantity(value)
            if parsed is None or parsed <= 0:
                problems.append((name, f"{value!r} is not a positive quantity such as 2 or 4Gi"))
        return problems

    def maxima(self) -> dict[str, Decimal]:
        found = {}
        for resource, value in (("cpu", self.max_cpu), ("memory", self.max_memory)):
            parsed = parse_quantity(value) if value is not None else None
            if parsed is not None:
                found[resource] = parsed
        return found


def _resource_map(resources: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """``requests`` or ``limits`` of a resources block; None when it has the wrong type."""
    value = resources.get(kind)
    if value is None:
        return {}
    return value if isinstance(value, dict) else None


def _pod_level(view: JobView, subject: Subject) -> dict[str, dict[str, Any]]:
    if subject.version < POD_LEVEL_RESOURCES_SINCE:
        return {"requests": {}, "limits": {}}
    resources = view.pod_spec.get("resources")
    if not isinstance(resources, dict):
        return {"requests": {}, "limits": {}}
    return {kind: _resource_map(resources, kind) or {} for kind in ("requests", "limits")}


def _pod_containers(view: JobView) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    yield from view.containers(init=True)
    yield from view.containers()


def _container_violations(
    path: FieldPath,
    container: dict[str, Any],
    options: Options,
    pod: dict[str, dict[str, Any]],
    maxima: dict[str, Decimal],
) -> Iterator[Violation]:
    resources = container.get("resources", {})
    if resources is None:
        resources = {}
    if not isinstance(resources, dict):
        return  # a type error, reported by the structure rules
    requests = _resource_map(resources, "requests")
    limits = _resource_map(resources, "limits")
    if requests is None or limits is None:
        return
    name = container.get("name")
    who = f"container {name!r}" if isinstance(name, str) else "this container"
    base = (*path, "resources")
    lacking = _lacking(options, requests, limits, pod)
    if lacking:
        what = _and(f"no {resource} {kind[:-1]}" for kind, resource in lacking)
        yield Violation(base, f"{who} has {what}: {_consequences(lacking)}")
    for kind, values in (("requests", requests), ("limits", limits)):
        for resource, maximum in maxima.items():
            amount = parse_quantity(values.get(resource))
            if amount is not None and amount > maximum:
                shown = options.max_cpu if resource == "cpu" else options.max_memory
                yield Violation(
                    (*base, kind, resource),
                    f"{who}: {resource} {kind[:-1]} {values[resource]} is above the "
                    f"policy's maximum {shown}",
                )


def _lacking(
    options: Options,
    requests: dict[str, Any],
    limits: dict[str, Any],
    pod: dict[str, dict[str, Any]],
) -> list[tuple[str, str]]:
    """(``requests`` or ``limits``, resource) pairs the container lacks, requests first."""
    missing = [
        ("requests", resource)
        for resource in options.requests
        if resource not in requests and resource not in limits and resource not in pod["requests"]
    ]
    missing += [
        ("limits", resource)
        for resource in options.limits
        if resource not in limits and resource not in pod["limits"]
    ]
    return missing


def _consequences(lacking: list[tuple[str, str]], *, several: bool = False) -> str:
    """What the missing requests and limits mean, requests first, as one sentence (about one
    container, or ``several``)."""
    unrequested = [_RESOURCE_WORDS.get(r, r) for kind, r in lacking if kind == "requests"]
    parts = []
    if unrequested:
        them, they = ("them", "they") if several else ("it", "it")
        parts.append(
            f"the scheduler places {them} as if {they} needed "
            + _and(f"no {w}" for w in unrequested)
        )
    for kind, resource in lacking:
        if kind == "limits":
            parts.append(_WHY_NO_LIMIT.get(resource, f"its {resource} use is unbounded"))
    return "; ".join(parts)


def _and(items: Iterable[str]) -> str:
    words = list(items)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _bare(container: dict[str, Any], options: Options, pod: dict[str, dict[str, Any]]) -> bool:
    """The container sets none of what the policy asks for (and the pod level covers none)."""
    resources = container.get("resources") or {}
    if not isinstance(resources, dict):
        return False
    requests, limits = _resource_map(resources, "requests"), _resource_map(resources, "limits")
    if requests is None or limits is None:
        return False
    asked = [("requests", r) for r in options.requests if r not in pod["requests"]]
    asked += [("limits", r) for r in options.limits if r not in pod["limits"]]
    return bool(asked) and _lacking(options, requests, limits, pod) == asked


def _whole_pod(
    view: JobView,
    containers: list[tuple[FieldPath, dict[str, Any]]],
    options: Options,
    subject: Subject,
) -> Violation:
    """One finding for a pod none of whose containers sets resources: one decision to make
    (and, from Kubernetes 1.34, one block to write: pod-level resources cover every container)."""
    pod = _pod_level(view, subject)
    first = containers[0][1]
    requests = _resource_map(first.get("resources") or {}, "requests") or {}
    limits = _resource_map(first.get("resources") or {}, "limits") or {}
    lacking = _lacking(options, requests, limits, pod)
    what = _and(f"no {resource} {kind[:-1]}" for kind, resource in lacking)
    init = {id(c) for _, c in view.containers(init=True)}
    names = _and(
        ("init container " if id(c) in init else "") + repr(c.get("name")) for _, c in containers
    )
    hint = (
        f"; pod-level {field_path((*view.at('template', 'spec'), 'resources'))} covers them all"
        if subject.version >= POD_LEVEL_RESOURCES_SINCE
        else ""
    )
    return Violation(
        view.at("template", "spec"),
        f"no container of the pod sets resources: {names} have {what}: "
        f"{_consequences(lacking, several=True)}{hint}",
    )


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    pod = _pod_level(view, subject)
    maxima = options.maxima()
    containers = [(p, c) for p, c in _pod_containers(view) if isinstance(c, dict)]
    if len(containers) > 1 and all(_bare(c, options, pod) for _, c in containers):
        yield _whole_pod(view, containers, options, subject)
        return
    for path, container in _pod_containers(view):
        yield from _container_violations(path, container, options, pod, maxima)


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


POD_RESOURCES = "$s.template.spec.resources"


def pod_has(pod_level: bool, section: str, resource: str) -> str:
    """Pod-level resources (Kubernetes 1.34+) cover every container for that resource."""
    if not pod_level:
        return "false"
    return (
        f"({present(f'{POD_RESOURCES}.{section}')} && {lit(resource)} in {POD_RESOURCES}.{section})"
    )


def cel(o: Options, ctx: CelContext) -> Translation:
    checks = []
    pod_level = ctx.version >= POD_LEVEL_RESOURCES_SINCE
    maxima = {"cpu": o.max_cpu, "memory": o.max_memory}
    for kind in JOB_FORMS:

        def in_section(section: str, resource: str) -> str:
            return (
                f"(has(c.resources) && has(c.resources.{section}) && "
                f"{lit(resource)} in c.resources.{section})"
            )

        lacks = [
            f"(!{in_section('requests', resource)} && !{in_section('limits', resource)}"
            f" && !{pod_has(pod_level, 'requests', resource)})"
            for resource in o.requests
        ] + [
            f"(!{in_section('limits', resource)} && !{pod_has(pod_level, 'limits', resource)})"
            for resource in o.limits
        ]
        wanted = [f"a {r} request" for r in o.requests] + [f"a {r} limit" for r in o.limits]
        # A pod of several containers none of which sets anything asked is one finding at the
        # pod spec, as the rule reports it; each container is its own finding otherwise.
        whole_pod = "false"
        if lacks:
            every = (
                f"(({has('template.spec.initContainers')} ? $s.template.spec.initContainers : [])"
                f" + ({has('template.spec.containers')} ? $s.template.spec.containers : []))"
            )
            bare = "(" + " && ".join(lacks) + ")"
            asked = " || ".join(
                [f"!{pod_has(pod_level, 'requests', r)}" for r in o.requests]
                + [f"!{pod_has(pod_level, 'limits', r)}" for r in o.limits]
            )
            whole_pod = f"(size({every}) > 1 && ({asked}) && {every}.all(c, {bare}))"
            text = "pods none of whose containers sets " + " or ".join(wanted)
            checks.append(
                CelCheck(
                    kind,
                    spec_path(kind, "template.spec"),
                    whole_pod,
                    text,
                    f"{lit(text + ': ')} + {every}.map(c, c.name).join(', ')",
                )
            )
        for key in ("initContainers", "containers"):

            def add(
                rel: str,
                missing: str,
                text: str,
                kind: str = kind,
                key: str = key,
                unless: str = "false",
            ) -> None:
                items = f"$s.template.spec.{key}"
                base = f"{spec_path(kind, 'template.spec')}.{key}[*].resources"
                violated = (
                    f"(!{unless} && {has('template.spec.' + key)} && {items}.exists(c, {missing}))"
                )
                names = f"{items}.filter(c, {missing}).map(c, c.name).join(', ')"
                where = f"{base}.{rel}" if rel else base
                checks.append(
                    CelCheck(kind, where, violated, text, f"{lit(text + ': ')} + {names}")
                )

            # One finding per container naming all it lacks, as the rule reports it.
            if lacks:
                add(
                    "",
                    "(" + " || ".join(lacks) + ")",
                    "containers without " + " or ".join(wanted),
                    unless=whole_pod,
                )
            for section in ("requests", "limits"):
                for resource, maximum in sorted(maxima.items()):
                    if maximum is None:
                        continue
                    value = f"c.resources.{section}[{lit(resource)}]"
                    above = (
                        f"({in_section(section, resource)} && isQuantity({value}) && "
                        f"quantity({value}).compareTo(quantity({lit(maximum)})) > 0)"
                    )
                    add(
                        f"{section}.{resource}",
                        above,
                        f"containers whose {resource} {section[:-1]} is above the policy's "
                        f"maximum {maximum}",
                    )
    return Translation(tuple(checks))
