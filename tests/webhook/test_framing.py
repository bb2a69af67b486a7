"""The worker's idea of where a request ends (jobguard.webhook.framing) against gunicorn's own
parser, on generated requests fed in random pieces, as a socket delivers them.

Two promises make the request deadline safe: a request the framing calls whole never makes
gunicorn's parser wait for another byte (that wait would hold a thread: the very starvation the
deadline prevents), and a well-formed request is called whole exactly when its last byte is in
(else it would wait in the event loop until the deadline dropped it).
"""

from __future__ import annotations

from typing import Any

from gunicorn.config import Config  # type: ignore[import-untyped]
from gunicorn.http.parser import RequestParser  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobguard.webhook.framing import Framing

LIMIT = 1 << 20


class Starved(BaseException):
    """The parser asked for bytes that have not arrived (BaseException: gunicorn must not
    swallow it)."""


class Arrived:
    """A socket holding exactly the bytes received so far."""

    def __init__(self, data: bytes):
        self.data = data

    def recv(self, size: int) -> bytes:
        if not self.data:
            raise Starved
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def gunicorn_reads(data: bytes) -> str:
    """What gunicorn makes of ``data`` alone: "parsed" (request and whole body), "refused"
    (a parse error) or "starved" (it needs more bytes)."""
    parser = RequestParser(Config(), Arrived(data), ("127.0.0.1", 1))
    try:
        request = next(parser)
        while request.body.read(8192):
            pass
    except Starved:
        return "starved"
    except Exception:
        return "refused"
    return "parsed"


def framed_at(data: bytes, cuts: list[int]) -> int | None:
    """Feed ``data`` to one Framing in pieces ending at ``cuts`` (and at the end), as the
    worker does; the length at which it first says whole, if it does."""
    framing = Framing(LIMIT)
    for end in sorted({*cuts, len(data)}):
        if end and framing.check(data[:end]):
            return end
    return None


# -- generated requests --------------------------------------------------------------------

token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
header_value = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 /.,;=", max_size=20).map(
    str.strip
)


@st.composite
def chunked_body(draw: Any) -> tuple[bytes, int]:
    """A chunked body (with extensions and trailers now and then) and its payload size."""
    pieces = draw(st.lists(st.binary(min_size=1, max_size=300), max_size=5))
    out = b""
    for piece in pieces:
        size = f"{len(piece):x}".encode()
        if draw(st.booleans()):
            size = size.upper()
        ext = draw(st.sampled_from([b"", b";ext=1", b" ;name", b';q="a b"']))
        out += size + ext + b"\r\n" + piece + b"\r\n"
    out += b"0\r\n"
    for name in draw(st.lists(token, max_size=2)):
        out += name.encode() + b": " + draw(header_value).encode() + b"\r\n"
    return out + b"\r\n", sum(map(len, pieces))


@st.composite
def requests(draw: Any) -> bytes:
    """A well-formed HTTP/1.1 request: no body, a Content-Length body or a chunked one."""
    method = draw(st.sampled_from(["POST", "GET", "PUT"]))
    path = "/" + draw(token) + draw(st.sampled_from(["", "?timeout=10s"]))
    headers = [(draw(token), draw(header_value)) for _ in range(draw(st.integers(0, 4)))]
    framing = draw(st.sampled_from(["none", "length", "chunked"]))
    body = b""
    if framing == "length":
        body = draw(st.binary(max_size=2000))
        headers.append(
            (draw(st.sampled_from(["Content-Length", "content-length"])), str(len(body)))
        )
    elif framing == "chunked":
        body, _ = draw(chunked_body())
        headers.append(("Transfer-Encoding", draw(st.sampled_from(["chunked", "gzip, chunked"]))))
    if draw(st.booleans()):
        headers.append(("Expect", "100-continue"))
    headers = draw(st.permutations(headers))
    head = f"{method} {path} HTTP/1.1\r\nHost: jobguard\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    lead: bytes = draw(st.sampled_from([b"", b"\r\n"]))  # one empty line may come first
    return lead + head.encode() + b"\r\n" + body


cut_points = st.lists(st.integers(min_value=0, max_value=4000), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), cut_points)
def test_a_well_formed_request_is_whole_exactly_when_its_last_byte_is_in(
    request: bytes, cuts: list[int]
) -> None:
    assert gunicorn_reads(request) == "parsed"
    assert framed_at(request, [c for c in cuts if c < len(request)]) == len(request)
    # Bytes of a next (pipelined) request do not change where this one ends.
    assert framed_at(request + b"POST / HTTP/1.1\r\n", []) == len(request) + len(
        b"POST / HTTP/1.1\r\n"
    )  # checked whole at once: it is whole
    for end in {c for c in cuts if c < len(request)}:
        assert gunicorn_reads(request[:end]) == "starved"  # so the framing waits too


@st.composite
def damaged(draw: Any) -> bytes:
    """A request with bytes replaced, inserted or removed: whatever a hostile client sends."""
    data = bytearray(draw(requests()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(
            st.sampled_from([b"\r", b"\n", b" ", b":", b";", b"0", b"f", b"x", b"\t", b","])
        )
        if action == "insert" or at == len(data):
            data[at:at] = byte
        elif action == "replace":
            data[at : at + 1] = byte
        else:
            del data[at]
    return bytes(data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(damaged(), requests()), cut_points)
def test_whole_never_leaves_the_parser_waiting(data: bytes, cuts: list[int]) -> None:
    """Wherever the framing stops receiving, gunicorn can parse or refuse what it got."""
    end = framed_at(data, [c for c in cuts if c < len(data)])
    if end is not None:
        assert gunicorn_reads(data[:end]) != "starved", data[:end]


def test_a_body_over_the_limit_is_not_waited_for() -> None:
    head = b"POST /validate HTTP/1.1\r\nHost: j\r\nContent-Length: 1000000000\r\n\r\n"
    assert Framing(LIMIT).check(head)
    assert not Framing(LIMIT).check(head[:-1])


def test_a_chunked_body_is_followed_only_up_to_the_limit() -> None:
    head = b"POST /validate HTTP/1.1\r\nHost: j\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n" % 1000 + b"x" * 1000 + b"\r\n"
    framing = Framing(5000)
    assert not framing.check(head + chunk * 4)
    assert framing.check(head + chunk * 6)  # past 5,000 body bytes: the application refuses it


def test_expect_100_continue_is_noted_for_http_1_1_only() -> None:
    for version, expected in ((b"HTTP/1.1", True), (b"HTTP/1.0", False)):
        framing = Framing(LIMIT)
        head = b"POST / " + version + b"\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n"
        assert not framing.check(head)
        assert framing.expects_continue is expected
