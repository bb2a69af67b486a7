"""JSON Schemas of jobguard's file contracts, shipped in the package.

* ``report-v1.schema.json``: ``jobguard lint --format json`` (``"version": 1``).
* ``baseline-v1.schema.json``: the ``--write-baseline`` file.
* ``policy-v1.schema.json``: policy files, generated from the policy model
  (jobguard/policy/schema.py; ``jobguard schema policy`` prints it).

Tools that consume them can read them with :func:`load`, or from the repository.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

REPORT = "report-v1.schema.json"
BASELINE = "baseline-v1.schema.json"
POLICY = "policy-v1.schema.json"


def text(name: str) -> str:
    """The schema ``name`` (one of REPORT, BASELINE, POLICY) as the shipped file's text."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (one of REPORT, BASELINE, POLICY) as a dict."""
    schema: dict[str, Any] = json.loads(text(name))
    return schema
