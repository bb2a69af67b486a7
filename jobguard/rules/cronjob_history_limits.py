"""cronjob-history-limits: a CronJob keeps a bounded history, including its failures.

What: ``spec.successfulJobsHistoryLimit`` at most ``max_successful`` and
``spec.failedJobsHistoryLimit`` between ``min_failed`` and ``max_failed``. Unset limits are judged
by the API defaults (3 and 1), so only a policy stricter than those defaults reports them. On
admission a limit holding the API default counts as unset unless the user's manifest shows it
(kubectl's last-applied configuration or a server-side apply, ``Subject.user_set``). Reported at ``spec.successfulJobsHistoryLimit`` /
``spec.failedJobsHistoryLimit``.

Why: the controller keeps that many finished Jobs, and each keeps its pods. High limits on a
frequent schedule leave hundreds of Jobs and pods in etcd, in every ``kubectl get pods`` and in
every controller's informer cache. A failed limit of 0 is worse in the other direction: each
failed Job is deleted with its pods as soon as it finishes, so there are no logs, no events and,
for alerting on failed Jobs, no failure to see. (A ``ttlSecondsAfterFinished`` in the job template
deletes finished Jobs regardless of these limits; see ttl-after-finished.)

Example::

    spec:
      successfulJobsHistoryLimit: 100   # 100 Jobs and their pods kept
      failedJobsHistoryLimit: 0         # every failure disappears at once

Fix: set the limit to the policy's bound. Only an unset failed limit below ``min_failed`` is
given ``min_failed`` automatically: the policy's default where the user chose nothing (it keeps
more and deletes nothing). Every other fix is only suggested: raising a failed limit the user
wrote overrides a value they chose, and lowering a limit makes the controller delete the Jobs
above the new limit on its next sync.

Options:
  max_successful  highest successfulJobsHistoryLimit (default 10; null: no maximum)
  max_failed      highest failedJobsHistoryLimit (default 10; null: no maximum)
  min_failed      lowest failedJobsHistoryLimit (default 1; 0 allows hiding failures)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jobguard.core.kubernetes.defaults import cronjob_api_default
from jobguard.core.model import Action, Category, Fix, SetValue, Violation
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.rules._cel import (
    CelCheck,
    CelContext,
    CelDefault,
    Translation,
    all_of,
    cronjob_user_set,
    has_c,
)
from jobguard.rules._typos import near_miss_key

CODE = "JG115"
NAME = "cronjob-history-limits"
CATEGORY = Category.POLICY
DEFAULT_ACTION = Action.WARN
KINDS = ("CronJob",)
SUMMARY = "CronJob history limits are bounded and keep at least one failed Job"
REMEDIATION = (
    "Set spec.successfulJobsHistoryLimit and spec.failedJobsHistoryLimit within the policy's "
    "bounds (failedJobsHistoryLimit at least 1 so failures stay visible)."
)


@dataclass(frozen=True)
class Options:
    max_successful: int | None = 10
    max_failed: int | None = 10
    min_failed: int = 1

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        for name in ("max_successful", "max_failed", "min_failed"):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append((name, "must be 0 or more"))
        if self.max_failed is not None and self.min_failed > self.max_failed:
            problems.append(("min_failed", f"must not exceed max_failed ({self.max_failed})"))
        return problems


@dataclass(frozen=True)
class Limit:
    """A history limit as the rule judges it."""

    kept: int  # the written value, or the API default when the user set none
    shown: str  # how the message names it
    user_set: bool


def _limit(view: JobView, field: str) -> Limit | None:
    """The limit in force, None on a type error or a negative value (the API rules report
    those)."""
    if not view.cronjob_user_set(field):
        default = cronjob_api_default((field,), view.cronjob_spec, view.kubernetes_version)
        return Limit(default, f"{field} is not set (the API default is {default})", False)
    value = view.cronjob_spec.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return Limit(value, f"{field} is {value}", True)


def _beside_typo(view: JobView, field: str) -> bool:
    return near_miss_key(view, ("spec", field)) is not None


def _set(field: str, value: int, *, safe: bool) -> Fix:
    return Fix(f"set {field}: {value}", (SetValue(("spec", field), value),), safe=safe)


def check(view: JobView, options: Options, subject: Subject) -> Iterator[Violation]:
    field = "successfulJobsHistoryLimit"
    limit = _limit(view, field)
    if (
        limit is not None
        and options.max_successful is not None
        and limit.kept > options.max_successful
    ):
        yield Violation(
            ("spec", field),
            f"{limit.shown}, above the policy's maximum {options.max_successful}; finished Jobs "
            "and their pods pile up",
            _set(field, options.max_successful, safe=False),
        )
    field = "failedJobsHistoryLimit"
    limit = _limit(view, field)
    if limit is None:
        return
    if limit.kept < options.min_failed:
        effect = (
            "every failed Job is deleted at once and failures go unseen"
            if limit.kept == 0
            else "failed Jobs are deleted before anyone looks at them"
        )
        yield Violation(
            ("spec", field),
            f"{limit.shown}, below the policy's minimum {options.min_failed}; {effect}",
            # A limit the user wrote is their choice: raising it is only suggested; so is a
            # default beside a misspelling of the field (it would replace the value meant).
            _set(
                field, options.min_failed, safe=not limit.user_set and not _beside_typo(view, field)
            ),
        )
    elif options.max_failed is not None and limit.kept > options.max_failed:
        yield Violation(
            ("spec", field),
            f"{limit.shown}, above the policy's maximum {options.max_failed}; failed Jobs and "
            "their pods pile up",
            _set(field, options.max_failed, safe=False),
        )


# -- the rule in CEL, for `jobguard export` (the builders: jobguard.rules._cel) --------------


def cel(o: Options, ctx: CelContext) -> Translation:
    kind, checks, defaults = "CronJob", [], []

    def kept(field: str) -> str:
        return (
            f"({has_c(field)} ? $c.{field} : {cronjob_api_default((field,), version=ctx.version)})"
        )

    succ = kept("successfulJobsHistoryLimit")
    if o.max_successful is not None:
        checks.append(
            CelCheck(
                kind,
                "spec.successfulJobsHistoryLimit",
                f"{succ} > {o.max_successful}",
                f"successfulJobsHistoryLimit is above the policy's maximum {o.max_successful}; "
                "finished Jobs and their pods pile up",
                f"'successfulJobsHistoryLimit ' + string({succ}) + ' is above the policy\\'s "
                f"maximum {o.max_successful}'",
            )
        )
    failed = kept("failedJobsHistoryLimit")
    low = f"({failed} >= 0 && {failed} < {o.min_failed})"
    checks.append(
        CelCheck(
            kind,
            "spec.failedJobsHistoryLimit",
            low,
            f"failedJobsHistoryLimit is below the policy's minimum {o.min_failed}; failures go "
            "unseen",
            f"'failedJobsHistoryLimit ' + string({failed}) + ' is below the policy\\'s minimum "
            f"{o.min_failed}'",
        )
    )
    # Raising a limit the user wrote is a suggestion only (unsafe in the engine): /mutate fills
    # in min_failed only where the limit holds no value of the user's.
    unset = f"!{cronjob_user_set('failedJobsHistoryLimit', ctx.version)}"
    defaults.append(
        CelDefault(kind, "/spec/failedJobsHistoryLimit", all_of([low, unset]), str(o.min_failed))
    )
    if o.max_failed is not None:
        checks.append(
            CelCheck(
                kind,
                "spec.failedJobsHistoryLimit",
                f"(!{low} && {failed} > {o.max_failed})",
                f"failedJobsHistoryLimit is above the policy's maximum {o.max_failed}; failed "
                "Jobs and their pods pile up",
                f"'failedJobsHistoryLimit ' + string({failed}) + ' is above the policy\\'s "
                f"maximum {o.max_failed}'",
            )
        )
    return Translation(tuple(checks), tuple(defaults))
