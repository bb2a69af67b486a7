"""TLS of the real server: ECDSA certificate, TLS 1.2 minimum, and certificate rotation picked up
from disk without a restart and without failing a request."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from jobguard.certs.files import write_atomic
from tests.webhook.support import (
    Server,
    SessionCA,
    load_review,
    running_server,
    webhook_policy_paths,
)

REVIEW = load_review("002-validate-Job-CREATE-pi.json")


def client_context(server: Server, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = maximum
    return context


def served_certificate(server: Server) -> x509.Certificate:
    """The certificate a new connection is given."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_context(server))
    try:
        conn.connect()
        assert isinstance(conn.sock, ssl.SSLSocket)
        der = conn.sock.getpeercert(binary_form=True)
    finally:
        conn.close()
    assert der is not None
    return x509.load_der_x509_certificate(der)


def validate_on(conn: http.client.HTTPSConnection) -> int:
    conn.request(
        "POST", "/validate", body=json.dumps(REVIEW), headers={"Content-Type": "application/json"}
    )
    response = conn.getresponse()
    body = json.loads(response.read())
    assert body["response"]["uid"] == REVIEW["request"]["uid"]
    return response.status


def test_serving_certificate_is_ecdsa_p256(server: Server) -> None:
    key = served_certificate(server).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13_are_accepted(server: Server, version: ssl.TLSVersion) -> None:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=client_context(server, version)
    )
    try:
        assert validate_on(conn) == 200
        assert (
            isinstance(conn.sock, ssl.SSLSocket)
            and conn.sock.version()
            == {
                ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                ssl.TLSVersion.TLSv1_3: "TLSv1.3",
            }[version]
        )
    finally:
        conn.close()


def test_server_context_requires_tls_12(server: Server) -> None:
    from jobguard.webhook.tls import build_context

    context = build_context(str(server.cert_path), str(server.key_path))
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_11_is_refused(server: Server) -> None:
    context = client_context(server, ssl.TLSVersion.TLSv1_1)
    context.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer TLS 1.1 at all
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
    with pytest.raises(ssl.SSLError):
        conn.connect()
    conn.close()


def test_rotated_certificate_is_served_without_restart_and_without_failed_requests(
    tmp_path: Path, test_ca: SessionCA
) -> None:
    with running_server(tmp_path, test_ca, webhook_policy_paths(tmp_path)) as server:
        first = served_certificate(server)
        pid = server.process.pid
        kept_alive = http.client.HTTPSConnection(
            "127.0.0.1", server.port, context=client_context(server)
        )
        assert validate_on(kept_alive) == 200

        failures: list[str] = []
        done = threading.Event()

        def hammer() -> None:  # new connections all through the rotations
            while not done.is_set():
                conn = http.client.HTTPSConnection(
                    "127.0.0.1", server.port, context=client_context(server), timeout=10
                )
                try:
                    if validate_on(conn) != 200:
                        failures.append("status")
                except Exception as exc:
                    failures.append(repr(exc))
                finally:
                    conn.close()

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        serials = {first.serial_number}
        try:
            for _ in range(3):
                time.sleep(0.3)
                serials.add(
                    test_ca.issue(server.cert_path, server.key_path).certificate.serial_number
                )
        finally:
            done.set()
            for t in threads:
                t.join()
        assert failures == []
        now_served = served_certificate(server)
        assert now_served.serial_number != first.serial_number
        assert now_served.serial_number in serials
        assert validate_on(kept_alive) == 200  # the old connection was not dropped
        kept_alive.close()
        assert server.process.pid == pid and server.process.poll() is None


def test_half_rotated_pair_keeps_the_previous_certificate(
    tmp_path: Path, test_ca: SessionCA
) -> None:
    with running_server(tmp_path, test_ca, webhook_policy_paths(tmp_path)) as server:
        before = served_certificate(server)
        other = tmp_path / "other"
        other.mkdir()
        new = test_ca.issue(other / "tls.crt", other / "tls.key")
        # The key is replaced first; for a moment it does not match the certificate.
        write_atomic(server.key_path, new.private_key_pem(), 0o600)
        time.sleep(0.05)
        assert served_certificate(server).serial_number == before.serial_number
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_context(server))
        assert validate_on(conn) == 200
        conn.close()
        write_atomic(server.cert_path, new.certificate_pem(), 0o644)
        assert served_certificate(server).serial_number == new.certificate.serial_number
        failed = [
            line for line in server.log_lines() if line.get("event") == "certificate_reload_failed"
        ]
        assert failed and failed[0]["serving"] == "previous certificate"
