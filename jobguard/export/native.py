"""Each policy rule as CEL: the checks the validating webhook makes and the defaults /mutate writes.

One translation per rule, next to nothing else, so a rule's native form can be read against the
rule module it mirrors. Options are baked into the expressions as literals (no ``paramKind``):
the exported objects then say everything on their own, and a policy change is a new export.

Expressions are templates over ``$o`` / ``$s`` / ``$c`` (see :mod:`jobguard.export.cel`). The
validating side reads the object as ``jobguard lint`` reads a manifest (``/validate`` does the
same); the mutating side reads it as ``/mutate`` does, after the API server's defaulting, where a
field holding exactly the API default counts as unset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobguard.core.kubernetes.defaults import (
    BACKOFF_LIMIT_DEFAULT,
    BACKOFF_LIMIT_WITH_PER_INDEX,
    api_default,
    cronjob_api_default,
)
from jobguard.core.kubernetes.versions import Version
from jobguard.core.suppressions import SUPPRESS_PREFIX
from jobguard.export.cel import PATH_PREFIXES, POINTER_PREFIXES, all_of, any_of, lit, present
from jobguard.rules.resources import POD_LEVEL_RESOURCES_SINCE

KINDS = ("Job", "CronJob")


@dataclass(frozen=True)
class Check:
    """One validation: ``violated`` is true when the rule reports a finding at ``path``."""

    kind: str
    path: str  # the field path as findings spell it; ``[*]`` stands for any list index
    violated: str
    text: str  # the static message
    detail: str | None = None  # a CEL string expression for the message, naming values


@dataclass(frozen=True)
class Default:
    """One safe fix /mutate applies: set ``pointer`` to ``value`` when ``when`` holds."""

    kind: str
    pointer: str
    when: str
    value: str


@dataclass(frozen=True)
class Translation:
    checks: tuple[Check, ...] = ()
    defaults: tuple[Default, ...] = ()
    gaps: tuple[str, ...] = ()  # what the rule checks that stays with the webhook


@dataclass(frozen=True)
class Context:
    version: Version
    known_rules: tuple[str, ...]
    #: The rules the object's own annotation may not silence here (the policy's decision,
    #: :meth:`jobguard.policy.model.Policy.annotation_refusal`).
    unsuppressible: tuple[str, ...]
    #: Who the CronJob controller acts as (the policy's ``trust.cronjob_controllers``).
    controllers: tuple[str, ...] = ()


# -- shared pieces -----------------------------------------------------------------------------


def path(kind: str, relative: str) -> str:
    return f"{PATH_PREFIXES[kind]}.{relative}"


def pointer(kind: str, relative: str) -> str:
    return f"{POINTER_PREFIXES[kind]}/{relative.replace('.', '/')}"


def has(relative: str) -> str:
    """The Job-spec field is present (every parent too)."""
    return present(f"$s.{relative}")


def has_c(relative: str) -> str:
    return present(f"$c.{relative}")


def scheduled_run(controllers: tuple[str, ...]) -> str:
    """:attr:`jobguard.core.subject.Subject.scheduled_run` in CEL: a Job created by one of the
    CronJob controller's identities (``request.userInfo.username``) AND controlled by a CronJob
    (its ownerReference with ``controller: true``). The ownerReference alone is written by
    whoever creates the Job, so it decides nothing by itself."""
    return (
        "(request.operation == 'CREATE' && $o.kind == 'Job' && "
        f"request.userInfo.username in {lit(sorted(controllers))} && "
        "has($o.metadata.ownerReferences) && $o.metadata.ownerReferences.exists(r, "
        "has(r.controller) && r.controller && r.kind == 'CronJob' && "
        "r.apiVersion.startsWith('batch/')))"
    )


def not_scheduled_run(kind: str, ctx: Context) -> str:
    """Skip a CronJob's scheduled runs: judged through their CronJob (CronJobs have none)."""
    return f"!{scheduled_run(ctx.controllers)}" if kind == "Job" else ""


def user_set(kind: str, relative: str, version: Version) -> str:
    """``JobView.user_set`` on a defaulted object without kubectl's record: present and not the
    API default (a default that depends on other fields is not expressed: none of the fields
    asked about has one)."""
    default = api_default(tuple(relative.split(".")), cronjob=kind == "CronJob", version=version)
    if default is None:
        return has(relative)
    return f"({has(relative)} && $s.{relative} != {lit(default)})"


def cronjob_user_set(relative: str, version: Version) -> str:
    """``JobView.cronjob_user_set`` as :func:`user_set` reads it, for a CronJob spec field."""
    default = cronjob_api_default(tuple(relative.split(".")), version=version)
    if default is None:
        return has_c(relative)
    return f"({has_c(relative)} && $c.{relative} != {lit(default)})"


def smaller(a: str, b: str) -> str:
    return f"({a} < {b} ? {a} : {b})"


# -- the rules ---------------------------------------------------------------------------------


def restart_policy(o: Any, ctx: Context) -> Translation:
    checks, defaults = [], []
    allowed = list(o.allowed)
    target = lit(o.default)
    if "Never" in allowed and o.default != "Never":
        target = f"({has('podFailurePolicy')} ? 'Never' : {target})"
    rp = "$s.template.spec.restartPolicy"
    for kind in KINDS:
        checks.append(
            Check(
                kind,
                path(kind, "template.spec.restartPolicy"),
                f"(!{has('template.spec.restartPolicy')} || !({rp} in {lit(allowed)}))",
                f"restartPolicy is not allowed; Jobs must use {' or '.join(allowed)}",
                f"({has('template.spec.restartPolicy')} && {rp} != 'Always' && {rp} != ''"
                f" ? 'restartPolicy ' + {rp} + ' is not allowed by policy; use "
                f"{' or '.join(allowed)}' : 'restartPolicy is not set; Jobs must use "
                f"{' or '.join(allowed)}')",
            )
        )
        # Safe unless it swaps one valid policy for the other (that changes retries).
        defaults.append(
            Default(
                kind,
                pointer(kind, "template.spec.restartPolicy"),
                f"({has('template.spec')} && (!{has('template.spec.restartPolicy')} || "
                f"!({rp} in ['Never', 'OnFailure'])))",
                target,
            )
        )
    return Translation(tuple(checks), tuple(defaults))


def completions_parallelism(o: Any, ctx: Context) -> Translation:
    checks, defaults = [], []
    for kind in KINDS:
        guard = not_scheduled_run(kind, ctx)
        c, p = "$s.completions", "$s.parallelism"
        has_c, has_p = has("completions"), has("parallelism")
        indexed = f"({has('completionMode')} && $s.completionMode == 'Indexed')"
        np = f"(!{indexed} && !{has_c} && !{has_p})"
        wq = f"(!{indexed} && !{has_c} && {has_p})"
        counted = f"(!{wq} && {has_c} && {c} >= 1)"
        cap = o.max_parallelism
        over_cap = f"({has_p} && {p} > {cap} && (!{counted} || {c} > {cap}))" if cap else ""

        def add(
            rel: str, cond: str, text: str, detail: str | None = None, kind: str = kind
        ) -> None:
            checks.append(
                Check(
                    kind,
                    path(kind, rel),
                    all_of([not_scheduled_run(kind, ctx), cond]),
                    text,
                    detail,
                )
            )

        add(
            "completions",
            f"({indexed} && !{has_c})",
            "an Indexed Job needs completions (the number of indexes)",
        )
        if o.require_explicit:
            add(
                "completions",
                np,
                "completions is not set: a non-parallel Job (one pod, done on its first "
                "success); write completions: 1",
            )
        if o.max_completions is not None:
            add(
                "completions",
                f"({has_c} && {c} > {o.max_completions})",
                f"completions is above the policy's maximum {o.max_completions}",
                f"'completions ' + string({c}) + ' is above the policy\\'s maximum "
                f"{o.max_completions}; split the work over several Jobs'",
            )
        unset_explicit = ""
        if o.require_explicit:
            add(
                "parallelism",
                np,
                "parallelism is not set: a non-parallel Job runs one pod; write parallelism: 1",
            )
            unset_explicit = f"(!{np} && !{wq} && {has_c} && {c} >= 1 && !{has_p})"
            add(
                "parallelism",
                unset_explicit,
                "parallelism is not set; the policy runs "
                f"min(completions, {o.default_parallelism}) completions at a time",
            )
        rest = all_of([f"!{np}", f"!{unset_explicit}" if unset_explicit else "", has_p])
        add(
            "parallelism",
            f"({rest} && {p} == 0)",
            "parallelism is 0: the Job is paused and starts no pod until it is raised",
        )
        if cap:
            add(
                "parallelism",
                f"({rest} && {over_cap})",
                f"parallelism is above the policy's maximum {cap}",
                f"'parallelism ' + string({p}) + ' is above the policy\\'s maximum {cap}'",
            )
        excess = all_of([rest, counted, f"{p} > {c}", f"!{over_cap}" if over_cap else ""])
        add(
            "parallelism",
            excess,
            "parallelism is above completions; the excess is ignored",
            f"'parallelism ' + string({p}) + ' is above completions ' + string({c}) + "
            "'; the controller never runs more pods at once, the excess is ignored'",
        )
        # /mutate, on the defaulted object (a Job's parallelism 1 and completions 1 may be the
        # API's; a CronJob's template is not defaulted).
        m_par_set = user_set(kind, "parallelism", ctx.version)
        m_np = np
        if o.require_explicit:
            defaults.append(Default(kind, pointer(kind, "completions"), all_of([guard, m_np]), "1"))
            defaults.append(Default(kind, pointer(kind, "parallelism"), all_of([guard, m_np]), "1"))
            target = smaller(c, str(o.default_parallelism))
            wants = f"(!{m_par_set} && (!{has_p} || {p} != {target}))"
            fill = all_of([guard, f"!{m_np}", f"!{wq}", has_c, f"{c} >= 1", wants])
            defaults.append(Default(kind, pointer(kind, "parallelism"), fill, target))
        # Lowering parallelism to completions overrides the user's value: a suggestion only,
        # so no mutation (the engine's fix is unsafe).
    return Translation(tuple(checks), tuple(defaults))


def backoff_limit(o: Any, ctx: Context) -> Translation:
    checks, defaults = [], []
    target = o.value_for_unset
    for kind in KINDS:
        guard = not_scheduled_run(kind, ctx)
        has_bl, has_pi, bl = has("backoffLimit"), has("backoffLimitPerIndex"), "$s.backoffLimit"
        if target is not None:
            checks.append(
                Check(
                    kind,
                    path(kind, "backoffLimit"),
                    all_of([guard, f"!{has_bl}", f"!{has_pi}"]),
                    f"backoffLimit is not set; the policy's default is {target} retries",
                )
            )
            per_index_default = (
                None
                if kind == "CronJob"
                else f"({has_pi} ? {BACKOFF_LIMIT_WITH_PER_INDEX} : {BACKOFF_LIMIT_DEFAULT})"
            )
            if per_index_default is None:
                set_by_user = has_bl
            else:
                set_by_user = f"({has_bl} && {bl} != {per_index_default})"
            defaults.append(
                Default(
                    kind,
                    pointer(kind, "backoffLimit"),
                    all_of(
                        [guard, f"!{has_pi}", f"!{set_by_user}", f"(!{has_bl} || {bl} != {target})"]
                    ),
                    str(target),
                )
            )
        if o.max is not None:
            api_own = f"({bl} == {BACKOFF_LIMIT_WITH_PER_INDEX} && {has_pi})"
            checks.append(
                Check(
                    kind,
                    path(kind, "backoffLimit"),
                    all_of([guard, has_bl, f"!{api_own}", f"{bl} > {o.max}"]),
                    f"backoffLimit is above the policy's maximum {o.max}",
                    f"'backoffLimit ' + string({bl}) + ' is above the policy\\'s maximum {o.max}'",
                )
            )
    return Translation(tuple(checks), tuple(defaults))


def ttl_after_finished(o: Any, ctx: Context) -> Translation:
    checks, defaults = [], []
    skip = o.cronjobs == "skip"
    for kind in KINDS:
        guard = not_scheduled_run(kind, ctx) if skip else ""
        has_t, t = has("ttlSecondsAfterFinished"), "$s.ttlSecondsAfterFinished"
        p = path(kind, "ttlSecondsAfterFinished")
        ptr = pointer(kind, "ttlSecondsAfterFinished")
        if o.default is not None and not (kind == "CronJob" and skip):
            cond = all_of([guard, f"!{has_t}"])
            checks.append(
                Check(
                    kind,
                    p,
                    cond,
                    "ttlSecondsAfterFinished is not set: the finished Job and its pods are kept "
                    f"forever; the policy's default is {o.default}s",
                )
            )
            defaults.append(Default(kind, ptr, cond, str(o.default)))
        below = ""
        if o.min is not None:
            below = all_of([guard, has_t, f"{t} >= 0", f"{t} < {o.min}"])
            checks.append(
                Check(
                    kind,
                    p,
                    below,
                    f"ttlSecondsAfterFinished is below the policy's minimum {o.min}s",
                    f"'ttlSecondsAfterFinished ' + string({t}) + ' is below the policy\\'s "
                    f"minimum {o.min}s; a failure\\'s logs go before anyone reads them'",
                )
            )
            # raising a chosen TTL is a suggestion only (unsafe in the engine): no mutation
        if o.max is not None:
            checks.append(
                Check(
                    kind,
                    p,
                    all_of(
                        [guard, has_t, f"{t} >= 0", f"{t} > {o.max}", f"!{below}" if below else ""]
                    ),
                    f"ttlSecondsAfterFinished is above the policy's maximum {o.max}s",
                    f"'ttlSecondsAfterFinished ' + string({t}) + ' is above the policy\\'s "
                    f"maximum {o.max}s'",
                )
            )
    return Translation(tuple(checks), tuple(defaults))


def active_deadline(o: Any, ctx: Context) -> Translation:
    checks = []
    for kind in KINDS:
        guard = not_scheduled_run(kind, ctx)
        has_j, j = has("activeDeadlineSeconds"), "$s.activeDeadlineSeconds"
        pod = "$s.template.spec.activeDeadlineSeconds"
        pod_set = f"({has('template.spec.activeDeadlineSeconds')} && {pod} >= 1)"
        checks.append(
            Check(
                kind,
                path(kind, "template.spec.activeDeadlineSeconds"),
                all_of([guard, f"!{has_j}", pod_set]),
                "the pod-level activeDeadlineSeconds limits each pod attempt and the Job has no "
                "deadline of its own; the Job-level activeDeadlineSeconds was probably meant",
            )
        )
        if o.require:
            checks.append(
                Check(
                    kind,
                    path(kind, "activeDeadlineSeconds"),
                    all_of([guard, f"!{has_j}", f"!{pod_set}"]),
                    "activeDeadlineSeconds is not set: nothing stops the Job if it hangs; the "
                    "policy requires a Job-level deadline",
                )
            )
        if o.max is not None:
            checks.append(
                Check(
                    kind,
                    path(kind, "activeDeadlineSeconds"),
                    all_of([guard, has_j, f"{j} > {o.max}"]),
                    f"activeDeadlineSeconds is above the policy's maximum {o.max}",
                    f"'activeDeadlineSeconds ' + string({j}) + ' is above the policy\\'s "
                    f"maximum {o.max}'",
                )
            )
    return Translation(tuple(checks))


# The request's namespace: the API server makes the object's match it, and CEL would need the
# escaped `metadata.__namespace__` (namespace is a reserved word) to read the object's own.
NAMESPACE = "request.namespace"


def _selector_matches(sel: str, labels: str) -> str:
    """``LabelSelector.matches``: every matchLabels entry and every expression holds."""
    expression = (
        f"e.operator == 'In' ? (e.key in {labels} && {labels}[e.key] in e.values) : "
        f"e.operator == 'NotIn' ? (!(e.key in {labels}) || !({labels}[e.key] in e.values)) : "
        f"e.operator == 'Exists' ? e.key in {labels} : !(e.key in {labels})"
    )
    return (
        f"((!has({sel}.matchLabels) || {sel}.matchLabels.all(k, k in {labels} && "
        f"{labels}[k] == {sel}.matchLabels[k])) && (!has({sel}.matchExpressions) || "
        f"{sel}.matchExpressions.all(e, {expression})))"
    )


def manual_selector(o: Any, ctx: Context) -> Translation:
    from jobguard.export.cel import matches_any

    kind = "Job"
    grandfathered = (
        "(request.operation == 'UPDATE' && oldObject != null && has(oldObject.spec) && "
        "has(oldObject.spec.manualSelector) && oldObject.spec.manualSelector == true)"
    )
    active = all_of(
        [f"({has('manualSelector')} && $s.manualSelector == true)", f"!{grandfathered}"]
    )
    exempt = []
    if o.exempt_namespaces:
        exempt.append(matches_any(NAMESPACE, o.exempt_namespaces))
    if o.exempt_label is not None:
        key, has_value, value = o.exempt_label.partition("=")
        labelled = f"(has($o.metadata.labels) && {lit(key)} in $o.metadata.labels"
        labelled += f" && $o.metadata.labels[{lit(key)}] == {lit(value)})" if has_value else ")"
        exempt.append(labelled)
    sel = "$s.selector"
    empty = (
        f"((!has({sel}.matchLabels) || size({sel}.matchLabels) == 0) && "
        f"(!has({sel}.matchExpressions) || size({sel}.matchExpressions) == 0))"
    )
    pins = any_of(
        f"((has({sel}.matchLabels) && {lit(k)} in {sel}.matchLabels) || "
        f"(has({sel}.matchExpressions) && {sel}.matchExpressions.exists(e, e.key == {lit(k)} "
        "&& e.operator == 'In')))"
        for k in o.unique_keys
    )
    labels = f"({has('template.metadata.labels')} ? $s.template.metadata.labels : {{}})"
    checks = [
        Check(
            kind,
            path(kind, "manualSelector"),
            all_of([active, f"!{any_of(exempt)}" if exempt else ""]),
            "manualSelector: true is not allowed; let the API server generate the selector",
        ),
        Check(
            kind,
            path(kind, "selector"),
            all_of([active, has("selector"), empty]),
            "the empty selector matches every pod in the namespace; the Job would adopt and "
            "delete other workloads' pods",
        ),
        Check(
            kind,
            path(kind, "selector"),
            all_of([active, has("selector"), f"!{empty}", f"!{pins}"]),
            "the selector can match other workloads' pods; pin one of " + ", ".join(o.unique_keys),
        ),
        Check(
            kind,
            path(kind, "template.metadata.labels"),
            all_of([active, has("selector"), f"!{empty}", f"!{_selector_matches(sel, labels)}"]),
            "`selector` does not match template `labels`",
        ),
    ]
    return Translation(tuple(checks))


POD_RESOURCES = "$s.template.spec.resources"


def pod_has(pod_level: bool, section: str, resource: str) -> str:
    """Pod-level resources (Kubernetes 1.34+) cover every container for that resource."""
    if not pod_level:
        return "false"
    return (
        f"({present(f'{POD_RESOURCES}.{section}')} && {lit(resource)} in {POD_RESOURCES}.{section})"
    )


def resources(o: Any, ctx: Context) -> Translation:
    checks = []
    pod_level = ctx.version >= POD_LEVEL_RESOURCES_SINCE
    maxima = {"cpu": o.max_cpu, "memory": o.max_memory}
    for kind in KINDS:

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
                Check(
                    kind,
                    path(kind, "template.spec"),
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
                base = f"{path(kind, 'template.spec')}.{key}[*].resources"
                violated = (
                    f"(!{unless} && {has('template.spec.' + key)} && {items}.exists(c, {missing}))"
                )
                names = f"{items}.filter(c, {missing}).map(c, c.name).join(', ')"
                where = f"{base}.{rel}" if rel else base
                checks.append(Check(kind, where, violated, text, f"{lit(text + ': ')} + {names}"))

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


def cronjob_concurrency(o: Any, ctx: Context) -> Translation:
    kind, checks = "CronJob", []
    cp, is_set = (
        "$c.concurrencyPolicy",
        f"({has_c('concurrencyPolicy')} && $c.concurrencyPolicy != '')",
    )
    allowed = list(o.allowed)
    choices = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
    if o.require_explicit or "Allow" not in allowed:
        checks.append(
            Check(
                kind,
                "spec.concurrencyPolicy",
                f"!{is_set}",
                "concurrencyPolicy is not set; the API defaults to Allow, so slow runs overlap "
                f"and pile up; choose {choices}",
            )
        )
    forbidden = [p for p in ("Allow", "Forbid", "Replace") if p not in allowed]
    if forbidden:
        checks.append(
            Check(
                kind,
                "spec.concurrencyPolicy",
                f"({is_set} && {cp} in {lit(forbidden)})",
                f"concurrencyPolicy is not allowed by policy; use {choices}",
                f"'concurrencyPolicy ' + {cp} + ' is not allowed by policy; use {choices}'",
            )
        )
    return Translation(tuple(checks))


def cronjob_starting_deadline(o: Any, ctx: Context) -> Translation:
    kind, checks = "CronJob", []
    defaults: list[Default] = []
    is_set, value = has_c("startingDeadlineSeconds"), "$c.startingDeadlineSeconds"
    if o.required:
        checks.append(
            Check(
                kind,
                "spec.startingDeadlineSeconds",
                f"!{is_set}",
                "startingDeadlineSeconds is not set; after an outage or a resume the last missed "
                "run starts however late it is",
            )
        )
    if o.min_seconds > 0:
        low = f"({is_set} && {value} >= 0 && {value} < {o.min_seconds})"
        checks.append(
            Check(
                kind,
                "spec.startingDeadlineSeconds",
                low,
                f"startingDeadlineSeconds is below {o.min_seconds}; runs may never start",
                f"'startingDeadlineSeconds ' + string({value}) + ' is below {o.min_seconds}; the "
                "controller starts Jobs a moment after their time, so runs may never start'",
            )
        )
        # raising a chosen deadline is a suggestion only (unsafe in the engine): no mutation
    return Translation(tuple(checks), tuple(defaults))


def cronjob_history_limits(o: Any, ctx: Context) -> Translation:
    kind, checks, defaults = "CronJob", [], []

    def kept(field: str) -> str:
        return (
            f"({has_c(field)} ? $c.{field} : {cronjob_api_default((field,), version=ctx.version)})"
        )

    succ = kept("successfulJobsHistoryLimit")
    if o.max_successful is not None:
        checks.append(
            Check(
                kind,
                "spec.successfulJobsHistoryLimit",
                f"{succ} > {o.max_successful}",
                f"successfulJobsHistoryLimit is above the policy's maximum {o.max_successful}; "
                "finished Jobs and their pods pile up",
                f"'successfulJobsHistoryLimit ' + string({succ}) + ' is above the policy\\'s "
                f"maximum {o.max_successful}'",
            )
        )
    failed = kept("failedJobsHistoryLimit")
    low = f"({failed} >= 0 && {failed} < {o.min_failed})"
    checks.append(
        Check(
            kind,
            "spec.failedJobsHistoryLimit",
            low,
            f"failedJobsHistoryLimit is below the policy's minimum {o.min_failed}; failures go "
            "unseen",
            f"'failedJobsHistoryLimit ' + string({failed}) + ' is below the policy\\'s minimum "
            f"{o.min_failed}'",
        )
    )
    # Raising a limit the user wrote is a suggestion only (unsafe in the engine): /mutate fills
    # in min_failed only where the limit holds no value of the user's.
    unset = f"!{cronjob_user_set('failedJobsHistoryLimit', ctx.version)}"
    defaults.append(
        Default(kind, "/spec/failedJobsHistoryLimit", all_of([low, unset]), str(o.min_failed))
    )
    if o.max_failed is not None:
        checks.append(
            Check(
                kind,
                "spec.failedJobsHistoryLimit",
                f"(!{low} && {failed} > {o.max_failed})",
                f"failedJobsHistoryLimit is above the policy's maximum {o.max_failed}; failed "
                "Jobs and their pods pile up",
                f"'failedJobsHistoryLimit ' + string({failed}) + ' is above the policy\\'s "
                f"maximum {o.max_failed}'",
            )
        )
    return Translation(tuple(checks), tuple(defaults))


def suppression(o: Any, ctx: Context) -> Translation:
    annotations = "$o.metadata.annotations"
    known = [SUPPRESS_PREFIX + name for name in ctx.known_rules]
    forbidden = [SUPPRESS_PREFIX + name for name in ctx.unsuppressible if name in ctx.known_rules]
    where = "metadata.annotations[" + SUPPRESS_PREFIX + "*]"
    present_ = present(annotations)

    def keys(cond: str) -> str:
        return f"{annotations}.filter(k, {cond}).join(', ')"

    unknown = f"k.startsWith({lit(SUPPRESS_PREFIX)}) && !(k in {lit(known)})"
    no_reason = f"k in {lit(known)} && !(k in {lit(forbidden)}) && {annotations}[k].trim() == ''"
    checks = []
    for kind in KINDS:
        checks.append(
            Check(
                kind,
                where,
                f"({present_} && {annotations}.exists(k, {unknown}))",
                "suppression names an unknown rule; it silences nothing",
                f"'suppressions naming unknown rules, silencing nothing: ' + {keys(unknown)}",
            )
        )
        if forbidden:
            cond = f"k in {lit(forbidden)}"
            checks.append(
                Check(
                    kind,
                    where,
                    f"({present_} && {annotations}.exists(k, {cond}))",
                    "the policy forbids this suppression; it is ignored",
                    f"'suppressions the policy forbids, ignored: ' + {keys(cond)}",
                )
            )
        checks.append(
            Check(
                kind,
                where,
                f"({present_} && {annotations}.exists(k, {no_reason}))",
                "suppression gives no reason; it is ignored until it does",
                f"'suppressions without a reason, ignored: ' + {keys(no_reason)}",
            )
        )
    return Translation(tuple(checks))


def cronjob_schedule(o: Any, ctx: Context) -> Translation:
    return Translation(
        gaps=(
            "the whole rule: a schedule that never fires, the interval between runs and whether "
            "the schedule depends on the time zone need a cron parser CEL does not have",
        )
    )


def api_warnings(o: Any, ctx: Context) -> Translation:
    return Translation(
        gaps=("the whole rule: the API server's own warnings, relayed by the validating webhook",)
    )


Translate = Callable[[Any, Context], Translation]

TRANSLATIONS: dict[str, Translate] = {
    "suppression": suppression,
    "restart-policy": restart_policy,
    "completions-parallelism": completions_parallelism,
    "backoff-limit": backoff_limit,
    "ttl-after-finished": ttl_after_finished,
    "active-deadline": active_deadline,
    "manual-selector": manual_selector,
    "resources": resources,
    "cronjob-schedule": cronjob_schedule,
    "cronjob-concurrency": cronjob_concurrency,
    "cronjob-starting-deadline": cronjob_starting_deadline,
    "cronjob-history-limits": cronjob_history_limits,
    "api-warnings": api_warnings,
}
