#!/usr/bin/env python3
"""Benchmark the CronJob policy rules per object, beside a baseline rule, in one run.

    python bench/cronjob_rules.py [--objects 2000] [--repeat 5]

Evaluates the same CronJobs (typical schedules, plus the rare ones that need the cross-day interval
search, e.g. ``0 0,23 * * 1``) through the real engine with:

* baseline: restart-policy alone (a rule that reads one field);
* each CronJob rule alone (cronjob-schedule, -concurrency, -starting-deadline, -history-limits);
* all four together.

Prints microseconds per object (best of ``--repeat``); parsed schedules are cached, so this is the
steady state of a lint run or a webhook. Then the first sight of each worst-case schedule with
caches cleared and a one-day minimum interval, which forces the cross-day search.

Targets: the four rules together add less than 150 us per CronJob in the steady state, and a
never-seen worst-case schedule costs less than 10 ms (the webhook's budget per request is a
few milliseconds on average, with the API server's timeout at seconds).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from jobguard.core.engine import evaluate
from jobguard.core.kubernetes import cron
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.policy import Policy, load_policy
from jobguard.rules import REGISTRY

TYPICAL = ["0 3 * * *", "*/15 * * * *", "@hourly", "30 2 * * 1-5", "0 */6 * * *", "* * * * *"]
WORST = ["0 0,23 * * 1", "0 0 1 * *", "0 0 29 2 *", "55 23 * * 0,6"]
CRON_RULES = [
    "cronjob-schedule",
    "cronjob-concurrency",
    "cronjob-starting-deadline",
    "cronjob-history-limits",
]


def cronjob(schedule: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "team-a"},
        "spec": {
            "schedule": schedule,
            "successfulJobsHistoryLimit": 5,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox:1.36"}],
                        }
                    }
                }
            },
        },
    }


def per_object_us(views: list[JobView], rule_names: list[str], repeat: int) -> float:
    policy = load_policy(["jobguard:strict"])  # every check switched on
    rules = REGISTRY.named(*rule_names)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for view in views:
            evaluate(Subject.of(view), policy, rules=rules)
        best = min(best, time.perf_counter() - start)
    return best / len(views) * 1e6


def first_sight_ms(schedule: str, policy: Policy) -> float:
    """One cronjob-schedule evaluation of a schedule never seen before (caches cleared)."""
    cron._parse_cached.cache_clear()
    cron._min_day_gap.cache_clear()
    view = JobView(cronjob(schedule))
    start = time.perf_counter()
    evaluate(Subject.of(view), policy, rules=REGISTRY.named("cronjob-schedule"))
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for label, schedules in (("typical", TYPICAL), ("worst", WORST)):
        views = [JobView(cronjob(schedules[i % len(schedules)])) for i in range(args.objects)]
        print(f"{label} schedules ({', '.join(schedules)}), {args.objects} CronJobs")
        print(f"  {'rules':40} {'us/object':>10}")
        baseline = per_object_us(views, ["restart-policy"], args.repeat)
        print(f"  {'baseline: restart-policy':40} {baseline:10.1f}")
        for name in CRON_RULES:
            print(f"  {name:40} {per_object_us(views, [name], args.repeat):10.1f}")
        together = per_object_us(views, CRON_RULES, args.repeat)
        print(f"  {'all four CronJob rules':40} {together:10.1f}")
        print(f"  {'added over baseline':40} {together - baseline:10.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.yaml"
        path.write_text(
            "apiVersion: jobguard.dev/v1\nkind: Policy\nrules:\n"
            "  cronjob-schedule: {min_interval_minutes: 1440}\n"
        )
        day = load_policy([str(path)])
        print("first sight of a schedule, caches cleared, minimum interval one day")
        print(f"  {'schedule':40} {'ms (best)':>10}")
        for schedule in WORST:
            best = min(first_sight_ms(schedule, day) for _ in range(args.repeat))
            print(f"  {schedule:40} {best:10.2f}")


if __name__ == "__main__":
    main()
