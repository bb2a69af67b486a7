#!/usr/bin/env python3
"""Benchmark custom rules (CEL on the C++ evaluator): what N custom rules add to a /validate
request and to `jobguard lint`, against the same policy without them, in one run.

    python bench/custom_rules.py [--requests 2000] [--files 400]

* /validate: CPU time per AdmissionReview of the webhook's validate() (parsing done, the
  engine and the answer included) with 0, 10 and 50 custom rules over the same built-in
  policy, on a CREATE of a Job and an UPDATE of a CronJob; the per-rule cost is
  (t[N] - t[0]) / N. Target: under 10 us per rule per request.
* lint: files/s of lint_bytes (the linter in process) over a generated corpus, with 0 and 10
  custom rules.

Every custom rule is a realistic one (labels, images, resources, a comprehension over the
containers, a match condition); the rules differ in their parameters so none is a copy.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobguard.lint.linter import lint_bytes  # noqa: E402
from jobguard.policy import load_policy  # noqa: E402
from jobguard.policy.model import Policy  # noqa: E402
from jobguard.webhook.admission import validate  # noqa: E402
from jobguard.webhook.review import parse_review  # noqa: E402

TEMPLATES = [
    {
        "variables": [{"name": "labels", "expression": "object.metadata.?labels.orValue({})"}],
        "validations": [
            {"expression": "'{p}' in variables.labels", "message": "needs a {p} label"}
        ],
    },
    {
        "validations": [
            {
                "expression": "variables.job.template.spec.containers.all(c, "
                "c.image.startsWith('registry-{p}.corp/') || c.image.startsWith('ghcr.io/'))",
                "messageExpression": "'images from the registry, not ' + "
                "variables.job.template.spec.containers.map(c, c.image).join(', ')",
            }
        ],
    },
    {
        "match_conditions": [
            {"name": "not-system", "expression": "!request.namespace.startsWith('kube-{p}')"}
        ],
        "validations": [
            {
                "expression": "variables.job.template.spec.containers.all(c, "
                "has(c.resources) && has(c.resources.limits) && 'memory' in c.resources.limits)",
                "message": "memory limits ({p})",
            }
        ],
    },
    {
        "validations": [
            {
                "expression": "!has(variables.job.activeDeadlineSeconds) || "
                "variables.job.activeDeadlineSeconds <= {n}",
                "message": "deadline at most {n}",
            }
        ],
    },
    {
        "validations": [
            {
                "expression": "object.metadata.name.matches('^[a-z0-9-]{{1,{n}}}$')",
                "message": "a short name ({p})",
            }
        ],
    },
]


def custom_rules(count: int) -> list[dict[str, Any]]:
    rules = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        text = yaml.safe_dump(template).replace("{p}", f"x{i}").replace("{n}", str(1000 + i))
        rule = yaml.safe_load(text.replace("{{", "{").replace("}}", "}"))
        rules.append({"name": f"custom-{i}", "action": "warn", **rule})
    return rules


def policy_with(directory: Path, count: int) -> Policy:
    path = directory / f"custom-{count}.yaml"
    doc: dict[str, Any] = {
        "apiVersion": "jobguard.dev/v1",
        "kind": "Policy",
        "extends": ["jobguard:default"],
    }
    if count:
        doc["custom_rules"] = custom_rules(count)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_policy([str(path)])


def job(name: str, namespace: str = "batch") -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": {"team": "data"}},
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 3600,
            "activeDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": f"c{i}",
                            "image": "ghcr.io/acme/etl:2.4.1",
                            "args": ["--day", "2026-12-07"],
                            "env": [{"name": f"E{j}", "value": str(j)} for j in range(6)],
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "1Gi"},
                                "limits": {"memory": "1Gi"},
                            },
                        }
                        for i in range(2)
                    ],
                },
            },
        },
    }


def review(obj: dict[str, Any], operation: str, old: dict[str, Any] | None) -> Any:
    body = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b5b4b9a0-0000-4000-8000-000000000000",
            "kind": {"group": "batch", "version": "v1", "kind": obj["kind"]},
            "resource": {"group": "batch", "version": "v1", "resource": obj["kind"].lower() + "s"},
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "alice"},
            "object": obj,
            "oldObject": old,
        },
    }
    return parse_review(body)


def cpu_per_request(policy: Policy, reviews: list[Any], requests: int) -> float:
    for r in reviews:  # warm: caches, the evaluator's first calls
        validate(r, policy)
    samples = []
    for _ in range(5):
        start = time.process_time()
        for i in range(requests // 5):
            validate(reviews[i % len(reviews)], policy)
        samples.append((time.process_time() - start) / (requests // 5))
    return statistics.median(samples)


def lint_rate(policy: Policy, files: list[bytes]) -> float:
    start = time.perf_counter()
    for i, raw in enumerate(files):
        lint_bytes(f"f{i}.yaml", raw, policy)
    return len(files) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policies = {n: policy_with(Path(tmp), n) for n in (0, 10, 50)}
    new = job("etl-1")
    cron_old: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "batch", "labels": {"team": "data"}},
        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": job("x")["spec"]}},
    }
    cron_new = copy.deepcopy(cron_old)
    cron_new["spec"]["schedule"] = "0 3 * * *"
    reviews = [review(new, "CREATE", None), review(cron_new, "UPDATE", cron_old)]
    print(
        f"/validate CPU per request (median of 5 x {args.requests // 5}, Job CREATE + CronJob UPDATE):"
    )
    base = 0.0
    for count, policy in policies.items():
        t = cpu_per_request(policy, reviews, args.requests)
        if count == 0:
            base = t
            print(f"  {count:>2} custom rules: {t * 1e6:8.1f} us")
        else:
            per_rule = (t - base) / count * 1e6
            print(f"  {count:>2} custom rules: {t * 1e6:8.1f} us  (+{per_rule:.1f} us per rule)")
    files = [yaml.safe_dump(job(f"etl-{i}")).encode() for i in range(args.files)]
    print(f"lint in process, {args.files} one-Job files:")
    for count in (0, 10):
        print(f"  {count:>2} custom rules: {lint_rate(policies[count], files):8.0f} files/s")


if __name__ == "__main__":
    main()
