"""The body limit, worked out from the API server's facts (jobguard.webhook.settings): the largest
legal UPDATE review is judged, a larger body is refused with 413, counted and logged with its
request uid. Against the real ``jobguard serve`` with its default limit.
"""

from __future__ import annotations

import copy
import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from jobguard.webhook.settings import DEFAULT_MAX_REQUEST_BYTES, ETCD_OBJECT_BYTES
from tests.webhook.support import (
    APISERVER_HEADERS,
    Server,
    SessionCA,
    fixture_object,
    review_for,
    running_server,
    webhook_policy_paths,
)

MIB = 1024 * 1024
#: What the rest of the CronJob takes in etcd's stored form, generously: the string below
#: fills the object up to etcd's limit.
REST_OF_OBJECT = 8 * 1024


@pytest.fixture(scope="module")
def default_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("size")
    with running_server(
        directory / "server", SessionCA(directory), webhook_policy_paths(directory), ()
    ) as server:
        yield server


def at_etcd_limit(obj: dict[str, Any], filler: str) -> dict[str, Any]:
    """``obj`` with an environment variable of ``filler`` characters that brings its stored
    (protobuf: one byte per such character) size to etcd's limit."""
    big = copy.deepcopy(obj)
    container = big["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "BLOB", "value": filler * (ETCD_OBJECT_BYTES - REST_OF_OBJECT)}]
    return big


def test_the_largest_legal_update_review_is_judged(default_limit_server: Server) -> None:
    """Old and new object each at etcd's limit, made of control characters, which JSON
    escapes six-fold (``\\u0001``): the review is about 18 MiB, four times the old 4 MiB cap,
    and must be judged, not refused."""
    cronjob = fixture_object("018-mutate-CronJob-UPDATE-nightly-report.json")
    old = at_etcd_limit(cronjob, "\x01")
    old["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    new = at_etcd_limit(cronjob, "\x02")  # restartPolicy OnFailure: a new violation
    review = review_for(new, operation="UPDATE", old=old)
    body = json.dumps(review).encode()
    assert 4 * 4 * MIB < len(body) <= DEFAULT_MAX_REQUEST_BYTES
    response = default_limit_server.post("/validate?timeout=10s", body)
    assert response.status_code == 200, response.text[:500]
    answer = response.json()["response"]
    assert answer["uid"] == review["request"]["uid"]
    assert answer["allowed"] is False  # judged: the webhook test policy denies OnFailure
    assert answer["status"]["message"].startswith(
        "jobguard policy: [restart-policy] spec.jobTemplate.spec.template.spec.restartPolicy: "
    )


def test_a_body_over_the_limit_is_413_counted_and_logged_with_its_uid(
    default_limit_server: Server,
) -> None:
    """An oversized review as an API server would send it: the headers announce the body and
    its start follows at once. The answer comes from the headers (the rest is never read),
    echoes the uid found in the body's first bytes, is counted, and logged."""
    server = default_limit_server
    before = server.metric("jobguard_requests_too_large_total", webhook="validate")
    review = review_for(fixture_object("002-validate-Job-CREATE-pi.json"))
    start = json.dumps(review).encode()[:-1] + b', "padding": "'
    size = 2 * DEFAULT_MAX_REQUEST_BYTES  # past what the server would read and drop (256 KiB)
    head = "".join(f"{k}: {v}\r\n" for k, v in APISERVER_HEADERS.items())
    request = (
        f"POST /validate?timeout=10s HTTP/1.1\r\nHost: jobguard\r\n{head}"
        f"Content-Length: {size}\r\n\r\n"
    ).encode() + start
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(request)
        reply = b""
        while chunk := tls.recv(65536):  # answered and closed: the rest is not read
            reply += chunk
    status, _, rest = reply.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413 "), reply[:300]
    answer = json.loads(rest.partition(b"\r\n\r\n")[2])["response"]
    uid = review["request"]["uid"]
    message = f"request body of {size} bytes is over the {DEFAULT_MAX_REQUEST_BYTES}-byte limit"
    assert (answer["uid"], answer["allowed"], answer["status"]["message"]) == (uid, False, message)
    assert server.metric("jobguard_requests_too_large_total", webhook="validate") == before + 1
    server.settle_log()
    [line] = [line for line in server.log_lines() if line.get("uid") == uid]
    assert (line["status"], line["decision"], line["reason"]) == (413, "invalid", message)
    assert line["level"] == "warning"
