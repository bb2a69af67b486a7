"""A chain from `jobguard certs` really serves TLS: the client trusts only the printed caBundle
and asks for the Service's DNS name via SNI, as the API server does.

Two servers: a plain Python ssl server (to see exactly what the client sent and to check the
failure cases) and the real `jobguard serve` (gunicorn), which must also pick up a renewed
certificate without a restart.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

SERVICE_NAME = "jobguard.jobguard.svc"
FIXTURES = Path(__file__).parent / "fixtures"


def jobguard_certs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", "certs", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def client_context(ca_bundle: str) -> ssl.SSLContext:
    """Trusts the caBundle and nothing else (no system roots), verifies the host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=base64.b64decode(ca_bundle).decode("ascii"))
    return context


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("certs")
    result = jobguard_certs("--dir", str(directory))
    assert result.returncode == 0, result.stderr
    return directory, result.stdout.strip()


@pytest.fixture
def plain_tls_server(chain: tuple[Path, str]) -> Iterator[tuple[int, list[str | None]]]:
    directory, _ = chain
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "tls.crt", directory / "tls.key")
    server_names: list[str | None] = []

    def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        server_names.append(name)

    context.sni_callback = record_sni
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello over tls")
            except (ssl.SSLError, OSError):
                pass  # the client refused us: that is what some tests want

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], server_names
    finally:
        # close() alone leaves accept() blocked until its timeout; shutdown wakes it at once
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_client_verifies_the_chain_for_the_service_name(
    chain: tuple[Path, str], plain_tls_server: tuple[int, list[str | None]]
) -> None:
    _, bundle = chain
    port, server_names = plain_tls_server
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client_context(bundle).wrap_socket(raw, server_hostname=SERVICE_NAME) as tls,
    ):
        assert tls.recv(100) == b"hello over tls"
        peer = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
    assert server_names == [SERVICE_NAME]
    assert peer.subject.rfc4514_string() == f"CN={SERVICE_NAME}"


@pytest.mark.parametrize("name", ["jobguard.other.svc", "evil.example.com"])
def test_client_refuses_a_name_the_certificate_does_not_cover(
    chain: tuple[Path, str], plain_tls_server: tuple[int, list[str | None]], name: str
) -> None:
    _, bundle = chain
    port, _ = plain_tls_server
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"),
    ):
        client_context(bundle).wrap_socket(raw, server_hostname=name)


def test_client_refuses_the_server_under_another_ca(
    tmp_path: Path, plain_tls_server: tuple[int, list[str | None]]
) -> None:
    other = jobguard_certs("--dir", str(tmp_path / "other"))
    port, _ = plain_tls_server
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"),
    ):
        client_context(other.stdout.strip()).wrap_socket(raw, server_hostname=SERVICE_NAME)


def test_check_flags_a_certificate_that_expires_soon(tmp_path: Path) -> None:
    made = jobguard_certs("--dir", str(tmp_path), "--days", "10")
    assert made.returncode == 0, made.stderr
    check = jobguard_certs("--dir", str(tmp_path), "--check")
    assert check.returncode == 1
    assert check.stdout.splitlines()[-1].startswith("RENEW: serving certificate expires on ")
    assert check.stdout.splitlines()[-1].endswith(", within 30 days")
    relaxed = jobguard_certs("--dir", str(tmp_path), "--check", "--renew-before", "5")
    assert relaxed.returncode == 0
    assert relaxed.stdout.splitlines()[-1] == "OK: nothing expires within 5 days"
    # The next ordinary run renews it, keeping the CA (same caBundle).
    renewed = jobguard_certs("--dir", str(tmp_path))
    assert renewed.stdout == made.stdout
    assert jobguard_certs("--dir", str(tmp_path), "--check").returncode == 0


def test_check_on_missing_files_exits_2(tmp_path: Path) -> None:
    check = jobguard_certs("--dir", str(tmp_path / "nothing"), "--check")
    assert check.returncode == 2
    assert check.stdout.splitlines()[0].startswith("UNUSABLE: cannot read CA certificate")


def test_a_damaged_ca_stops_the_command_without_touching_files(tmp_path: Path) -> None:
    assert jobguard_certs("--dir", str(tmp_path)).returncode == 0
    (tmp_path / "ca.key").write_text("not a key")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    run = jobguard_certs("--dir", str(tmp_path))
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith("error: CA certificate key is not an unencrypted PEM private key")
    assert run.stderr.rstrip().endswith("replace the CA on purpose (jobguard certs --new-ca)")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_bad_san_is_a_usage_error(tmp_path: Path) -> None:
    run = jobguard_certs("--dir", str(tmp_path), "--san", "not_a name")
    assert run.returncode == 2
    assert "'not_a name' is neither an IP address nor a valid DNS name" in run.stderr
    assert list(tmp_path.iterdir()) == []


# --- the real webhook server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def https(
    port: int, bundle: str, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes, x509.Certificate]:
    """One HTTP/1.1 request to 127.0.0.1 with SNI and verification for the Service's name."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client_context(bundle).wrap_socket(raw, server_hostname=SERVICE_NAME) as tls,
    ):
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {SERVICE_NAME}:443\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        peer = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
        tls.sendall(head.encode() + body)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2], peer


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    directory = tmp_path / "certs"
    made = jobguard_certs("--dir", str(directory))
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobguard",
            "serve",
            f"--cert={directory / 'tls.crt'}",
            f"--key={directory / 'tls.key'}",
            f"--bind=127.0.0.1:{port}",
            "--metrics-port=0",
            "--workers=1",
            "--threads=4",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "serve.log").read_text(errors="replace")
                    raise AssertionError(f"jobguard serve did not start:\n{output}") from None
                time.sleep(0.2)
        yield port, directory, made.stdout.strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_real_webhook_answers_over_the_verified_chain(real_server: tuple[int, Path, str]) -> None:
    port, _, bundle = real_server
    status, body, peer = https(port, bundle, "GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert peer.subject.rfc4514_string() == f"CN={SERVICE_NAME}"

    review = (FIXTURES / "validate-Job-CREATE-pi.json").read_bytes()
    status, body, _ = https(port, bundle, "POST", "/validate", review)
    answer = json.loads(body)
    assert status == 200
    assert (answer["apiVersion"], answer["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    assert answer["response"]["uid"] == json.loads(review)["request"]["uid"]


def test_real_webhook_serves_a_renewed_certificate_without_a_restart(
    real_server: tuple[int, Path, str],
) -> None:
    port, directory, bundle = real_server
    _, _, before = https(port, bundle, "GET", "/healthz")
    renewed = jobguard_certs("--dir", str(directory), "--renew")
    assert renewed.returncode == 0, renewed.stderr
    assert renewed.stdout.strip() == bundle  # same CA: the webhook configurations stay valid
    new_serial = x509.load_pem_x509_certificate((directory / "tls.crt").read_bytes()).serial_number
    assert new_serial != before.serial_number
    deadline = time.monotonic() + 10
    while True:
        status, _, after = https(port, bundle, "GET", "/healthz")
        assert status == 200
        if after.serial_number == new_serial or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after.serial_number == new_serial
