"""Binding the rules' CEL templates (:mod:`jobguard.rules._cel`) to one Job form and one root.

Expressions are written against placeholders so one template serves ``object`` and
``oldObject`` and both Job forms: ``$o`` is the object, ``$s`` the Job spec (``$o.spec`` for a
Job, ``$o.spec.jobTemplate.spec`` for a CronJob) and ``$c`` the CronJob spec.
"""

from __future__ import annotations

import re

# A placeholder is $ and one letter ending a word (a regex's "$" anchor never is).
_PLACEHOLDER = re.compile(r"\$([osc])\b")

SPEC_ROOTS = {"Job": "$o.spec", "CronJob": "$o.spec.jobTemplate.spec"}


def bind(template: str, kind: str, root: str = "object") -> str:
    """The expression for one Job form and one root (``object`` or ``oldObject``)."""
    spec = SPEC_ROOTS[kind].replace("$o", root)
    roots = {"o": root, "s": spec, "c": f"{root}.spec"}
    return _PLACEHOLDER.sub(lambda m: roots[m.group(1)], template)
