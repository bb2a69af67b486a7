#!/usr/bin/env python3
"""What jobguard's gunicorn worker costs per request against gunicorn's stock gthread, in one run.

    python bench/worker_cpu.py [--requests 1500] [--rounds 4]

jobguard's worker (jobguard.webhook.worker) receives each request in its event loop before a
thread takes it (the protection against trickling clients); stock gthread lets a thread read
it. Both serve the same null webhook (bench/webhook.py's: decode the review, answer allowed)
with 1 worker x 4 threads over TLS, and one client sends ``--requests`` reviews one after the
other on one keep-alive connection, so that the server's CPU time per request (arbiter and
worker, from /proc) is the path's own cost rather than contention. Two ways of sending:

* one write: request line, headers and body in one TLS record (as wrk does, and the API
  server's Go client for a review that fits its 4 KiB write buffer);
* two writes: headers, then body (as Python's http.client does): the worker's event loop sees
  the headers first and waits for the body in its poller.

Rounds alternate between the servers; each figure is the median over the rounds.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from webhook import NULL_SERVER, VALIDATE_REVIEW, free_port, wait_ready  # noqa: E402


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its children."""
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            pids += [int(child) for child in f.read().split()]
    total = 0
    for p in pids:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def sender(sock: ssl.SSLSocket, body: bytes, split: bool) -> Callable[[], None]:
    head = (
        b"POST /validate HTTP/1.1\r\nHost: jobguard\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )

    def one() -> None:
        if split:
            sock.sendall(head)
            sock.sendall(body)
        else:
            sock.sendall(head + body)
        reply = b""
        while True:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection"
            reply += chunk
            header, sep, rest = reply.partition(b"\r\n\r\n")
            if sep:
                length = int(header.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    assert header.startswith(b"HTTP/1.1 200 "), header
                    return

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    from jobguard.certs import ensure_dev_certs

    workdir = Path(tempfile.mkdtemp(prefix="jobguard-worker-bench-"))
    cert, key, ca = ensure_dev_certs(workdir / "certs")
    body = VALIDATE_REVIEW.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    servers = {"jobguard worker": None, "stock gthread": "gthread"}
    ports = {name: free_port() for name in servers}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, worker_class in servers.items():
            overrides: dict[str, object] = {
                "bind": [f"127.0.0.1:{ports[name]}"],
                "certfile": str(cert),
                "keyfile": str(key),
                "workers": 1,
                "threads": 4,
                "loglevel": "warning",
            }
            if worker_class:
                overrides["worker_class"] = worker_class
            code = NULL_SERVER.format(root=str(ROOT), overrides=overrides)
            processes[name] = subprocess.Popen([sys.executable, "-c", code], env=env)
        for name, process in processes.items():
            wait_ready(ports[name], ca, process)
        context = ssl.create_default_context(cafile=str(ca))
        results: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for split in (False, True):
                for name, process in processes.items():
                    raw = socket.create_connection(("127.0.0.1", ports[name]))
                    # each write leaves at once (no Nagle wait for the server's ACK)
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                        one = sender(sock, body, split)
                        one()
                        before = server_cpu(process.pid)
                        for _ in range(args.requests):
                            one()
                        spent = server_cpu(process.pid) - before
                    results.setdefault((name, split), []).append(spent / args.requests * 1e6)
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
    print(
        f"server CPU per request (us), {args.requests} sequential requests on one keep-alive "
        f"TLS connection, median of {args.rounds} rounds"
    )
    for split, label in ((False, "one write"), (True, "two writes")):
        ours = statistics.median(results[("jobguard worker", split)])
        stock = statistics.median(results[("stock gthread", split)])
        print(
            f"{label:<11} jobguard worker {ours:6.0f}   stock gthread {stock:6.0f}   "
            f"({ours / stock - 1:+.0%})"
        )


if __name__ == "__main__":
    main()
