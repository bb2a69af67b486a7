"""The per-request log line's writer: lines arrive whole and in order, a request never waits
for a blocked output, and nothing gathered is lost at a normal exit."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time

from jobguard.webhook.logs import RequestLog


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def _wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_lines_are_written_by_the_writer_thread_in_order_with_time_and_level() -> None:
    out = io.StringIO()
    log = RequestLog(out, interval=0.05)
    for n in range(5):
        log.write("info", {"event": "admission", "n": n})
    _wait_for(lambda: out.getvalue().count("\n") == 5)
    lines = _lines(out.getvalue())
    assert [line["n"] for line in lines] == [0, 1, 2, 3, 4]
    assert all(line["level"] == "info" and line["event"] == "admission" for line in lines)
    assert all(str(line["time"]).endswith("Z") for line in lines)


def test_a_full_batch_is_written_before_the_interval_ends() -> None:
    out = io.StringIO()
    log = RequestLog(out, interval=60.0, flush_lines=10)
    for n in range(10):
        log.write("info", {"n": n})
    _wait_for(lambda: out.getvalue().count("\n") == 10, timeout=5.0)


def test_many_threads_lose_no_line_and_mix_none() -> None:
    out = io.StringIO()
    log = RequestLog(out, interval=0.02, flush_lines=50)

    def burst(thread: int) -> None:
        for n in range(500):
            log.write("info", {"thread": thread, "n": n, "pad": "x" * 200})

    threads = [threading.Thread(target=burst, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.flush()
    lines = _lines(out.getvalue())
    assert len(lines) == 4000
    for thread in range(8):
        assert [line["n"] for line in lines if line["thread"] == thread] == list(range(500))


class BlockedStream(io.StringIO):
    """An output nobody reads (a full pipe): every write waits until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait()
        return super().write(text)


def test_a_blocked_output_never_holds_up_a_request_and_drops_are_counted() -> None:
    out = BlockedStream()
    log = RequestLog(out, interval=0.01, flush_lines=5, max_pending=100)
    log.write("info", {"n": -1})
    time.sleep(0.1)  # the writer took that line and is now stuck in write()
    started = time.monotonic()
    for n in range(150):
        log.write("info", {"n": n})
    assert time.monotonic() - started < 1.0  # no request waited for the output
    out.release.set()
    _wait_for(lambda: "log_lines_dropped" in out.getvalue())
    log.flush()
    lines = _lines(out.getvalue())
    assert [line["n"] for line in lines if "n" in line] == list(range(-1, 100))
    (note,) = [line for line in lines if line.get("event") == "log_lines_dropped"]
    assert note["count"] == 50 and note["level"] == "warning"


def test_lines_gathered_before_a_normal_exit_are_written() -> None:
    script = (
        "from jobguard.webhook.logs import RequestLog\n"
        "log = RequestLog(interval=3600)\n"
        "for n in range(3): log.write('info', {'n': n})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert [line["n"] for line in _lines(done.stderr)] == [0, 1, 2]


def test_a_broken_output_is_not_an_error() -> None:
    out = io.StringIO()
    log = RequestLog(out, interval=3600)
    log.write("info", {"n": 0})
    out.close()
    log.flush()  # ValueError: I/O operation on closed file, swallowed


def test_a_forked_child_starts_its_own_writer() -> None:
    """The parent's writer thread does not survive a fork (gunicorn with preloading): the
    child's lines are still written, without waiting for its exit (os._exit skips atexit)."""
    script = (
        "import os, time\n"
        "from jobguard.webhook.logs import RequestLog\n"
        "log = RequestLog(interval=0.05)\n"
        "log.write('info', {'who': 'parent'})\n"
        "time.sleep(0.3)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    log.write('info', {'who': 'child'})\n"
        "    time.sleep(0.5)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert [line["who"] for line in _lines(done.stderr)] == ["parent", "child"]
