"""Bad input to the real server: every case gets an exact HTTP status and a message, never a 500,
and the uid is echoed whenever it can be read."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.webhook.conftest import TEST_MAX_REQUEST_BYTES
from tests.webhook.support import (
    APISERVER_HEADERS,
    Server,
    fixture_object,
    load_review,
    review_for,
)


def error_of(response: requests.Response) -> tuple[int, str, str]:
    """(HTTP status, echoed uid, message) of an error answer, checking its envelope."""
    body = response.json()
    assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
    answer = body["response"]
    assert answer["allowed"] is False
    assert answer["status"]["code"] == response.status_code
    return response.status_code, answer["uid"], answer["status"]["message"]


def test_malformed_json_is_400(server: Server) -> None:
    r = server.post("/validate", b'{"apiVersion": "admission.k8s.io/v1", "kind": ')
    assert error_of(r) == (
        400,
        "",
        "request body is not valid JSON: Expecting value: line 1 column 47 (char 46)",
    )


def test_json_that_is_not_an_object_is_400(server: Server) -> None:
    r = server.post("/mutate", b"[1, 2, 3]")
    assert error_of(r) == (400, "", "request body must be a JSON object (an AdmissionReview)")


def test_body_that_is_not_utf8_is_400(server: Server) -> None:
    r = server.post("/mutate", b'{"kind": "\xff\xfe"}')
    status, uid, message = error_of(r)
    assert (status, uid) == (400, "")
    assert message.startswith("request body is not")


def test_deeply_nested_json_is_400(server: Server) -> None:
    r = server.post("/validate", b"[" * 30000 + b"]" * 30000)
    assert error_of(r) == (400, "", "request body is not valid JSON: nested too deeply")


def test_non_admission_review_is_400(server: Server) -> None:
    r = server.post("/validate", {"apiVersion": "v1", "kind": "Pod", "metadata": {}})
    assert error_of(r) == (400, "", "expected kind 'AdmissionReview', got 'Pod'")


def test_v1beta1_review_is_400_with_its_uid_and_a_hint(server: Server) -> None:
    review = load_review("001-mutate-Job-CREATE-pi.json")
    review["apiVersion"] = "admission.k8s.io/v1beta1"
    r = server.post("/mutate", review)
    assert error_of(r) == (
        400,
        review["request"]["uid"],
        "expected apiVersion 'admission.k8s.io/v1', got 'admission.k8s.io/v1beta1' "
        "(set admissionReviewVersions: [v1] in the webhook configuration)",
    )


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda r: r["request"].pop("uid"), "request.uid must be a non-empty string"),
        (
            lambda r: r["request"].update(operation="PATCH"),
            "request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got 'PATCH'",
        ),
        (lambda r: r["request"].update(object=None), "request.object is required for CREATE"),
        (lambda r: r["request"].update(object=[1]), "request.object must be an object"),
        (
            lambda r: r["request"].update(kind="Job"),
            "request.kind must be {group, version, kind} strings",
        ),
        (lambda r: r["request"].update(dryRun="yes"), "request.dryRun must be true or false"),
        (lambda r: r["request"].update(namespace=7), "request.namespace must be a string"),
        (lambda r: r.pop("request"), "AdmissionReview has no request object"),
    ],
)
def test_review_with_a_bad_field_is_400_echoing_the_uid_when_readable(
    server: Server, mangle: Any, message: str
) -> None:
    review = load_review("003-mutate-Job-CREATE-noname.json")
    uid = review["request"]["uid"]
    mangle(review)
    readable = isinstance(review.get("request"), dict) and "uid" in review["request"]
    for webhook in ("/mutate", "/validate"):
        assert error_of(server.post(webhook, review)) == (400, uid if readable else "", message)


def test_update_without_old_object_is_400(server: Server) -> None:
    review = load_review("015-validate-Job-UPDATE-pi.json")
    review["request"]["oldObject"] = None
    assert error_of(server.post("/validate", review)) == (
        400,
        review["request"]["uid"],
        "request.oldObject is required for UPDATE",
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(server: Server, content_type: str) -> None:
    review = load_review("001-mutate-Job-CREATE-pi.json")
    r = server.post("/mutate", review, headers={"Content-Type": content_type})
    assert error_of(r) == (415, "", f"Content-Type must be application/json, got {content_type}")


def test_json_content_type_with_charset_is_accepted(server: Server) -> None:
    review = load_review("001-mutate-Job-CREATE-pi.json")
    r = server.post("/mutate", review, headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200 and r.json()["response"]["allowed"] is True


def test_body_over_the_limit_is_413_and_the_connection_carries_on(server: Server) -> None:
    """A body a little over the limit is read and dropped (the server does so up to 256 KiB),
    then answered 413 on a connection that stays usable: that much is guaranteed. A client
    sending more than 256 KiB may instead see the connection reset while it is still sending
    (the server answers on the header and closes without reading); that case is checked with
    the headers alone below. Its own connection, so no pooled one's state can interfere."""
    obj = fixture_object("001-mutate-Job-CREATE-pi.json")
    obj["metadata"]["annotations"]["padding"] = "x" * TEST_MAX_REQUEST_BYTES
    oversized = review_for(obj)
    body = json.dumps(oversized).encode()
    context = ssl.create_default_context(cafile=str(server.ca_path))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
    try:
        conn.request("POST", "/validate", body=body, headers=APISERVER_HEADERS)
        refused = conn.getresponse()
        answer = json.loads(refused.read())["response"]
        assert (refused.status, refused.getheader("Connection")) == (413, "keep-alive")
        assert (answer["allowed"], answer["uid"], answer["status"]["message"]) == (
            False,
            oversized["request"]["uid"],  # read from the start of the body, which came along
            f"request body of {len(body)} bytes is over the {TEST_MAX_REQUEST_BYTES}-byte limit",
        )
        review = load_review("002-validate-Job-CREATE-pi.json")
        conn.request("POST", "/validate", body=json.dumps(review), headers=APISERVER_HEADERS)
        judged = conn.getresponse()
        assert judged.status == 200
        assert json.loads(judged.read())["response"]["uid"] == review["request"]["uid"]
    finally:
        conn.close()


def test_declared_size_over_the_limit_is_refused_before_the_body_is_sent(server: Server) -> None:
    """Only the headers are sent: the answer must come without waiting for 1 GB of body."""
    head = (
        b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )
    context = ssl.create_default_context(cafile=str(server.ca_path))
    started = time.monotonic()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(head)
        reply = b""
        while chunk := tls.recv(65536):  # the server closes the connection after answering
            reply += chunk
    text = reply.decode()
    assert text.startswith("HTTP/1.1 413 ")
    assert "Connection: close\r\n" in text
    assert "over the 65536-byte limit" in text
    assert time.monotonic() - started < 5


def post_chunked(server: Server, path: str, chunks: Iterator[bytes]) -> requests.Response:
    """POST with ``Transfer-Encoding: chunked``: a body that declares no Content-Length."""
    return requests.post(
        f"{server.url}{path}",
        data=chunks,
        headers={"Content-Type": "application/json"},
        verify=str(server.ca_path),
        timeout=10,
    )


def test_chunked_body_over_the_limit_is_413_after_a_capped_read(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"apiVersion": "admission.k8s.io/v1", "pad": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    r = post_chunked(server, "/validate", chunks())
    assert error_of(r) == (413, "", f"request body is over the {TEST_MAX_REQUEST_BYTES}-byte limit")


def test_chunked_review_under_the_limit_is_read_whole_and_judged(server: Server) -> None:
    """A body without Content-Length is read in chunks to its end (several reads)."""
    review = load_review("003-mutate-Job-CREATE-noname.json")
    review["request"]["object"]["metadata"]["annotations"] = {"pad": "x" * 40_000}
    raw = json.dumps(review).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), 5_000):
            yield raw[start : start + 5_000]

    r = post_chunked(server, "/mutate", chunks())
    assert r.status_code == 200
    response = r.json()["response"]
    assert response["uid"] == review["request"]["uid"] and response["allowed"] is True
    assert response["patchType"] == "JSONPatch"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/mutate", 405),
        ("PUT", "/validate", 405),
        ("DELETE", "/mutate", 405),
        ("POST", "/healthz", 405),
        ("POST", "/nope", 404),
    ],
)
def test_wrong_method_or_path_is_answered_with_its_status(
    server: Server, method: str, path: str, status: int
) -> None:
    r = requests.request(method, server.url + path, verify=str(server.ca_path), timeout=10)
    code, uid, message = error_of(r)
    assert (code, uid) == (status, "")
    assert message.startswith(f"{method} {path}: ")
    if status == 405:
        assert "POST" in r.headers["Allow"] or "GET" in r.headers["Allow"]


def test_server_still_answers_after_all_the_bad_input(server: Server) -> None:
    review = load_review("002-validate-Job-CREATE-pi.json")
    assert server.review("validate", review)["response"]["allowed"] is True
    server.settle_log()
    assert "Traceback" not in server.log_path.read_text()
    bad = [line for line in server.log_lines() if line.get("status") == 500]
    assert bad == []


def test_a_client_that_expects_100_continue_gets_it_and_then_its_answer(server: Server) -> None:
    """``Expect: 100-continue``: the client sends its body only after "100 Continue", which the
    server's event loop sends while it waits for that body."""
    review = load_review("002-validate-Job-CREATE-pi.json")
    body = json.dumps(review).encode()
    head = (
        "POST /validate HTTP/1.1\r\nHost: jobguard\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = tls.recv(65536)
            assert chunk, "closed without 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        tls.sendall(body)
        reply = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        while b'"uid"' not in reply or not reply.rstrip().endswith(b"}"):
            chunk = tls.recv(65536)
            assert chunk, reply
            reply += chunk
    final = reply[reply.index(b"HTTP/1.1 2") :]  # after any further 100 Continue
    assert final.startswith(b"HTTP/1.1 200 ")
    answer = json.loads(final.partition(b"\r\n\r\n")[2])
    assert answer["response"]["uid"] == review["request"]["uid"]
