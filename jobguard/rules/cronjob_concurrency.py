"""cronjob-concurrency: a CronJob chooses what happens when a run outlasts its interval.

What: ``spec.concurrencyPolicy`` must be one of the policy's ``allowed`` values; with
``require_explicit`` (the default) it must also be written down rather than left to the API
default. Reported at ``spec.concurrencyPolicy``.

Why: an unset (or empty) concurrencyPolicy is defaulted to ``Allow``: the controller starts the
next run even while the previous one is still running. A job that slows down (a bigger input, a
slow dependency, a hung connection without ``activeDeadlineSeconds``) then piles up runs that
compete for the same data and for the cluster's capacity, each one slower than the last. The
alternatives have their own cost, which is why the author should choose:

* ``Forbid``: the new run is skipped while one is active (it counts as a missed run; see
  cronjob-starting-deadline). Nothing overlaps, but a run stuck forever blocks all later runs.
* ``Replace``: the running Job is deleted and the new one started. Only for work where the latest
  run makes the previous one pointless (a cache refresh), never for work that must finish.

Example::

    spec:
      schedule: "*/10 * * * *"
      # no concurrencyPolicy: a 25-minute run overlaps the next two

Fix: set the policy's ``default`` (``Forbid`` unless configured). The fix is a suggestion, never
applied automatically: Forbid makes a job that regularly outlasts its interval run less often than
scheduled, and Replace kills running work.

Admission: the webhook sees ``Allow`` where the manifest left the field out; it counts as not set
unless the user's manifest shows it (kubectl's last-applied configuration or a server-side
apply owning the field, ``Subject.user_set``).

Options:
  allowed           accepted values (default ``[Allow, Forbid, Replace]``; strict: Forbid, Replace)
  require_explicit  report an unset concurrencyPolicy even when Allow is allowed (default true)
  default           value the fix suggests (default ``Forbid``); must be in ``allowed``
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from jobguard.core.kubernetes.defaults import cronjob_api_default
from jobguard.core.model import Action, Category, Fix, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    CelCheck,
    CelContext,
    Translation,
    has_c,
    lit,
)

CODE = "JG113"
NAME = "cronjob-concurrency"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
KINDS = ("CronJob",)
SUMMARY = "CronJob concurrencyPolicy is set and allowed (unset means Allow: runs can pile up)"
REMEDIATION = (
    "Set spec.concurrencyPolicy: Forbid (skip a run while one is active) or Replace (replace a "
    "running Job); keep Allow only for runs that may safely overlap."
)

API_DEFAULT: str = cronjob_api_default(("concurrencyPolicy",))
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")

ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]


@dataclass(frozen=True)
class Options:
    allowed: tuple[ConcurrencyPolicy, ...] = ("Allow", "Forbid", "Replace")
    require_explicit: bool = True
    default: ConcurrencyPolicy = "Forbid"

    def validate(self) -> list[tuple[str, str]]:
        if not self.allowed:
            return [("allowed", "must name at least one concurrency policy")]
        if self.default not in self.allowed:
            return [("default", f"{self.default!r} is not in allowed {list(self.allowed)}")]
        return []


def user_set_value(view: JobView) -> str | None:
    """The concurrencyPolicy the user chose, or None when it is unset (empty included) or holds
    the API's default without the user having written it (``JobView.cronjob_user_set``)."""
    value = view.cronjob_spec.get("concurrencyPolicy")
    if not isinstance(value, str) or value == "" or not view.cronjob_user_set("concurrencyPolicy"):
        return None
    return value


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    raw = view.cronjob_spec.get("concurrencyPolicy")
    if raw is not None and not isinstance(raw, str):
        return  # a type error, reported by the structure rules
    path = ("spec", "concurrencyPolicy")
    fix = Fix(
        f"set concurrencyPolicy: {options.default}",
        (SetValue(path, options.default),),
        safe=False,
    )
    choices = (
        options.allowed[0]
        if len(options.allowed) == 1
        else ", ".join(options.allowed[:-1]) + f" or {options.allowed[-1]}"
    )
    value = user_set_value(view)
    if value is None:
        if options.require_explicit or API_DEFAULT not in options.allowed:
            yield Violation(
                path,
                f"concurrencyPolicy is not set; the API defaults to {API_DEFAULT}, so slow runs overlap "
                f"and pile up; choose {choices}",
                fix,
            )
        return
    if value in CONCURRENCY_POLICIES and value not in options.allowed:
        yield Violation(
            path, f"concurrencyPolicy {value!r} is not allowed by policy; use {choices}", fix
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    kind, checks = "CronJob", []
    cp, is_set = (
        "$c.concurrencyPolicy",
        f"({has_c('concurrencyPolicy')} && $c.concurrencyPolicy != '')",
    )
    allowed = list(o.allowed)
    choices = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
    if o.require_explicit or "Allow" not in allowed:
        checks.append(
            CelCheck(
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
            CelCheck(
                kind,
                "spec.concurrencyPolicy",
                f"({is_set} && {cp} in {lit(forbidden)})",
                f"concurrencyPolicy is not allowed by policy; use {choices}",
                f"'concurrencyPolicy ' + {cp} + ' is not allowed by policy; use {choices}'",
            )
        )
    return Translation(tuple(checks))
