"""``jobguard lint`` prints each file's findings as soon as the file is judged (text format), and
shows a progress line on stderr only when stderr is a terminal and the run lasts.

The last file of each run here is a FIFO: the linter blocks reading it until the test writes
it, so what was printed by then was printed before the last file was read.
"""

from __future__ import annotations

import io
import os
import pty
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from jobguard.lint.linter import lint_paths
from jobguard.lint.progress import Progress
from jobguard.policy import load_policy
from jobguard.render import text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BROKEN = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: first\nspec:\n  template:\n"
    "    spec:\n      restartPolicy: Always\n      containers:\n      - name: c\n"
    "        image: busybox:1.36\n"
)
CLEAN = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: last\nspec:\n  backoffLimit: 2\n"
    "  ttlSecondsAfterFinished: 600\n  template:\n    spec:\n      restartPolicy: Never\n"
    "      containers:\n      - name: c\n        image: busybox:1.36\n"
)
TIMEOUT = 60


def _start(
    tmp_path: Path, *args: str, stderr: int | None = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    (tmp_path / "a.yaml").write_text(BROKEN)
    os.mkfifo(tmp_path / "z.yaml")
    return subprocess.Popen(
        [sys.executable, "-m", "jobguard", "lint", "--no-config", *args, "a.yaml", "z.yaml"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )


def _read_until(stream: IO[bytes], wanted: bytes) -> bytes:
    """What ``stream`` gives until ``wanted`` appears (fails after TIMEOUT seconds)."""
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        deadline = time.monotonic() + TIMEOUT
        while wanted not in seen:
            if not selector.select(timeout=max(deadline - time.monotonic(), 0)):
                pytest.fail(f"{wanted!r} not printed in {TIMEOUT} s; got {seen!r}")
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                pytest.fail(f"output ended without {wanted!r}: {seen!r}")
            seen += chunk
    return seen


def _write_last_file(tmp_path: Path, after: float = 0.0) -> None:
    """Write the FIFO ``after`` seconds after the linter started reading it."""
    with open(tmp_path / "z.yaml", "w") as fifo:  # blocks until the linter opens it
        time.sleep(after)
        fifo.write(CLEAN)


def test_the_first_files_findings_are_printed_before_the_last_file_is_read(tmp_path: Path) -> None:
    process = _start(tmp_path)
    assert process.stdout is not None
    try:
        early = _read_until(process.stdout, b"a.yaml:8:7: error restart-policy")
        assert process.poll() is None  # still waiting for the last file
        assert b"last" not in early and b"2 files" not in early
        _write_last_file(tmp_path)
        rest, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    report = (early + rest).decode()
    assert process.returncode == 1, stderr
    assert report.startswith("Job first (a.yaml:1)\n")
    assert report.endswith("\n\n" + report.splitlines()[-1] + "\n")  # one blank line, summary
    assert report.splitlines()[-1].startswith("2 files, 2 Jobs/CronJobs, 0 other objects skipped")
    assert b"jobguard:" not in stderr


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    process = _start(tmp_path)
    writer = threading.Thread(target=_write_last_file, args=(tmp_path, 2.5))
    writer.start()  # the run lasts longer than the progress line's delay
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        writer.join(timeout=TIMEOUT)
        process.kill()
    assert process.returncode == 1
    assert stderr == b""


def test_a_progress_line_on_a_terminal_once_the_run_lasts_then_erased(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = _start(tmp_path, "--format", "json", stderr=terminal)
    os.close(terminal)
    writer = threading.Thread(target=_write_last_file, args=(tmp_path, 2.5))
    writer.start()
    try:
        process.communicate(timeout=TIMEOUT)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        writer.join(timeout=TIMEOUT)
        process.kill()
        os.close(controller)
    line = b"jobguard: 2 of 2 files"
    assert shown == b"\r" + line + b"\r" + b" " * len(line) + b"\r"


def test_progress_waits_for_its_delay_and_refreshes_at_most_every_tenth_of_a_second() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [0.0]
    out = Terminal()
    progress = Progress(out, delay=2.0, clock=lambda: now[0])
    progress.update(1, 9)
    now[0] = 2.0
    progress.update(2, 9)
    now[0] = 2.05
    progress.update(3, 9)  # too soon after the last: not drawn
    now[0] = 2.2
    progress.update(10, 19)
    progress.clear()
    last = "jobguard: 10 of 19 files"
    assert out.getvalue() == "\rjobguard: 2 of 9 files\r" + last + "\r" + " " * len(last) + "\r"


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("min_severity", ["error", "info"])
def test_the_streamed_report_is_the_whole_runs_report(quiet: bool, min_severity: str) -> None:
    from jobguard.core.model import Severity

    result = lint_paths([str(EXAMPLES / "bad"), "missing.yaml"], load_policy(()), jobs=1)
    assert len(result.files) > 3 and result.problems
    parts: list[str] = []
    streamed = text.Streamed(parts.append, quiet=quiet, min_severity=Severity(min_severity))
    for fr in result.files:
        streamed.file(fr)
    streamed.end(result)
    expected = text.render(result, quiet=quiet, min_severity=Severity(min_severity))
    assert "".join(parts) == expected
