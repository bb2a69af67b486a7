"""api-pod-template: a pod template the API server rejects.

What: the pod template of a Job (CronJob: ``spec.jobTemplate.spec.template``) must have at least
one container; every container and init container needs a name that is an RFC 1123 label
(lower case, digits, '-', at most 63 characters), unique across containers and init containers,
and an ``image``; ``ephemeralContainers`` are not allowed in a template; an init container's
``restartPolicy`` may only be ``Always`` (a native sidecar) and a regular container may not set
one.

Why: each is an HTTP 422 from the API server (``spec.template.spec.containers[0].image:
Required value``); a templating mistake (an empty image variable) shows up only at deploy time.

Example::

    containers:
      - name: Main_Worker          # Invalid value: a lowercase RFC 1123 label ...
        image: ""                  # Required value

Fix: none automatic; name the containers and give each one an image.

Not checked (the API server does): volumes, ports, environment variables, probes, resources,
security contexts and the other pod-spec fields beyond their types (see ``api-structure``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.context import Context
from jobguard.core.k8s_names import dns1123_label_errors
from jobguard.core.model import Category, Violation
from jobguard.core.view import JobView
from jobguard.rules._api import api_view, invalid, shown, unsupported
from jobguard.rules.base import NoOptions

CODE = "JG005"
NAME = "api-pod-template"
CATEGORY = Category.API
SUMMARY = "Pod template without containers, or with unnamed, duplicate or image-less containers"
REMEDIATION = (
    "Give the pod template at least one container, each with a unique DNS-label name and an image."
)


def _containers(sim: JobView, key: str, seen: set[str], *, init: bool) -> Iterator[Violation]:
    items = sim.pod_spec.get(key)
    if not isinstance(items, list):
        return
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
        policy = container.get("restartPolicy")
        if isinstance(policy, str):
            if init and policy != "Always":
                yield Violation((*at, "restartPolicy"), unsupported(policy, ("Always",)))
            elif not init:
                yield Violation(
                    (*at, "restartPolicy"),
                    "Forbidden: may not be set for non-init containers",
                )


def check(view: JobView, options: NoOptions, ctx: Context) -> Iterator[Violation]:
    sim = api_view(view, ctx)
    if not isinstance(sim.template.get("spec"), dict):
        if isinstance(sim.job_spec, dict) and sim.job_spec:
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
    seen: set[str] = set()
    yield from _containers(sim, "containers", seen, init=False)
    yield from _containers(sim, "initContainers", seen, init=True)
    ephemeral = sim.pod_spec.get("ephemeralContainers")
    if isinstance(ephemeral, list) and ephemeral:
        yield Violation(
            view.at("template", "spec", "ephemeralContainers"),
            "Forbidden: ephemeral containers not allowed in pod template",
        )
