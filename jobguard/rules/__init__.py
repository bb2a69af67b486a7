"""The rule registry: one explicit tuple, in the order findings are reported, and the rule sets
the front ends run (:data:`REGISTRY`, :func:`fixing_rules`, :func:`validating_rules`).

Importing a rule module has no side effect; adding a rule means adding it here.
"""

from __future__ import annotations

import functools

from jobguard.core.rule import Rule, RuleSet
from jobguard.rules import (
    active_deadline,
    api_completion_mode,
    api_cronjob_concurrency_policy,
    api_cronjob_job_template,
    api_cronjob_schedule,
    api_cronjob_time_zone,
    api_duplicate_keys,
    api_feature_gates,
    api_job_update,
    api_managed_by,
    api_non_negative,
    api_object_meta,
    api_pod_annotations,
    api_pod_env,
    api_pod_failure_policy,
    api_pod_hostname,
    api_pod_mounts,
    api_pod_probes,
    api_pod_replacement_policy,
    api_pod_resources,
    api_pod_scheduling,
    api_pod_security,
    api_pod_spec,
    api_pod_template,
    api_pod_volumes,
    api_restart_policy,
    api_selector,
    api_structure,
    api_success_policy,
    api_timestamps,
    api_warnings,
    backoff_limit,
    completions_parallelism,
    cronjob_concurrency,
    cronjob_history_limits,
    cronjob_schedule,
    cronjob_starting_deadline,
    internal_error,
    manual_selector,
    resources,
    restart_policy,
    suppression,
    ttl_after_finished,
)
from jobguard.rules._cel import Translate
from jobguard.rules.base import RuleSpec, check_registry, rule_from_module, spec_from_module

_SPECS: tuple[RuleSpec, ...] = tuple(
    spec_from_module(m)
    for m in (
        # api: what the Kubernetes API server itself would reject
        api_structure,
        api_feature_gates,
        api_object_meta,
        api_selector,
        api_non_negative,
        api_managed_by,
        api_completion_mode,
        api_pod_failure_policy,
        api_success_policy,
        api_pod_replacement_policy,
        api_pod_template,
        api_pod_spec,
        api_pod_env,
        api_pod_security,
        api_pod_probes,
        api_pod_scheduling,
        api_pod_volumes,
        api_pod_mounts,
        api_pod_resources,
        api_pod_annotations,
        api_pod_hostname,
        api_timestamps,
        api_restart_policy,
        api_cronjob_schedule,
        api_cronjob_time_zone,
        api_cronjob_concurrency_policy,
        api_cronjob_job_template,
        api_job_update,
        api_warnings,
        api_duplicate_keys,
        # policy
        suppression,
        restart_policy,
        completions_parallelism,
        backoff_limit,
        ttl_after_finished,
        active_deadline,
        manual_selector,
        resources,
        cronjob_schedule,
        cronjob_concurrency,
        cronjob_starting_deadline,
        cronjob_history_limits,
    )
)
ALL_RULES: tuple[Rule, ...] = tuple(spec.rule() for spec in _SPECS)

#: Every code a finding can carry, sorted by code: the registered rules and the engine's own
#: ``internal-error`` (JG000, made when a rule raises; not run, not configured under ``rules:``).
#: ``jobguard rules``, ``explain``, ``--select``/``--ignore`` and SARIF's rule list read this.
CATALOGUE: tuple[Rule, ...] = tuple(
    sorted((*ALL_RULES, rule_from_module(internal_error)), key=lambda r: r.code)
)

check_registry(CATALOGUE)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}
_CATALOGUE_BY_NAME: dict[str, Rule] = {r.name: r for r in CATALOGUE}
_CATALOGUE_BY_CODE: dict[str, Rule] = {r.code: r for r in CATALOGUE}

#: Every registered rule: what ``jobguard lint`` runs. Each selection below knows the same names
#: (a suppression annotation may name any registered rule).
REGISTRY = RuleSet.of(ALL_RULES)

#: Each rule's CEL for ``jobguard export``, by rule name: the ``cel`` function its module keeps
#: beside its check (a rule without one has no native translation).
TRANSLATIONS: dict[str, Translate] = {spec.name: spec.cel for spec in _SPECS if spec.cel}


# Cached: the same value on every call lets a policy remember its active rules per rule set.
@functools.cache
def fixing_rules() -> RuleSet:
    """The rules the mutating webhook runs: those that may attach a fix (``FIXES`` unset or
    true), apart from those the API server enforces itself.

    Verdicts are the validating webhook's business. The API server decodes an object before it
    calls mutating webhooks (unknown fields are gone, every value has its type), so the fixes of
    the ``api-*`` checks (api-structure's renames of unknown fields) can never apply there, and
    running them would only cost each review its schema walk.
    """
    return REGISTRY.where(lambda rule: rule.fixes and not rule.checked_by_apiserver)


@functools.cache
def validating_rules() -> RuleSet:
    """The rules the validating webhook runs: all but those the API server enforces itself.

    The API server decodes, defaults and validates an object before it calls validating
    webhooks, so the ``api-*`` checks of what it rejects can only come back clean there (or,
    with a version or simulation mismatch, wrong); ``jobguard lint`` runs them before the
    cluster. ``api-warnings`` stays: the API server accepts those objects.
    """
    return REGISTRY.where(lambda rule: not rule.checked_by_apiserver)


def find_rule(name_or_code: str) -> Rule | None:
    """The catalogue entry named ``name_or_code`` (a name, or a code in any case)."""
    return _CATALOGUE_BY_NAME.get(name_or_code) or _CATALOGUE_BY_CODE.get(name_or_code.upper())
