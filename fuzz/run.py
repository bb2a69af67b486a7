"""Fuzz one of jobguard's parsing entry points with atheris (coverage-guided, libFuzzer).

    pip install atheris
    python fuzz/run.py TARGET [libFuzzer options, e.g. -max_total_time=120]

TARGET is one of source, lint, policy, admission, cron, quantity (see fuzz/targets.py). The
corpus starts from the repository's own fixtures (manifests, policies, admission requests);
crashes are written by libFuzzer as ``crash-*`` files in the working directory: minimise one,
save it under ``tests/fixtures/fuzz/<target>/`` and fix the bug; the regression test replays it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = {
    "source": ["tests/fixtures/rules/*/*.yaml", "examples/*/*.yaml"],
    "lint": ["tests/fixtures/rules/*/*.yaml", "examples/*/*.yaml"],
    "policy": ["policies/*.yaml", "tests/fixtures/policies/*.yaml"],
    "admission": ["tests/fixtures/admission/*.json"],
    "cron": [],
    "quantity": [],
}
#: Small inputs the structured targets start from.
WORDS = {
    "cron": ["*/5 * * * *", "0 3 * * 1-5", "@every 1h30m", "CRON_TZ=UTC 0 0 1 * *", "@weekly"],
    "quantity": ["500m", "1.5Gi", "2e3", "+.5", "0.1Ki", "-1"],
}


def seed_corpus(target: str) -> str:
    corpus = tempfile.mkdtemp(prefix=f"jobguard-fuzz-{target}-")
    n = 0
    for pattern in SEEDS[target]:
        for path in sorted(ROOT.glob(pattern)):
            n += 1
            Path(corpus, f"seed-{n}").write_bytes(path.read_bytes())
    for word in WORDS.get(target, []):
        n += 1
        Path(corpus, f"seed-{n}").write_text(word)
    return corpus


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SEEDS:
        sys.exit(__doc__)
    target = sys.argv[1]
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with atheris.instrument_imports(include=["jobguard"]):
        from fuzz.targets import TARGETS
    corpus = seed_corpus(target)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    atheris.Setup([sys.argv[0], *sys.argv[2:], corpus], TARGETS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
