"""api-selector: a Job's selector and the labels the API server generates.

What (Job only): unless ``manualSelector: true``, the API server generates the selector and the
pod template labels ``controller-uid``, ``job-name``, ``batch.kubernetes.io/controller-uid`` and
``batch.kubernetes.io/job-name`` (Kubernetes 1.27+), keeping labels that are already there. Then:

* a ``controller-uid`` label must equal the new Job's uid: a label copied from an existing Job
  (``kubectl get -o yaml``) never does (``spec.template.metadata.labels[controller-uid]``);
* a ``job-name`` label must equal the Job's name;
* a selector written without ``manualSelector: true`` is merged with the generated one, and any
  key of its own makes it ``selector not auto-generated`` (``spec.selector``);

With ``manualSelector: true`` nothing is generated: the selector is required (``{}`` is accepted
and selects every pod of the namespace), its ``matchLabels`` and ``matchExpressions`` must be
well-formed (``In``/``NotIn`` with values, ``Exists``/``DoesNotExist`` without) and it must match
the template's labels.

How the uid is known: see :mod:`jobguard.core.kubernetes.apiserver`. An object that already carries its
uid with matching generated labels and selector, and no ``resourceVersion`` (a validating
webhook's view of a create) is judged with that uid; anything else is a manifest to be created,
whose uid the API server has not assigned yet.

Why: HTTP 422 on create; the copied ``controller-uid`` label is the classic failure of
re-applying an exported Job.

Example::

    spec:
      selector: {matchLabels: {app: etl}}    # `selector` not auto-generated (no manualSelector)
      template:
        metadata:
          labels: {app: etl, controller-uid: 0b5c...}   # copied: must be the new uid

Fix: none automatic; delete ``spec.selector`` and the ``controller-uid``/``job-name`` labels and
let the API server generate them (or set ``manualSelector: true`` deliberately).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jobguard.core.kubernetes.apiserver import (
    CONTROLLER_UID_LABEL,
    GENERATED_LABELS,
    JOB_NAME_LABEL,
    PREFIXED_CONTROLLER_UID_LABEL,
    PREFIXED_JOB_NAME_LABEL,
    UID_LABELS,
)
from jobguard.core.kubernetes.names import label_value_errors, qualified_name_errors
from jobguard.core.kubernetes.selectors import parse_selector
from jobguard.core.model import Category, Violation
from jobguard.core.paths import FieldPath, Key
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._api import api_object, invalid, shown
from jobguard.rules.api_object_meta import label_errors
from jobguard.rules.base import NoOptions

CODE = "JG006"
NAME = "api-selector"
CATEGORY = Category.API
FIXES = False  # reports only: the mutating webhook skips it
CHECKED_BY_APISERVER = True  # the validating webhook skips it
KINDS = ("Job",)
SUMMARY = "Selector and generated labels the API server rejects (stale controller-uid, job-name, manual selectors)"
REMEDIATION = (
    "Remove spec.selector and the controller-uid/job-name template labels (the API server "
    "generates them), or set manualSelector: true with a selector matching the template labels."
)


def _generated_label_errors(
    labels: dict[str, Any], uid: str, own_uid: bool, name: str | None, prefixed: bool
) -> Iterator[tuple[str, str]]:
    order = [CONTROLLER_UID_LABEL, JOB_NAME_LABEL]
    if prefixed:
        order += [PREFIXED_CONTROLLER_UID_LABEL, PREFIXED_JOB_NAME_LABEL]
    for key in order:
        expected = uid if key in UID_LABELS else name
        if expected is None:
            continue  # generateName: the name is known only when the API server makes it
        if key not in labels:
            yield key, f"Required value: must be '{expected}'"
        elif labels[key] != expected:
            if key in UID_LABELS and not own_uid:
                yield (
                    key,
                    (
                        f"Invalid value: {shown(labels[key])}: must be the new Job's uid (the API server "
                        "assigns a fresh uid to every Job it creates, so a controller-uid label "
                        "copied from an existing Job never matches; remove it)"
                    ),
                )
            elif key in UID_LABELS:
                yield key, invalid(labels[key], f"must be '{expected}'")
            else:
                yield (
                    key,
                    invalid(labels[key], f"must be '{expected}'")
                    + (" (job-name is set by the API server to the Job's name; remove it)"),
                )


def selector_syntax_errors(selector: Any, at: FieldPath) -> Iterator[Violation]:
    """``ValidateLabelSelector``: matchLabels syntax and each matchExpressions requirement."""
    if not isinstance(selector, dict):
        return
    labels = label_errors(selector.get("matchLabels"))
    if labels:
        yield Violation((*at, "matchLabels"), "; ".join(labels))
    expressions = selector.get("matchExpressions")
    for index, expr in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expr, dict):
            continue
        here = (*at, "matchExpressions", index)
        operator, values = expr.get("operator"), expr.get("values")
        values = values if isinstance(values, list) else []
        if operator in ("In", "NotIn"):
            if not values:
                yield Violation(
                    (*here, "values"),
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                yield Violation(
                    (*here, "values"),
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
        else:
            yield Violation((*here, "operator"), invalid(operator, "not a valid selector operator"))
        key = expr.get("key")
        key_errors = qualified_name_errors(key if isinstance(key, str) else "")
        if key_errors:
            yield Violation((*here, "key"), invalid(key, "; ".join(key_errors)))
        for value_index, value in enumerate(values):
            if isinstance(value, str):
                value_errors = label_value_errors(value)
                if value_errors:
                    yield Violation(
                        (*here, "values", value_index), invalid(value, "; ".join(value_errors))
                    )


def check(view: JobView, options: NoOptions, subject: Subject) -> Iterator[Violation]:
    api = api_object(view, subject)
    sim = api.view
    spec = sim.job_spec
    if not spec:
        return
    template_meta = sim.template.get("metadata")
    labels = template_meta.get("labels") if isinstance(template_meta, dict) else None
    labels = labels if isinstance(labels, dict) else {}
    selector = spec.get("selector")
    manual = spec.get("manualSelector") is True
    if not manual and selector is not None:
        name = sim.name
        for key, message in _generated_label_errors(
            labels, api.uid, api.own_uid, name, api.require_prefixed_labels
        ):
            yield Violation(sim.at("template", "metadata", "labels", Key(key)), message)
        parsed = parse_selector(selector)
        generated = {k: labels[k] for k in GENERATED_LABELS if k in labels}
        if parsed is not None and not parsed.matches(generated):
            user_keys = sorted({r.key for r in parsed.requirements} - set(GENERATED_LABELS))
            yield Violation(
                sim.at("selector"),
                invalid(view.get("selector"), "`selector` not auto-generated")
                + (
                    f" (the selector has keys of its own: {', '.join(user_keys)}; without "
                    "manualSelector: true the API server generates the selector, so remove it)"
                    if user_keys
                    else ""
                ),
            )
    if manual and selector is None:
        yield Violation(
            sim.at("selector"),
            "Required value (manualSelector: true needs a selector matching the template labels)",
        )
        return
    if selector is None:
        return
    syntax = list(selector_syntax_errors(selector, sim.at("selector")))
    yield from syntax
    parsed = parse_selector(selector)
    if parsed is None or syntax:
        return  # the API server skips the match check for a selector it cannot build
    if not parsed.matches({k: v for k, v in labels.items() if isinstance(v, str)}):
        yield Violation(
            sim.at("template", "metadata", "labels"),
            invalid(labels, "`selector` does not match template `labels`"),
        )
