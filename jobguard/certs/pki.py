"""In-memory certificate authority and serving certificates (no file I/O).

Everything here works on ``cryptography`` objects and PEM bytes, so it can be tested and reused
without touching a disk. ``files.py`` puts these on disk; ``cluster.py`` puts them in a cluster.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The CA outlives many serving certificates: rotating it means re-patching every caBundle.
DEFAULT_CA_DAYS = 3650
#: One year: long enough that a forgotten rotation is noticed by ``--check`` well in advance.
DEFAULT_SERVING_DAYS = 365
#: ``--check`` and ``ensure_dev_certs`` renew a serving certificate this close to expiry.
DEFAULT_RENEW_BEFORE_DAYS = 30
#: Certificates start a few minutes in the past so small clock skew between hosts is harmless.
CLOCK_SKEW = dt.timedelta(minutes=5)

_T = TypeVar("_T")
_DNS_LABEL = re.compile(r"^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$")


class CertificateError(ValueError):
    """A certificate, key or name that cannot be used; the message says why."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class SubjectNames:
    """The subjectAltName entries a serving certificate must carry."""

    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[IPAddress, ...] = ()

    def merged(self, other: SubjectNames) -> SubjectNames:
        return SubjectNames(
            _unique(self.dns_names + other.dns_names),
            _unique(self.ip_addresses + other.ip_addresses),
        )

    def missing_from(self, cert: x509.Certificate) -> list[str]:
        """Names of this set that ``cert`` does not cover (exact match, as TLS clients check)."""
        present = certificate_names(cert)
        missing = [n for n in self.dns_names if n not in present.dns_names]
        missing += [str(ip) for ip in self.ip_addresses if ip not in present.ip_addresses]
        return missing


def _unique(items: Sequence[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


def service_dns_names(service: str, namespace: str) -> tuple[str, ...]:
    """The names the API server (and in-cluster clients) use to reach ``service``.

    The API server calls a webhook at ``<service>.<namespace>.svc``; the longer form is what
    other clients resolve. The short forms are included so ``curl`` from a pod works too.
    """
    for part, what in ((service, "service"), (namespace, "namespace")):
        if not part or not _DNS_LABEL.match(part) or part == "*":
            raise CertificateError(f"{what} {part!r} is not a DNS-1123 label")
    return (
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        f"{service}.{namespace}",
        service,
    )


def parse_subject_names(values: Iterable[str]) -> SubjectNames:
    """Split user-given SAN values into DNS names and IP addresses, validating each."""
    dns: list[str] = []
    ips: list[IPAddress] = []
    for raw in values:
        value = raw.strip()
        try:
            ips.append(ipaddress.ip_address(value))
            continue
        except ValueError:
            pass
        name = value.lower().rstrip(".")
        labels = name.split(".")
        if (
            not name
            or len(name) > 253
            or not all(_DNS_LABEL.match(label) for label in labels)
            or "*" in labels[1:]
        ):
            raise CertificateError(f"{raw!r} is neither an IP address nor a valid DNS name")
        dns.append(name)
    return SubjectNames(_unique(dns), _unique(ips))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def generate_ca(
    common_name: str = "jobguard webhook CA",
    *,
    days: int = DEFAULT_CA_DAYS,
    now: dt.datetime | None = None,
) -> KeyPair:
    """A self-signed ECDSA P-256 CA that may sign end-entity certificates only (pathlen 0)."""
    if days < 1:
        raise CertificateError("a CA must be valid for at least one day")
    start = (now or _now()) - CLOCK_SKEW
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert, key)


def issue_serving_certificate(
    ca: KeyPair,
    names: SubjectNames,
    *,
    days: int = DEFAULT_SERVING_DAYS,
    now: dt.datetime | None = None,
) -> KeyPair:
    """An ECDSA P-256 TLS server certificate for ``names``, signed by ``ca``.

    Never valid beyond the CA itself: a chain is only as valid as its shortest link.
    """
    if not names.dns_names and not names.ip_addresses:
        raise CertificateError("a serving certificate needs at least one DNS name or IP address")
    if days < 1:
        raise CertificateError("a serving certificate must be valid for at least one day")
    start = (now or _now()) - CLOCK_SKEW
    end = min(start + dt.timedelta(days=days), ca.certificate.not_valid_after_utc)
    if end <= start + CLOCK_SKEW:
        raise CertificateError("the CA has expired or expires now: generate a new CA")
    key = _new_key()
    common_name = (names.dns_names[0] if names.dns_names else str(names.ip_addresses[0]))[:64]
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names.dns_names]
    sans += [x509.IPAddress(ip) for ip in names.ip_addresses]
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    return KeyPair(cert, key)


def load_certificate(pem: bytes, what: str = "certificate") -> x509.Certificate:
    """The first certificate in ``pem``; a clear error when there is none."""
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise CertificateError(f"{what} is not a PEM certificate: {exc}") from exc


def load_private_key(pem: bytes, what: str = "private key") -> ec.EllipticCurvePrivateKey:
    """An unencrypted EC private key from PEM; other key types are refused."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"{what} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{what} is not an EC key ({type(key).__name__})")
    return key


def load_key_pair(cert_pem: bytes, key_pem: bytes, what: str = "certificate") -> KeyPair:
    """A certificate and key that belong together, or a CertificateError saying they do not."""
    pair = KeyPair(load_certificate(cert_pem, what), load_private_key(key_pem, f"{what} key"))
    if not key_matches(pair.certificate, pair.private_key):
        raise CertificateError(f"{what} and its key do not belong together")
    return pair


def key_matches(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return bool(cert.public_key().public_bytes(*fmt) == key.public_key().public_bytes(*fmt))


def is_issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """Whether ``ca_cert`` signed ``cert`` (signature and issuer name both checked)."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def certificate_names(cert: x509.Certificate) -> SubjectNames:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return SubjectNames()
    return SubjectNames(
        tuple(san.get_values_for_type(x509.DNSName)),
        tuple(
            ip
            for ip in san.get_values_for_type(x509.IPAddress)
            if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
        ),
    )


def ca_bundle(*ca_pems: bytes) -> str:
    """The ``caBundle`` value of a webhook configuration: base64 of the concatenated PEM."""
    return base64.b64encode(b"".join(ca_pems)).decode("ascii")


def remaining(cert: x509.Certificate, now: dt.datetime | None = None) -> dt.timedelta:
    """Time left until ``cert`` expires (negative once expired)."""
    return cert.not_valid_after_utc - (now or _now())
