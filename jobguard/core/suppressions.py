"""Suppression annotations: ``suppress.jobguard.dev/<rule>: "<reason>"`` on a Job or CronJob.

Read here by everyone who honours or checks them: the engine silences the findings they name,
the ``suppression`` rule checks the annotations themselves, and the export compiles them into
``matchConditions``.
"""

from __future__ import annotations

from collections.abc import Collection

from jobguard.core.rule import Rule
from jobguard.core.view import JobView

SUPPRESS_PREFIX = "suppress.jobguard.dev/"


def suppressions(view: JobView) -> dict[str, str]:
    """rule name -> reason, from ``suppress.jobguard.dev/<rule>`` annotations."""
    return {
        key[len(SUPPRESS_PREFIX) :]: value
        for key, value in view.annotations.items()
        if key.startswith(SUPPRESS_PREFIX)
    }


def may_suppress(rule: Rule, unsuppressible: Collection[str]) -> bool:
    """Whether an annotation (with a reason) silences ``rule``'s findings: not when the policy
    forbids it (``suppressions.forbid``, passed as ``unsuppressible``) or the rule declares
    itself unsuppressible (:attr:`Rule.suppressible`)."""
    return rule.suppressible and rule.name not in unsuppressible
