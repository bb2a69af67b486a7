#!/usr/bin/env python3
"""What the serving certificate's key type costs per TLS connection, measured in one run.

    python bench/certs_tls.py [--handshakes 300]

The API server opens a new TLS connection to the webhook whenever it has no idle keep-alive
connection, and gunicorn's default builds a new server context per connection. This prints, for
the ECDSA P-256 chain `jobguard certs` makes and, as the baseline, an RSA-2048 chain (the usual
default elsewhere), on loopback with a client that verifies the chain and the Service name:

* the median and p95 time of a full handshake (new TCP connection + TLS 1.3 handshake);
* the median time to build a server context from the files (``load_cert_chain``);
* the time to generate the CA and serving certificate.

Both chains run in the same process, one after the other, so the ratio is what matters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import ssl
import statistics
import tempfile
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jobguard.certs import ensure_certs, parse_subject_names, service_dns_names

SERVICE_NAME = "jobguard.jobguard.svc"


def _rsa_certificate(
    subject: str, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(SERVICE_NAME)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def rsa_chain(directory: Path) -> None:
    """The baseline: the same shape of chain with RSA-2048 keys."""
    ca_cert, ca_key = _rsa_certificate("rsa baseline CA", None)
    leaf_cert, leaf_key = _rsa_certificate(SERVICE_NAME, (ca_cert.subject, ca_key))
    for name, cert, key in (("ca", ca_cert, ca_key), ("tls", leaf_cert, leaf_key)):
        (directory / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (directory / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def measure(directory: Path, handshakes: int) -> dict[str, float]:
    cert, key = str(directory / "tls.crt"), str(directory / "tls.key")
    loads = []
    for _ in range(50):
        start = time.perf_counter()
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
        loads.append(time.perf_counter() - start)

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(handshakes):
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"x")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(str(directory / "ca.crt"))
    times = []
    for _ in range(handshakes):
        start = time.perf_counter()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname=SERVICE_NAME) as tls,
        ):
            times.append(time.perf_counter() - start)
            tls.recv(1)
    thread.join(timeout=30)
    listener.close()
    times.sort()
    return {
        "handshake_median_ms": statistics.median(times) * 1000,
        "handshake_p95_ms": times[int(len(times) * 0.95)] * 1000,
        "load_cert_chain_ms": statistics.median(loads) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ecdsa_dir, rsa_dir = Path(tmp, "ecdsa"), Path(tmp, "rsa")
        rsa_dir.mkdir()
        start = time.perf_counter()
        ensure_certs(ecdsa_dir, parse_subject_names(service_dns_names("jobguard", "jobguard")))
        ecdsa_gen = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        rsa_chain(rsa_dir)
        rsa_gen = (time.perf_counter() - start) * 1000
        ecdsa = measure(ecdsa_dir, args.handshakes)
        baseline = measure(rsa_dir, args.handshakes)
    print(f"{'measurement':34} {'ECDSA P-256':>12} {'RSA-2048':>12} {'ratio':>7}")
    rows = [("generate CA + serving cert, ms", ecdsa_gen, rsa_gen)]
    rows += [(name.replace("_", " "), ecdsa[name], baseline[name]) for name in ecdsa]
    for name, mine, theirs in rows:
        print(f"{name:34} {mine:12.3f} {theirs:12.3f} {mine / theirs:7.2f}")


if __name__ == "__main__":
    main()
