"""api-structure: wrong types and unknown fields, which the API server's decoder rejects.

What: every field of the Job or CronJob (metadata, spec, the whole pod template, status) is
checked against the batch/v1 schema generated from the Kubernetes OpenAPI document (see
``tools/gen_schema.py``): a value of the wrong type (``backoffLimit: "six"``, a label value
``1`` instead of ``"1"``), an integer out of its range, an unknown field (``ttlSecondsAfterFinish``,
``restartpolicy``, a field indented one level too deep or too shallow), and a field newer than
the target Kubernetes version (``--kubernetes-version``). Unknown fields get a did-you-mean
suggestion. Also: ``apiVersion`` must be ``batch/v1`` (``batch/v1beta1`` CronJobs are not served
since Kubernetes 1.25), and a ``batch`` document whose ``kind`` is ``Job`` or ``CronJob`` but for
case (``kind: job``) is an error with a did-you-mean (:func:`misspelt_kind`, reported by ``jobguard
lint`` as an input problem: no rule can judge an object of an unknown kind), not a document
skipped as "not a Job".

Why: the API server refuses the whole object (``Job in version "v1" cannot be handled as a Job:
strict decoding error: unknown field "spec.template.spec.restartpolicy"``), or, with lax field
validation (older kubectl, some GitOps tools), silently drops the field: a misspelt
``ttlSecondsAfterFinished`` then means finished Jobs are never cleaned up.

Example::

    spec:
      ttlSecondsAfterFinish: 600     # unknown field; did you mean "ttlSecondsAfterFinished"?
      backoffLimit: "six"            # cannot unmarshal string ... of type int32

Fix: an unknown field with a did-you-mean is offered the rename as a suggestion only (unsafe:
the field was ignored so far, renaming it changes what the object does); otherwise rename the
field or write the value with the right type (quote label values such as ``"1"`` or ``"true"``).
The defaulting rules write no default beside such a misspelling.

Not checked here: duplicate keys in one mapping (kubectl keeps the last value and the API
server never sees them: ``api-duplicate-keys`` warns).
"""

from __future__ import annotations

from collections.abc import Iterator

from jobguard.core.kubernetes.schema import structure_errors
from jobguard.core.model import Category, Fix, RemoveValue, SetValue, Violation
from jobguard.core.paths import FieldPath, lookup
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._typos import suggestion
from jobguard.rules.base import NoOptions

CODE = "JG002"
NAME = "api-structure"
CATEGORY = Category.API
FIXES = True  # the renames it offers are unsafe: the mutating webhook applies none
CHECKED_BY_APISERVER = True  # the validating webhook skips it
SUMMARY = "Wrong types and unknown fields (the API server's strict decoding rejects them)"
REMEDIATION = (
    "Correct the field name (see the did-you-mean hint) or write the value with the type the "
    "field takes; quote strings that YAML would read as numbers or booleans."
)

SERVED_API_VERSION = "batch/v1"
CRONJOB_V1BETA1_REMOVED = (1, 25)
_KINDS_BY_FOLDED_NAME = {"job": "Job", "cronjob": "CronJob"}


def misspelt_kind(obj: object) -> str | None:
    """The error for a ``batch`` Job or CronJob whose ``kind`` differs only in case, else None.

    kubectl looks the kind up in the API server's discovery, which is case-sensitive:
    ``no matches for kind "job" in version "batch/v1"`` (a v1.36 server rejects it).
    """
    if not isinstance(obj, dict):
        return None
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str):
        return None
    meant = _KINDS_BY_FOLDED_NAME.get(kind.lower())
    in_batch = api_version is None or (
        isinstance(api_version, str) and api_version.startswith("batch/")
    )
    if meant is None or meant == kind or not in_batch:
        return None
    return (
        f'kind: no matches for kind "{kind}" in version "{api_version or SERVED_API_VERSION}"; '
        f'did you mean "{meant}"? (kinds are case-sensitive)'
    )


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    api_version = view.obj.get("apiVersion")
    if api_version != SERVED_API_VERSION and not (
        api_version == "batch/v1beta1"
        and view.is_cronjob
        and subject.version < CRONJOB_V1BETA1_REMOVED
    ):
        if not api_version:
            message = f"apiVersion not set (kubectl refuses the object); {view.kind} is batch/v1"
        else:
            message = (
                f'no matches for kind "{view.kind}" in version "{api_version}": '
                f"{view.kind} is served as batch/v1"
            )
        yield Violation(("apiVersion",), message)
    for error in structure_errors(view.obj, subject.version):
        yield Violation(error.path, error.message, _rename(view, error.path, subject))


def _rename(view: JobView, path: FieldPath, subject: Subject) -> Fix | None:
    """Renaming an unknown field to its did-you-mean (the message's), when that field is not
    set already."""
    name, parent = path[-1] if path else None, path[:-1]
    if not isinstance(name, str) or any(not isinstance(s, (str, int)) for s in parent):
        return None
    mapping = lookup(view.obj, parent)
    if not isinstance(mapping, dict) or name not in mapping:
        return None
    guess = suggestion(view.kind, parent, name, mapping[name], subject.version)
    if guess is None or guess in mapping:
        return None
    return Fix(
        f'rename "{name}" to "{guess}"',
        (RemoveValue(path), SetValue((*parent, guess), mapping[name])),
        safe=False,
    )
