"""Suppression annotations: ``suppress.jobguard.dev/<rule>: "<reason>"`` on a Job or CronJob.

Read here by everyone who honours or checks them: the engine silences the findings they name,
the ``suppression`` rule checks the annotations themselves, and the export compiles them into
``matchConditions``. Which rules an annotation may silence is :func:`annotation_refusal`'s
decision, the same for every front end.
"""

from __future__ import annotations

from collections.abc import Collection

from jobguard.core.model import Action
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


def annotation_refusal(
    rule: Rule,
    action: Action,
    *,
    allowed: bool,
    forbidden: Collection[str],
    suppressible: Collection[str],
) -> str | None:
    """Why an object's own annotation may not silence ``rule`` (None: it may).

    Exceptions need permission: the object is written by whoever the policy judges, so its
    annotation can lift only what the policy lets it lift. Never a rule that declares itself
    unsuppressible (restart-policy, manual-selector, every api-* rule, the suppression rule);
    never one the policy forbids (``suppressions.forbid``); and a rule whose action is
    ``deny`` only when the policy lists it in ``suppressions.suppressible``. An exemption in
    the policy file (guarded by who may change the policy) lifts any rule.
    """
    if not allowed:
        return "the policy honours no suppression annotation (suppressions.allowed: false)"
    if not rule.suppressible:
        return (
            f"{rule.name} can never be suppressed by the object itself; "
            "an exemption in the policy file can lift it"
        )
    if rule.name in forbidden:
        return "the policy forbids suppressing it (suppressions.forbid)"
    if action is Action.DENY and rule.name not in suppressible:
        return (
            "it denies, and an object may suppress a deny rule only where the policy lists it "
            "in suppressions.suppressible; an exemption in the policy file can lift it"
        )
    return None
