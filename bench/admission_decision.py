#!/usr/bin/env python3
"""In-process CPU per webhook decision: ``admission.mutate`` and ``admission.validate`` on the
reviews bench/webhook.py sends (no HTTP, no TLS, no gunicorn), best of 5 rounds.

    python bench/admission_decision.py [--requests 1000]

It isolates what a change to the decision costs from the server around it (bench/webhook.py
measures the whole server, whose CPU per request is about six times this). To compare two
versions in one run, export each into a folder (``git archive REV | tar -x -C DIR``) and run this
file from each folder alternately with ``PYTHONPATH=DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMISSION = ROOT / "tests" / "fixtures" / "admission"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()

    from jobguard.policy import load_policy
    from jobguard.webhook import admission
    from jobguard.webhook.review import parse_review

    policy = load_policy([])
    reviews = {
        "/mutate": (admission.mutate, ADMISSION / "003-mutate-Job-CREATE-noname.json"),
        "/validate": (admission.validate, ADMISSION / "002-validate-Job-CREATE-pi.json"),
    }
    for path, (decide, file) in reviews.items():
        document = json.loads(file.read_text())
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            for _ in range(args.requests):
                decide(parse_review(document), policy)
            best = min(best, (time.process_time() - start) / args.requests * 1e6)
        print(f"{path:10} {best:6.1f} us CPU per decision")


if __name__ == "__main__":
    main()
