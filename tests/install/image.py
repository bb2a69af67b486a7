"""Building and running the jobguard image with buildah, offline, without a container daemon.

The base is the Dockerfile's default (python:3.11-slim-bookworm) when a registry is reachable,
otherwise a Debian bookworm with python3 and python3-venv made by mmdebstrap from the Debian
mirror and imported with buildah. The base tarball and the wheelhouse are cached between runs
(JOBGUARD_TEST_CACHE, default ~/.cache/jobguard-tests) so that a CI run builds the image in a
couple of minutes; buildah's own storage is per run (vfs driver, in the test's temporary folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE = "docker.io/library/python:3.11-slim-bookworm"
#: What the made base holds: python3 with its venv module (pip comes with it), passwd for the
#: Dockerfile's groupadd/useradd, and libstdc++6 for C++ extensions (cel-expr-python), which
#: every Debian image with apt has. Documentation is left out to keep the tarball small.
MMDEBSTRAP_ARGS = (
    "--variant=essential",
    "--include=python3,python3-venv,passwd,libstdc++6",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "bookworm",
)
DEBIAN_MIRROR = os.environ.get("JOBGUARD_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
#: The files the Dockerfile copies (the build context; .dockerignore allows the same).
#: What the wheelhouse holds wheels for (with every dependency): the server extra's
#: requirements and the build backend that builds jobguard inside the image.
WHEELS = (f"{ROOT}[server]", "hatchling")
CONTEXT_FILES = (
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "README.md",
    "jobguard",
    "policies",
)


def cache_dir() -> Path:
    configured = os.environ.get("JOBGUARD_TEST_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "jobguard-tests"
    base.mkdir(parents=True, exist_ok=True)
    return base


def missing_tools() -> str | None:
    """Why the image cannot be built here, or None."""
    if shutil.which("buildah") is None:
        return "buildah is not installed (apt-get install buildah; .ci/run installs it in CI)"
    if os.geteuid() != 0:
        return "buildah --isolation chroot with the vfs driver needs root here"
    return None


@dataclass(frozen=True)
class Buildah:
    """buildah with its own storage, so that tests never touch the machine's images."""

    storage: Path

    def command(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self.storage / "root"),
            "--runroot",
            str(self.storage / "run"),
            "--storage-driver",
            "vfs",
            *args,
        ]

    def run(self, *args: str, timeout: float = 900) -> str:
        result = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"buildah {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return result.stdout.strip()

    def clean(self) -> None:
        for args in (("rm", "--all"), ("rmi", "--all", "--force")):
            subprocess.run(self.command(*args), capture_output=True, timeout=300, check=False)
        shutil.rmtree(self.storage, ignore_errors=True)


def made_base_tarball() -> Path:
    """The mmdebstrap base as a tarball, made once per package list and cached."""
    key = hashlib.sha256(repr((MMDEBSTRAP_ARGS, DEBIAN_MIRROR)).encode()).hexdigest()[:16]
    tarball = cache_dir() / f"bookworm-python3-{key}.tar"
    if tarball.exists():
        return tarball
    if shutil.which("mmdebstrap") is None:
        raise FileNotFoundError(
            "mmdebstrap is not installed and the default base cannot be pulled "
            "(apt-get install mmdebstrap; .ci/run installs it in CI)"
        )
    # A name of its own, so that two runs filling the cache at once do not mix their files.
    partial = cache_dir() / f"{tarball.stem}.{os.getpid()}.partial.tar"
    result = subprocess.run(
        ["mmdebstrap", *MMDEBSTRAP_ARGS, str(partial), DEBIAN_MIRROR],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"mmdebstrap failed:\n{result.stderr[-4000:]}")
    partial.replace(tarball)  # atomic; the same bytes if another run finished first
    return tarball


def base_image(buildah: Buildah) -> str:
    """The image to build on: the Dockerfile's default when it can be pulled, else the made one."""
    if os.environ.get("JOBGUARD_TEST_BASE") != "mmdebstrap":
        try:
            buildah.run("pull", "--quiet", DEFAULT_BASE, timeout=120)
            return DEFAULT_BASE
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # no registry reachable (CI reaches package mirrors only)
    tarball = made_base_tarball()
    container = buildah.run("from", "scratch")
    buildah.run("add", container, str(tarball), "/")
    name = "localhost/jobguard-test-base:bookworm"
    buildah.run("commit", "--quiet", container, name)
    buildah.run("rm", container)
    return name


def wheelhouse() -> Path:
    """Wheels of every dependency of jobguard[server] plus the build backend, built outside the
    image (cached per pyproject.toml); jobguard itself is built inside, from the source."""
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    wheels = cache_dir() / f"wheelhouse-{key}"
    if wheels.is_dir():
        return wheels
    partial = Path(tempfile.mkdtemp(prefix=wheels.name + ".", dir=cache_dir()))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial), *WHEELS],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise RuntimeError(f"pip wheel failed:\n{result.stderr[-4000:]}")
    for own in partial.glob("jobguard-*.whl"):
        own.unlink()
    try:
        partial.rename(wheels)
    except OSError:  # another run made it meanwhile: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    return wheels


def build_context(where: Path) -> Path:
    """The files the Dockerfile copies, plus the wheelhouse, in a folder of their own."""
    context = where / "context"
    context.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CONTEXT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=ignore)
        else:
            shutil.copy2(source, context / name)
    shutil.copytree(wheelhouse(), context / "wheelhouse")
    return context


@dataclass(frozen=True)
class BuiltImage:
    name: str
    base: str
    digest: str
    size_bytes: int
    build_seconds: float
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    user: str


def build(buildah: Buildah, where: Path, base: str | None = None, tag: str = "test") -> BuiltImage:
    """Build the Dockerfile offline and reproducibly (fixed timestamps, SOURCE_DATE_EPOCH)."""
    base = base or base_image(buildah)
    context = where / "context"
    if not context.exists():
        build_context(where)
    name = f"localhost/jobguard:{tag}"
    started = time.monotonic()
    buildah.run(
        "bud",
        "--isolation",
        "chroot",
        "--timestamp",
        "0",
        "--build-arg",
        "SOURCE_DATE_EPOCH=0",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--build-arg",
        "PIP_NO_INDEX=1",  # offline: only the wheelhouse
        "--tag",
        name,
        str(context),
        timeout=1200,
    )
    seconds = time.monotonic() - started
    inspected = json.loads(buildah.run("inspect", "--type", "image", name))
    config = inspected["OCIv1"]["config"]
    mount = buildah.run("from", "--name", f"jobguard-size-{tag}", name)
    size = tree_size(Path(buildah.run("mount", mount)))
    buildah.run("rm", mount)
    return BuiltImage(
        name=name,
        base=base,
        digest=inspected["FromImageDigest"],
        size_bytes=size,
        build_seconds=seconds,
        entrypoint=tuple(config.get("Entrypoint") or ()),
        cmd=tuple(config.get("Cmd") or ()),
        user=config.get("User", ""),
    )


def tree_size(root: Path) -> int:
    """Bytes of the regular files under ``root`` (the unpacked image, as `du` would count)."""
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            stat = os.lstat(os.path.join(directory, name))
            total += stat.st_size
    return total


def snapshot(root: Path, skip: Sequence[str]) -> dict[str, tuple[int, int, int, int]]:
    """Every entry under ``root`` but the ``skip`` top-level paths: (mtime, size, mode, uid) of
    files and links; directories by their presence only (buildah run itself creates mount points,
    which changes their parents' mtime)."""
    found: dict[str, tuple[int, int, int, int]] = {}
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        if relative != "." and relative.split(os.sep)[0] in skip:
            dirs[:] = []
            continue
        for name in dirs:
            found[os.path.join(relative, name)] = (0, 0, 0, 0)
        for name in files:
            stat = os.lstat(os.path.join(directory, name))
            found[os.path.join(relative, name)] = (
                stat.st_mtime_ns,
                stat.st_size,
                stat.st_mode,
                stat.st_uid,
            )
    return found


def processes_under(pid: int) -> list[int]:
    """``pid``'s descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def ids_of(pid: int) -> tuple[str, str, str]:
    """(effective uid, effective gid, root directory) of a process."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    root = os.readlink(f"/proc/{pid}/root")
    return status["Uid"].split()[1], status["Gid"].split()[1], root
