"""Linting files: discovery, parsing, evaluation, and results that carry file positions.

``lint_bytes`` is the unit of work (one file's content -> FileResult); ``lint_paths`` spreads
files over worker processes when there are enough of them to pay for the start-up. Results are
plain frozen dataclasses so they cross process boundaries and feed every renderer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from jobguard.core.engine import evaluate
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version
from jobguard.core.model import Finding, Severity
from jobguard.core.subject import Subject
from jobguard.core.view import JobView
from jobguard.policy.model import Policy
from jobguard.rules import REGISTRY
from jobguard.rules.api_structure import misspelt_kind
from jobguard.yamlsource import (
    DEFAULT_MAX_BYTES,
    SourceError,
    SourceObject,
    objects_of,
    read_documents,
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"
PARALLEL_MIN_FILES = 400


@dataclass(frozen=True)
class LocatedFinding:
    finding: Finding
    line: int
    column: int


@dataclass(frozen=True)
class ObjectResult:
    file: str
    document: int
    kind: str
    name: str | None
    namespace: str | None
    line: int
    findings: tuple[LocatedFinding, ...]
    suppressed: int = 0  # by annotations
    exempted: int = 0  # by the policy's exemptions
    in_scope: bool = True  # False: outside the policy's scope, judged by the api rules only


@dataclass(frozen=True)
class InputProblem:
    """The input could not be read as manifests (not a rule finding)."""

    file: str
    message: str
    line: int = 0
    column: int = 0
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class FileResult:
    file: str
    objects: tuple[ObjectResult, ...] = ()
    skipped: int = 0
    problems: tuple[InputProblem, ...] = ()


@dataclass
class LintResult:
    files: list[FileResult] = field(default_factory=list)
    ignored: int = 0  # manifest files a folder held that git ignores
    excluded: int = 0  # files left out by --exclude

    @property
    def objects(self) -> list[ObjectResult]:
        return [o for f in self.files for o in f.objects]

    @property
    def findings(self) -> list[tuple[ObjectResult, LocatedFinding]]:
        return [(o, lf) for o in self.objects for lf in o.findings]

    @property
    def problems(self) -> list[InputProblem]:
        return [p for f in self.files for p in f.problems]

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    def count(self, severity: Severity) -> int:
        return sum(1 for _, lf in self.findings if lf.finding.severity is severity)


#: A rule recursing through the object ran out of stack (JSON allows ~1,000 levels).
NESTED_TOO_DEEPLY = "object is nested too deeply to be judged"


def _display_name(view: JobView) -> str | None:
    return view.name or (f"{view.generate_name}*" if view.generate_name else None)


def lint_bytes(
    file: str,
    raw: bytes,
    policy: Policy,
    version: Version = DEFAULT_KUBERNETES_VERSION,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FileResult:
    """Lint one file's content as the API server of ``version`` would take it. Never raises
    on bad input.

    Documents are read and judged one at a time and only their results kept, so memory stays
    flat in the number of documents (a node tree weighs about thirty times its text).
    """
    problems: list[InputProblem] = []
    objects: list[ObjectResult] = []
    skipped = 0
    seen_any = False
    for document in read_documents(raw, max_bytes=max_bytes):
        if isinstance(document, SourceError):
            problems.append(InputProblem(file, document.message, document.line, document.column))
            continue
        for src in objects_of(document):
            seen_any = True
            skipped += _judge(file, src, policy, version, objects, problems)
    if not seen_any and not problems:
        problems.append(
            InputProblem(file, "empty file: no documents to lint", severity=Severity.WARNING)
        )
    return FileResult(file, tuple(objects), skipped, tuple(problems))


def _judge(
    file: str,
    src: SourceObject,
    policy: Policy,
    version: Version,
    objects: list[ObjectResult],
    problems: list[InputProblem],
) -> int:
    """Judge one object of a file into ``objects`` (or ``problems``); 1 if it is not a Job or
    CronJob (skipped), else 0."""
    if not isinstance(src.data, dict):
        line, col = src.position(())
        problems.append(
            InputProblem(
                file,
                f"document {src.document.index + 1} is a {type(src.data).__name__}, not a Kubernetes object",
                line,
                col,
            )
        )
        return 0
    subject = Subject.manifest(src.data, version, duplicate_keys=src.duplicate_keys())
    if subject is None:
        misspelt = misspelt_kind(src.data)
        if misspelt is None:
            return 1
        problems.append(InputProblem(file, misspelt, *src.position(("kind",))))
        return 0
    try:
        report = evaluate(subject, policy, rules=REGISTRY, file=file)
    except RecursionError:
        line, col = src.position(())
        problems.append(InputProblem(file, NESTED_TOO_DEEPLY, line, col))
        return 0
    view = subject.view
    located = tuple(LocatedFinding(f, *src.position(f.path)) for f in report.findings)
    exempted = sum(
        1
        for f in report.suppressed
        if policy.exemption(f.rule, view.kind, view.namespace, view.name, file)
    )
    objects.append(
        ObjectResult(
            file=file,
            document=src.document.index,
            kind=view.kind,
            name=_display_name(view),
            namespace=view.namespace,
            line=src.position(())[0],
            findings=located,
            suppressed=len(report.suppressed) - exempted,
            exempted=exempted,
            in_scope=report.in_scope,
        )
    )
    return 0


def discover(paths: Sequence[str]) -> tuple[list[str], list[InputProblem]]:
    """Expand folders (recursively, manifest suffixes only, hidden folders skipped) in order."""
    files: list[str] = []
    problems: list[InputProblem] = []
    for given in paths:
        if given == STDIN:
            files.append(STDIN)
            continue
        p = Path(given)
        if p.is_dir():
            found: list[str] = []
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, n) for n in names if n.endswith(MANIFEST_SUFFIXES))
            files.extend(sorted(found))
        elif p.is_file() or p.is_fifo():
            files.append(given)
        else:
            problems.append(InputProblem(given, "no such file or folder"))
    return files, problems


def _read(file: str, max_bytes: int) -> bytes | InputProblem:
    try:
        if file == STDIN:
            return sys.stdin.buffer.read(max_bytes + 1)
        with open(file, "rb") as fh:
            # Read one byte past the limit so the parser reports the size, without reading 50 MB.
            return fh.read(max_bytes + 1)
    except OSError as exc:
        return InputProblem(file, f"cannot read: {exc.strerror or exc}")


#: How much of an oversized stdin is read (and dropped) to say how large it was.
STDIN_COUNT_LIMIT = 1 << 30
_CHUNK = 1 << 20


def _stdin_size(already: int) -> str:
    """The size of an oversized stdin of which ``already`` bytes were read: the rest is read
    in chunks and dropped (a pipe cannot say its size), up to :data:`STDIN_COUNT_LIMIT`."""
    size = already
    try:
        while size <= STDIN_COUNT_LIMIT:
            chunk = sys.stdin.buffer.read(_CHUNK)
            if not chunk:
                return f"{size:,} bytes"
            size += len(chunk)
    except OSError:
        return f"at least {size:,} bytes"
    return f"more than {STDIN_COUNT_LIMIT:,} bytes"


def lint_file(
    file: str,
    policy: Policy,
    version: Version = DEFAULT_KUBERNETES_VERSION,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin_name: str = STDIN_NAME,
) -> FileResult:
    """Lint one file (or stdin, reported and matched against ``files:`` exemptions as
    ``stdin_name``)."""
    shown = stdin_name if file == STDIN else file
    raw = _read(file, max_bytes)
    if isinstance(raw, InputProblem):
        return FileResult(shown, problems=(replace(raw, file=shown),))
    if len(raw) > max_bytes:
        size = f"{os.path.getsize(file):,} bytes" if file != STDIN else _stdin_size(len(raw))
        return FileResult(
            shown,
            problems=(
                InputProblem(
                    shown, f"file is over the {max_bytes:,}-byte limit ({size}); not parsed"
                ),
            ),
        )
    return lint_bytes(shown, raw, policy, version, max_bytes=max_bytes)


# -- parallel runs ----------------------------------------------------------------------------

_worker_state: tuple[Policy, Version, int] | None = None


def _worker_init(policy: Policy, version: Version, max_bytes: int) -> None:
    global _worker_state
    _worker_state = (policy, version, max_bytes)


def _worker_lint(file: str) -> FileResult:
    assert _worker_state is not None
    policy, version, max_bytes = _worker_state
    return lint_file(file, policy, version, max_bytes)


def _lint_many(
    files: Sequence[str],
    policy: Policy,
    version: Version,
    max_bytes: int,
    jobs: int,
    stdin_name: str,
) -> Iterator[FileResult]:
    if jobs <= 1 or len(files) < PARALLEL_MIN_FILES or STDIN in files:
        for f in files:
            yield lint_file(f, policy, version, max_bytes, stdin_name)
        return
    import multiprocessing

    mp = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with mp.Pool(jobs, initializer=_worker_init, initargs=(policy, version, max_bytes)) as pool:
        yield from pool.imap(_worker_lint, files, chunksize=64)


def lint_paths(
    paths: Iterable[str],
    policy: Policy,
    version: Version = DEFAULT_KUBERNETES_VERSION,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: int | None = None,
    stdin_name: str = STDIN_NAME,
    on_file: Callable[[FileResult, int, int], None] | None = None,
) -> LintResult:
    """Lint every file of ``paths`` (folders expanded), in order.

    ``on_file(result, done, total)`` is called as each file's result arrives, in order, while
    later files are still being read: a report can print it at once, a progress line count it.
    """
    files, problems = discover(list(paths))
    result = LintResult([FileResult(p.file, problems=(p,)) for p in problems])
    total = len(result.files) + len(files)
    if on_file is not None:
        for done, fr in enumerate(result.files, 1):
            on_file(fr, done, total)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    for fr in _lint_many(files, policy, version, max_bytes, workers, stdin_name):
        result.files.append(fr)
        if on_file is not None:
            on_file(fr, len(result.files), total)
    return result
