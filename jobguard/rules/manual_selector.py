"""manual-selector: a Job must let the API server generate its pod selector.

What: ``spec.manualSelector: true`` is denied unless the Job is exempt (``exempt_namespaces``,
``exempt_label``, or an exemption in the policy file; the object's own suppression annotation
never lifts this rule). Whether
exempt or not, a Job with a manual selector is also checked for:

* an empty selector (``selector: {}``), reported at ``spec.selector``: it matches every pod in the
  namespace;
* a non-unique selector, reported at ``spec.selector``: it must pin (``matchLabels`` or an ``In``
  expression) at least one of ``unique_keys``, by default the labels that identify one Job:
  ``batch.kubernetes.io/controller-uid``, ``controller-uid`` (the Job's uid, unique forever),
  ``batch.kubernetes.io/job-name`` and ``job-name`` (unique among the namespace's live Jobs).
  A selector such as ``app: report`` also matches the pods of the Deployment, the CronJob's other
  Jobs and anything else labelled ``app: report``;
* a selector that does not match the template's labels, reported at
  ``spec.template.metadata.labels`` (the API server's own path for this error).

Only Jobs: a CronJob's job template may not carry a selector or ``manualSelector: true`` at all,
which the API rules report.

Why: the Job controller counts, adopts and deletes every pod its selector matches. With a
selector that matches other pods it counts their successes as its completions, deletes them
when it has too many active pods, and kills them when the Job is deleted or fails. The API server
accepts ``manualSelector: true`` with ``selector: {}`` (every pod in the namespace). The manual
selector exists for one rare task, handing running pods over from an old Job to a new one
(``batch.kubernetes.io/controller-uid: <old uid>``), and that should be reviewed.

Example::

    spec:
      manualSelector: true
      selector:
        matchLabels: {app: report}       # also matches every other pod labelled app=report
      template:
        metadata:
          labels: {app: report}

Fix: remove ``manualSelector`` and ``selector`` and let the API server generate a selector on
``batch.kubernetes.io/controller-uid`` (offered as a suggestion, never applied: it changes which
pods the Job owns, and ``spec.selector`` is immutable after creation). For a reviewed handover, pin
the old Job's ``batch.kubernetes.io/controller-uid`` and mark the Job exempt.

Admission: on UPDATE of a Job that already had ``manualSelector: true`` nothing is reported: the
selector and template labels are immutable, the update could not fix them, and denying it would
only block suspending or scaling the running Job.

Options:
  exempt_namespaces  namespace globs where manual selectors are allowed (default none)
  exempt_label       Job label marking a reviewed exemption, ``key`` or ``key=value`` (default
                     none)
  unique_keys        label keys that identify one Job (default the four above; replaces the list)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from jobguard.core.kubernetes.selectors import LabelSelector, parse_selector
from jobguard.core.model import Category, Fix, RemoveValue, Violation
from jobguard.core.paths import Key, lookup
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    CelCheck,
    CelContext,
    Translation,
    all_of,
    any_of,
    has,
    lit,
    matches_any,
    path,
)

CODE = "JG110"
NAME = "manual-selector"
CATEGORY = Category.POLICY
# Never silenced by the object itself (a Job that may adopt and delete other workloads' pods):
# a reviewed handover gets an exemption in the policy file, or exempt_namespaces.
SUPPRESSIBLE = False
KINDS = ("Job",)
SUMMARY = "No manualSelector unless exempt; a manual selector must be non-empty, unique and match"
REMEDIATION = (
    "Remove spec.manualSelector and spec.selector so the API server generates a unique selector; "
    "for a reviewed pod handover pin batch.kubernetes.io/controller-uid and mark the Job exempt."
)

JOB_IDENTITY_KEYS = (
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "job-name",
)


@dataclass(frozen=True)
class Options:
    exempt_namespaces: tuple[str, ...] = ()
    exempt_label: str | None = None
    unique_keys: tuple[str, ...] = JOB_IDENTITY_KEYS

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        if self.exempt_label is not None and not self.exempt_label.partition("=")[0]:
            problems.append(("exempt_label", "must be a label key or key=value"))
        if not self.unique_keys:
            problems.append(("unique_keys", "must name at least one label key"))
        return problems


def is_exempt(view: JobView, options: Options) -> bool:
    namespace = view.namespace
    if namespace is not None and any(fnmatchcase(namespace, g) for g in options.exempt_namespaces):
        return True
    if options.exempt_label is None:
        return False
    key, has_value, value = options.exempt_label.partition("=")
    if key not in view.labels:
        return False
    return not has_value or view.labels[key] == value


def is_unique(selector: LabelSelector, unique_keys: tuple[str, ...]) -> bool:
    return any(selector.pins(key) for key in unique_keys)


def _grandfathered(subject: Subject) -> bool:
    """An UPDATE of a Job created with a manual selector (immutable, nothing to fix now)."""
    if not subject.is_update or subject.old_object is None:
        return False
    return lookup(subject.old_object, ("spec", "manualSelector")) is True


def _generate_selector_fix(view: JobView) -> Fix:
    """Drop the manual selector and the identity labels the API server will write itself."""
    labels_path = view.at("template", "metadata", "labels")
    edits = [RemoveValue(view.at("manualSelector")), RemoveValue(view.at("selector"))]
    edits += [
        RemoveValue((*labels_path, Key(key)))
        for key in JOB_IDENTITY_KEYS
        if key in view.template_labels
    ]
    return Fix("let the API server generate the selector", tuple(edits), safe=False)


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    if view.get("manualSelector") is not True or _grandfathered(subject):
        return
    if not is_exempt(view, options):
        yield Violation(
            view.at("manualSelector"),
            "manualSelector: true is not allowed; let the API server generate the selector",
            None if subject.is_update else _generate_selector_fix(view),
        )
    selector = parse_selector(view.get("selector"))
    if selector is None:
        return  # missing or malformed: the API server rejects it, the API rules report it
    if selector.is_empty:
        yield Violation(
            view.at("selector"),
            "the empty selector matches every pod in the namespace; the Job would adopt and "
            "delete other workloads' pods",
        )
        return
    if not is_unique(selector, options.unique_keys):
        yield Violation(
            view.at("selector"),
            "the selector can match other workloads' pods; pin one of "
            + ", ".join(options.unique_keys),
        )
    if not selector.matches(view.template_labels):
        yield Violation(
            view.at("template", "metadata", "labels"),
            "`selector` does not match template `labels`",
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


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


def cel(o: Options, ctx: CelContext) -> Translation:
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
        CelCheck(
            kind,
            path(kind, "manualSelector"),
            all_of([active, f"!{any_of(exempt)}" if exempt else ""]),
            "manualSelector: true is not allowed; let the API server generate the selector",
        ),
        CelCheck(
            kind,
            path(kind, "selector"),
            all_of([active, has("selector"), empty]),
            "the empty selector matches every pod in the namespace; the Job would adopt and "
            "delete other workloads' pods",
        ),
        CelCheck(
            kind,
            path(kind, "selector"),
            all_of([active, has("selector"), f"!{empty}", f"!{pins}"]),
            "the selector can match other workloads' pods; pin one of " + ", ".join(o.unique_keys),
        ),
        CelCheck(
            kind,
            path(kind, "template.metadata.labels"),
            all_of([active, has("selector"), f"!{empty}", f"!{_selector_matches(sel, labels)}"]),
            "`selector` does not match template `labels`",
        ),
    ]
    return Translation(tuple(checks))
