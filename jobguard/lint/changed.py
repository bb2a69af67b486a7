"""Which manifest files changed against a git ref (``jobguard lint --changed-since REF``).

Changed means: in ``git diff REF...HEAD`` (what the branch changed since it left REF, as a pull
request shows it) or not yet committed (staged, unstaged or untracked and not ignored). Deleted
files are skipped. Paths come back relative to the working directory, in sorted order.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from jobguard.lint.linter import MANIFEST_SUFFIXES


class ChangedFilesError(Exception):
    """Not a git repository, git missing, or an unknown ref."""


def _git(args: Sequence[str], cwd: str) -> str:
    try:
        run = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError:
        raise ChangedFilesError("--changed-since needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise ChangedFilesError(f"git {' '.join(args)} took more than 120 s") from None
    if run.returncode != 0:
        raise ChangedFilesError(run.stderr.strip() or f"git {' '.join(args)} failed")
    return run.stdout


def changed_files(ref: str, cwd: str = ".") -> list[str]:
    """Manifest files changed against ``ref``. Raises ChangedFilesError."""
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    except ChangedFilesError:
        raise ChangedFilesError(
            f"--changed-since: {os.path.abspath(cwd)} is not inside a git repository"
        ) from None
    try:
        _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], cwd)
    except ChangedFilesError:
        raise ChangedFilesError(
            f"--changed-since: unknown git ref {ref!r} (fetch it first, e.g. git fetch origin main)"
        ) from None
    names: set[str] = set()
    for args in (
        ["diff", "--name-only", "-z", "--no-renames", f"{ref}...HEAD", "--"],
        ["diff", "--name-only", "-z", "--no-renames", "HEAD", "--"],
        ["ls-files", "--others", "--exclude-standard", "-z", "--full-name"],
    ):
        names.update(n for n in _git(args, top).split("\0") if n)
    here = Path(os.path.abspath(cwd))
    out = []
    for name in names:
        full = Path(top) / name
        if not name.endswith(MANIFEST_SUFFIXES) or not full.is_file():
            continue  # deleted, or not a manifest
        out.append(os.path.relpath(full, here))
    return sorted(out)


def within(files: Sequence[str], paths: Sequence[str]) -> list[str]:
    """The files that are one of ``paths`` or inside one of them (PATHS as a filter)."""
    roots = [Path(os.path.abspath(p)) for p in paths]
    keep = []
    for f in files:
        full = Path(os.path.abspath(f))
        if any(full == r or r in full.parents for r in roots):
            keep.append(f)
    return keep


def manifests_at(ref: str, cwd: str = ".") -> list[bytes]:
    """The content at ``ref`` of every manifest file the branch changed or deleted since it
    (what an update of the objects they hold is compared with). Raises ChangedFilesError."""
    top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    names = _git(["diff", "--name-only", "-z", "--no-renames", f"{ref}...HEAD", "--"], top)
    names += _git(["diff", "--name-only", "-z", "--no-renames", "HEAD", "--"], top)
    out = []
    for name in sorted({n for n in names.split("\0") if n.endswith(MANIFEST_SUFFIXES)}):
        try:
            run = subprocess.run(
                ["git", "show", f"{ref}:{name}"],
                cwd=top,
                capture_output=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ChangedFilesError(f"git show {ref}:{name}: {exc}") from None
        if run.returncode == 0:  # otherwise the file is new on the branch
            out.append(run.stdout)
    return out
