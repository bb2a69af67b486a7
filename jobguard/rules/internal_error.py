"""internal-error: a rule failed on this object (a jobguard bug, not a problem of the object).

What: a rule raised an exception while judging the object. The finding names the rule and the
error; the other rules' findings are reported as usual. It is a catalogue entry, not a rule the
engine runs (nothing to configure under ``rules:``): the engine makes this finding itself.

Why: a rule bug must never take the webhook or a lint run down, and must not let an object slip
past silently either. The policy's ``on_rule_error`` decides what the finding does: ``warn``
(the default) reports it as a warning, ``deny`` makes it an error (fail closed: an object
crafted to crash a deny rule is refused), and the object cannot lift that denial with a
suppression annotation.

Example::

    internal-error: rule resources failed on this object (TypeError: ...); please report it

Fix: none in the manifest: report the message (and the object, if you can share it). Until
the rule is fixed, an exemption or ``action: off`` for the failing rule stops the finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.engine import INTERNAL_ERROR_RULE
from jobguard.core.model import Action, Category, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG000"
NAME = INTERNAL_ERROR_RULE
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN  # the policy's on_rule_error (deny or warn) decides
FIXES = False
SUMMARY = "A rule failed on this object (a jobguard bug); on_rule_error decides warn or deny"
REMEDIATION = (
    "Report the message; until the rule is fixed, exempt the object or turn the failing rule off."
)


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    """Never run: the engine makes this finding when another rule raises."""
    return iter(())
