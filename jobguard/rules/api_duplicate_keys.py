"""api-duplicate-keys: a key written twice in one YAML mapping; kubectl keeps the last value.

What: a mapping key that appears twice in the same mapping of a manifest (``backoffLimit: 3``
and later ``backoffLimit: 5`` under one ``spec``). kubectl turns YAML into JSON on the client
(sigs.k8s.io/yaml) and keeps the last value, so the API server never sees the repeat: the
object is created with the last value (``kubectl create --validate=strict`` and ``kubectl
apply`` against a v1.36 server, KUBECTL-YAML.md). Only YAML sent to the API server as YAML is
refused for it. The warning names the value kept and the path of the key.

Why: the first value is silently lost: whoever reads the manifest top-down believes it holds,
and a merge of two snippets often leaves one. Default action: warn (it is not an API error).

Example::

    spec:
      backoffLimit: 3
      backoffLimit: 5     # kubectl keeps 5; the 3 above is dropped

Fix: none automatic; delete the line that should not be there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from jobguard.core.kubernetes.schema import typed_path
from jobguard.core.model import Action, Category, Violation
from jobguard.core.paths import MISSING, lookup
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules.base import NoOptions

CODE = "JG031"
NAME = "api-duplicate-keys"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
# An admission request is JSON made by kubectl, which already dropped the repeats: no object
# reaching a webhook can have this finding, so the webhooks skip the rule (and export leaves it
# out), as for what the API server itself checks.
CHECKED_BY_APISERVER = True
DEFAULT_ACTION = Action.WARN
SUMMARY = "A key repeated in one YAML mapping (kubectl keeps the last value, drops the others)"
REMEDIATION = "Delete the repeated key that should not be there; kubectl uses the last one."
MAX_SHOWN = 60


def kept_value(value: object) -> str:
    """The value kubectl keeps, as JSON (what it sends), cut to :data:`MAX_SHOWN` characters."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    for raw in view.duplicate_keys:
        name = raw[-1]
        value = lookup(view.obj, raw)
        kept = f"the last value, {kept_value(value)}" if value is not MISSING else "the last value"
        yield Violation(
            typed_path(view.kind, raw),
            f'key "{name}" is repeated in this mapping: kubectl keeps {kept} and drops the '
            "earlier ones (the API server never sees them)",
        )
