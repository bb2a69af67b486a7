"""A trickle (slowloris) attack on the webhook, run as a separate process:

    python -m tests.reliability.trickle --host 127.0.0.1 --port 8443 --ca ca.crt \
        --connections 200 --interval 2 --duration 20

Each of ``--connections`` clients opens a TLS connection and sends a review request one piece
every ``--interval`` seconds: half of them trickle the request line and headers a byte at a
time, the other half send the headers at once and trickle the body (announced by
Content-Length) 64 bytes at a time. Whenever the server drops a connection the client opens a
new one and starts over, until ``--duration`` is up: the attack never lets go.

Prints one JSON summary on stdout: connections opened, how many the server closed before the
request was whole, how many got any answer (a server that waits for the whole request answers
none), and how long the server let each closed connection live (from connect, and from the first
request byte).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVIEW = (ROOT / "fixtures" / "admission" / "002-validate-Job-CREATE-pi.json").read_bytes()


def request_head(length: int) -> bytes:
    return (
        "POST /validate?timeout=10s HTTP/1.1\r\nHost: jobguard\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


@dataclass
class Summary:
    connections: int = 0
    closed_by_server: int = 0
    answered: int = 0
    failed_to_connect: int = 0
    #: seconds from connect (before the handshake) to the server's close: the deadline runs from
    #: the server's accept, later than connect, so this is never below it
    since_connect: list[float] = field(default_factory=list)
    #: seconds from the first request byte (after the handshake) to the server's close: never
    #: above the deadline but for the server's scheduling
    since_request: list[float] = field(default_factory=list)

    def report(self) -> dict[str, object]:
        out: dict[str, object] = {
            k: v for k, v in asdict(self).items() if k not in ("since_connect", "since_request")
        }
        if self.since_connect:
            out["since_connect_min_s"] = round(min(self.since_connect), 3)
            out["since_request_median_s"] = round(statistics.median(self.since_request), 3)
            out["since_request_max_s"] = round(max(self.since_request), 3)
        return out


def pieces(trickle_body: bool) -> list[bytes]:
    """What one client sends, in the pieces it sends them."""
    head = request_head(len(REVIEW))
    if trickle_body:
        return [head] + [REVIEW[i : i + 64] for i in range(0, len(REVIEW), 64)]
    return [head[i : i + 1] for i in range(len(head))] + [REVIEW]


async def one_client(
    host: str,
    port: int,
    context: ssl.SSLContext,
    interval: float,
    stop_at: float,
    trickle_body: bool,
    summary: Summary,
) -> None:
    while time.monotonic() < stop_at:
        connecting = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context, server_hostname=host), 10
            )
        except (TimeoutError, OSError, ssl.SSLError):
            summary.failed_to_connect += 1
            await asyncio.sleep(interval)
            continue
        summary.connections += 1
        started = time.monotonic()  # the first request byte follows: the server's deadline runs
        closed = False
        try:
            for piece in pieces(trickle_body):
                if time.monotonic() >= stop_at:
                    break
                writer.write(piece)
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(65536), interval)
                except TimeoutError:
                    continue  # the server still waits: the next piece, one interval later
                if data:
                    summary.answered += 1
                closed = True
                break
        except (OSError, ssl.SSLError):
            closed = True
        if closed:
            summary.closed_by_server += 1
            summary.since_connect.append(time.monotonic() - connecting)
            summary.since_request.append(time.monotonic() - started)
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1)


async def attack(
    host: str, port: int, ca: str, connections: int, interval: float, duration: float
) -> Summary:
    context = ssl.create_default_context(cafile=ca)
    summary = Summary()
    stop_at = time.monotonic() + duration
    await asyncio.gather(
        *(
            one_client(host, port, context, interval, stop_at, i % 2 == 1, summary)
            for i in range(connections)
        )
    )
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args(argv)
    summary = asyncio.run(
        attack(args.host, args.port, args.ca, args.connections, args.interval, args.duration)
    )
    json.dump(summary.report(), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
