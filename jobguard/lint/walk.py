"""Which files a folder holds for linting: manifest suffixes, minus hidden folders, ``--exclude``
globs and what git ignores.

Inside a git work tree the list comes from git itself (``git ls-files --cached --others
--exclude-standard``): git is the authority on its own ignore rules (nested .gitignore files,
``.git/info/exclude``, the user's ``core.excludesFile``, negations), it needs no extra
dependency in the light install, and one call lists a whole tree without walking ignored
folders such as ``node_modules/``. Tracked files are linted even when a .gitignore pattern
matches them, as git treats them. Outside a work tree there is nothing to respect and the folder
is walked. A path named on the command line is linted even when ``--exclude`` or git's ignore
rules would leave it out of a folder (as ruff does), unless ``force_exclude`` (``--force-exclude``).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
#: jobguard's own configuration files are never manifests (lint/config.py reads them).
CONFIG_NAMES = (".jobguard.yaml", ".jobguard.yml")
GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Exclude:
    """A glob and the folder it is relative to (the working directory, or a config file's).

    A glob without ``/`` matches any single path component (``vendor``, ``*.generated.yaml``);
    one with ``/`` matches the path relative to ``base``, or a folder above the file
    (``charts/vendor`` excludes everything below it). ``*`` crosses ``/`` as in fnmatch.
    """

    pattern: str
    base: Path = field(default_factory=Path.cwd)

    def matches(self, path: str) -> bool:
        pattern = self.pattern.rstrip("/")
        if not pattern:
            return False
        absolute = Path(os.path.abspath(path))
        try:
            relative = PurePosixPath(absolute.relative_to(os.path.abspath(self.base)).as_posix())
        except ValueError:
            relative = None
        if "/" not in pattern:
            # Only the components below the base: a folder above the project never excludes it.
            parts = relative.parts if relative is not None else Path(path).parts
            return any(fnmatch.fnmatchcase(part, pattern) for part in parts if part != "..")
        if relative is None:
            return False
        pattern = pattern.removeprefix("./")
        candidates = [relative, *list(relative.parents)[:-1]]
        return any(
            fnmatch.fnmatchcase(str(c), pattern)
            or (pattern.startswith("**/") and fnmatch.fnmatchcase(str(c), pattern[3:]))
            for c in candidates
        )


@dataclass
class Walked:
    """The files to lint, in order, and how many manifest files were left out and why."""

    files: list[str] = field(default_factory=list)
    ignored: int = 0  # by git's ignore rules
    excluded: int = 0  # by --exclude


def _is_manifest(relative: str) -> bool:
    parts = relative.split("/")
    return (
        relative.endswith(MANIFEST_SUFFIXES)
        and parts[-1] not in CONFIG_NAMES
        and not any(p.startswith(".") for p in parts[:-1])
    )


def _git_lines(folder: str, *args: str) -> list[str] | None:
    """NUL-separated output of a git command in ``folder``; None when git cannot answer there."""
    try:
        run = subprocess.run(
            ["git", "-C", folder, *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if run.returncode != 0:
        return None
    return [os.fsdecode(p) for p in run.stdout.split(b"\0") if p]


def _git_files(folder: str) -> tuple[list[str], int] | None:
    """(files git does not ignore, number of ignored manifest files), relative to ``folder``."""
    inside = _git_lines(folder, "rev-parse", "--is-inside-work-tree")
    if inside is None or [line.strip() for line in inside] != ["true"]:
        return None
    # From a sub-folder git prints paths relative to it, which is what the walk wants.
    visible = _git_lines(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    ignored = _git_lines(folder, "ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    if visible is None or ignored is None:
        return None
    return sorted(set(visible)), sum(1 for p in ignored if _is_manifest(p))


def _git_ignored(paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` that git's ignore rules leave out, asked in one call from the working
    directory (none outside a work tree, or when git cannot answer)."""
    if not paths:
        return set()
    try:
        run = subprocess.run(
            ["git", "check-ignore", "-z", "--stdin"],
            input=b"\0".join(os.fsencode(p) for p in paths) + b"\0",
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if run.returncode not in (0, 1):  # 1: none is ignored; 128: not a work tree
        return set()
    return {os.fsdecode(p) for p in run.stdout.split(b"\0") if p}


def _walk_files(folder: str) -> list[str]:
    found: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative_root = os.path.relpath(root, folder)
        for name in names:
            relative = name if relative_root == "." else f"{relative_root}/{name}"
            found.append(Path(relative).as_posix())
    return found


def _folder_files(folder: str, respect_gitignore: bool) -> tuple[list[str], int]:
    from_git = _git_files(folder) if respect_gitignore else None
    if from_git is not None:
        relative, ignored = from_git
    else:
        relative, ignored = _walk_files(folder), 0
    # Below "." the paths are shown (and diffed) as git names them: "job.yaml", not "./job.yaml".
    here = os.path.normpath(folder) == "."
    files = [
        r if here else os.path.join(folder, r)
        for r in relative
        if _is_manifest(r) and os.path.isfile(os.path.join(folder, r))
    ]
    return sorted(files), ignored


def collect(
    paths: Sequence[str],
    excludes: Iterable[Exclude] = (),
    *,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> Walked:
    """Expand folders to their manifest files; everything else passes through in place (the
    linter reports a missing path)."""
    excludes = tuple(excludes)
    walked = Walked()
    asked = [p for p in paths if p != STDIN and (force_exclude or os.path.isdir(p))]
    git_ignored = _git_ignored(asked) if respect_gitignore else set()
    for given in paths:
        if given == STDIN:
            walked.files.append(given)
            continue
        if force_exclude and given in git_ignored:
            walked.ignored += 1
            continue
        if force_exclude and any(e.matches(given) for e in excludes):
            walked.excluded += 1
            continue
        if not os.path.isdir(given):
            walked.files.append(given)
            continue
        # A folder named by name that git ignores is walked whole (git would list nothing).
        use_git = respect_gitignore and given not in git_ignored
        files, ignored = _folder_files(given, use_git)
        walked.ignored += ignored
        for f in files:
            if any(e.matches(f) for e in excludes):
                walked.excluded += 1
            else:
                walked.files.append(f)
    return walked
