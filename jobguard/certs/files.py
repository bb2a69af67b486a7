"""Certificates on disk: layout, atomic replacement, create/renew, and the expiry check.

Layout of a certificate directory (the serving names match a ``kubernetes.io/tls`` Secret, so a
mounted Secret and a local directory look the same to ``jobguard serve``)::

    ca.crt   CA certificate (PEM)            0644
    ca.key   CA private key (PEM, PKCS#8)    0600
    tls.crt  serving certificate (PEM)       0644
    tls.key  serving private key (PEM)       0600

Every file is replaced atomically (write a temporary file in the same directory, fsync, rename),
so a reader sees the old file or the new one, never half of one. The key is written before its
certificate; a server that reloads the pair at the wrong instant may see a new key with the old
certificate for a moment, which ``read_matching_pair`` detects and retries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from jobguard.certs.pki import (
    DEFAULT_CA_DAYS,
    DEFAULT_RENEW_BEFORE_DAYS,
    DEFAULT_SERVING_DAYS,
    CertificateError,
    KeyPair,
    SubjectNames,
    ca_bundle,
    certificate_names,
    generate_ca,
    is_issued_by,
    issue_serving_certificate,
    load_certificate,
    load_key_pair,
    parse_subject_names,
    remaining,
)

CA_CERT, CA_KEY, SERVING_CERT, SERVING_KEY = "ca.crt", "ca.key", "tls.crt", "tls.key"
PRIVATE_MODE, PUBLIC_MODE = 0o600, 0o644

#: What a local ``jobguard serve`` without ``--cert`` answers to.
DEV_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPaths:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / CA_CERT

    @property
    def ca_key(self) -> Path:
        return self.directory / CA_KEY

    @property
    def cert(self) -> Path:
        return self.directory / SERVING_CERT

    @property
    def key(self) -> Path:
        return self.directory / SERVING_KEY


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` in one rename; the file has ``mode`` from its first byte."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself is durable only once the directory entry is on disk.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_key_pair(pair: KeyPair, cert_path: Path, key_path: Path) -> None:
    """Key first, then certificate: see the module docstring for why."""
    write_atomic(key_path, pair.private_key_pem(), PRIVATE_MODE)
    write_atomic(cert_path, pair.certificate_pem(), PUBLIC_MODE)


def read_key_pair(cert_path: Path, key_path: Path, what: str) -> KeyPair:
    try:
        cert_pem, key_pem = cert_path.read_bytes(), key_path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read {what}: {exc.strerror}: {exc.filename}") from exc
    return load_key_pair(cert_pem, key_pem, what)


def read_matching_pair(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    *,
    attempts: int = 5,
    delay: float = 0.1,
) -> tuple[bytes, bytes]:
    """PEM bytes of a certificate and key that belong together, for servers that reload them.

    Retries a few times when they do not match, which happens for a moment while the pair is
    being rotated; raises CertificateError if they still do not match.
    """
    for attempt in range(attempts):
        cert_pem, key_pem = Path(cert_path).read_bytes(), Path(key_path).read_bytes()
        try:
            load_key_pair(cert_pem, key_pem, "serving certificate")
        except CertificateError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
        else:
            return cert_pem, key_pem
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class EnsureResult:
    """What ``ensure_certs`` did, and why.

    ``ca_bundle`` is what the webhook configurations must trust: the CA, plus the CA it just
    replaced while that one is still valid (a rollover; the next run drops it).
    """

    paths: CertPaths
    ca_created: bool
    serving_issued: bool
    reasons: tuple[str, ...]
    ca_bundle: str

    def summary(self) -> str:
        if not self.ca_created and not self.serving_issued:
            return f"certificates in {self.paths.directory} are current; nothing to do"
        made = []
        if self.ca_created:
            made.append("a new CA (the caBundle changed)")
        if self.serving_issued:
            made.append("a new serving certificate")
        return f"wrote {' and '.join(made)} in {self.paths.directory}: {'; '.join(self.reasons)}"


def _ca_problem(paths: CertPaths, renew_before: dt.timedelta, now: dt.datetime) -> str | None:
    if not paths.ca_cert.exists() and not paths.ca_key.exists():
        return "no CA yet"
    try:
        ca = read_key_pair(paths.ca_cert, paths.ca_key, "CA certificate")
    except CertificateError as exc:
        # Never replace a damaged or unreadable CA behind the operator's back: every client
        # trusting it would stop trusting the webhook.
        raise CertificateError(
            f"{exc}; repair it, or replace the CA on purpose (jobguard certs --new-ca)"
        ) from exc
    if remaining(ca.certificate, now) < renew_before:
        return f"the CA expires {ca.certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


def _serving_problem(
    paths: CertPaths,
    ca: KeyPair,
    names: SubjectNames,
    renew_before: dt.timedelta,
    now: dt.datetime,
) -> str | None:
    if not paths.cert.exists() and not paths.key.exists():
        return "no serving certificate yet"
    try:
        pair = read_key_pair(paths.cert, paths.key, "serving certificate")
    except CertificateError as exc:
        return str(exc)
    if not is_issued_by(pair.certificate, ca.certificate):
        return "the serving certificate was not signed by this CA"
    missing = names.missing_from(pair.certificate)
    if missing:
        return f"the serving certificate does not cover {', '.join(missing)}"
    if remaining(pair.certificate, now) < renew_before:
        return f"the serving certificate expires {pair.certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


def ensure_certs(
    directory: str | os.PathLike[str],
    names: SubjectNames,
    *,
    serving_days: int = DEFAULT_SERVING_DAYS,
    ca_days: int = DEFAULT_CA_DAYS,
    renew_before_days: int = DEFAULT_RENEW_BEFORE_DAYS,
    renew: bool = False,
    new_ca: bool = False,
    now: dt.datetime | None = None,
) -> EnsureResult:
    """Make ``directory`` hold a CA and a serving certificate for ``names``; idempotent.

    Keeps what is still good. The serving certificate is re-issued (the CA stays) when it is
    missing, unreadable, not from this CA, lacks a name, expires within ``renew_before_days``,
    or ``renew`` is set. The CA is created when absent and replaced only when it is itself due
    for renewal or ``new_ca`` is set; a damaged or unreadable CA raises CertificateError; a new CA always brings a new serving certificate, and the
    returned ``ca_bundle`` still trusts the old CA for this one run (see EnsureResult).
    """
    paths = CertPaths(Path(directory))
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    moment = now or dt.datetime.now(dt.UTC)
    threshold = dt.timedelta(days=renew_before_days)
    reasons: list[str] = []

    ca_problem = "a new CA was requested" if new_ca else _ca_problem(paths, threshold, moment)
    trusted_before = b""
    if ca_problem is not None:
        reasons.append(ca_problem)
        trusted_before = _still_valid_ca_pem(paths, moment)
        ca = generate_ca(days=ca_days, now=moment)
        write_key_pair(ca, paths.ca_cert, paths.ca_key)
    else:
        ca = read_key_pair(paths.ca_cert, paths.ca_key, "CA certificate")

    serving_problem: str | None
    if ca_problem is not None:
        serving_problem = "the CA is new"
    elif renew:
        serving_problem = "renewal was requested"
    else:
        serving_problem = _serving_problem(paths, ca, names, threshold, moment)
    if serving_problem is not None:
        if serving_problem not in reasons:
            reasons.append(serving_problem)
        covered = names.merged(_local_names_of(paths.cert))
        serving = issue_serving_certificate(ca, covered, days=serving_days, now=moment)
        write_key_pair(serving, paths.cert, paths.key)
    return EnsureResult(
        paths,
        ca_created=ca_problem is not None,
        serving_issued=serving_problem is not None,
        reasons=tuple(reasons),
        ca_bundle=ca_bundle(ca.certificate_pem(), trusted_before),
    )


def _local_names_of(cert_path: Path) -> SubjectNames:
    """The loopback names (DEV_NAMES) the serving certificate at ``cert_path`` covers.

    A development server (``jobguard serve`` on its generated certificate) and ``jobguard certs``
    share one directory; re-issuing for the Service names alone would drop localhost from under
    the running server. Only loopback names carry over: they reach nothing but this machine, so
    keeping them cannot widen what the certificate vouches for, while a ``--san`` the operator
    removed is really removed.
    """
    try:
        existing = certificate_names(load_certificate(cert_path.read_bytes()))
    except (OSError, CertificateError):
        return SubjectNames()
    local = parse_subject_names(DEV_NAMES)
    return SubjectNames(
        tuple(n for n in existing.dns_names if n in local.dns_names),
        tuple(ip for ip in existing.ip_addresses if ip in local.ip_addresses),
    )


def _still_valid_ca_pem(paths: CertPaths, now: dt.datetime) -> bytes:
    """The CA certificate being replaced, if it still verifies anything; else b"".

    It stays in this run's caBundle so servers still presenting a certificate from it are
    trusted until they pick up the new one; the next run's bundle has the new CA only.
    """
    try:
        old = load_certificate(paths.ca_cert.read_bytes())
    except (OSError, CertificateError):
        return b""
    if remaining(old, now) <= dt.timedelta(0):
        return b""
    return old.public_bytes(serialization.Encoding.PEM)


def ensure_dev_certs(
    directory: str | os.PathLike[str], names: Iterable[str] = DEV_NAMES
) -> tuple[Path, Path, Path]:
    """(cert_path, key_path, ca_path) of a local development chain for ``names``.

    Reuses the files in ``directory`` while they are valid, so a client can keep trusting the
    same ``ca.crt`` across restarts of a development server. A serving certificate already there
    (say, one ``jobguard certs`` made for the Service) keeps its names: when it lacks ``names``
    it is re-issued for both, so the same directory serves both purposes.
    """
    wanted = parse_subject_names(names)
    paths = CertPaths(Path(directory))
    try:
        existing = load_certificate(paths.cert.read_bytes())
    except (OSError, CertificateError):
        existing = None
    if existing is not None:
        wanted = certificate_names(existing).merged(wanted)
    result = ensure_certs(directory, wanted)
    return result.paths.cert, result.paths.key, result.paths.ca_cert


@dataclass(frozen=True)
class CertStatus:
    """One certificate as ``--check`` reports it."""

    what: str
    path: Path
    not_after: dt.datetime
    days_left: float
    names: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """The outcome of ``check_certs``: ``exit_code`` 0 fine, 1 renewal due, 2 files unusable."""

    statuses: list[CertStatus] = field(default_factory=list)
    renewal_due: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return 2
        return 1 if self.renewal_due else 0


def check_certs(
    directory: str | os.PathLike[str],
    names: SubjectNames,
    *,
    renew_before_days: int = DEFAULT_RENEW_BEFORE_DAYS,
    now: dt.datetime | None = None,
) -> CheckReport:
    """Expiry and name coverage of the certificates in ``directory``; never writes."""
    paths = CertPaths(Path(directory))
    moment = now or dt.datetime.now(dt.UTC)
    threshold = dt.timedelta(days=renew_before_days)
    report = CheckReport()
    pairs: dict[str, KeyPair] = {}
    for what, cert_path, key_path in (
        ("CA certificate", paths.ca_cert, paths.ca_key),
        ("serving certificate", paths.cert, paths.key),
    ):
        try:
            pair = read_key_pair(cert_path, key_path, what)
        except CertificateError as exc:
            report.unusable.append(str(exc))
            continue
        pairs[what] = pair
        left = remaining(pair.certificate, moment)
        sans = certificate_names(pair.certificate)
        report.statuses.append(
            CertStatus(
                what,
                cert_path,
                pair.certificate.not_valid_after_utc,
                left.total_seconds() / 86400,
                sans.dns_names + tuple(str(ip) for ip in sans.ip_addresses),
            )
        )
        if left <= dt.timedelta(0):
            report.renewal_due.append(f"{what} expired on {_day(pair)}")
        elif left < threshold:
            report.renewal_due.append(
                f"{what} expires on {_day(pair)}, within {renew_before_days} days"
            )
    serving, ca = pairs.get("serving certificate"), pairs.get("CA certificate")
    if serving is not None:
        missing = names.missing_from(serving.certificate)
        if missing:
            report.renewal_due.append(f"serving certificate does not cover {', '.join(missing)}")
        if ca is not None and not is_issued_by(serving.certificate, ca.certificate):
            report.renewal_due.append("serving certificate was not signed by the CA in ca.crt")
    return report


def _day(pair: KeyPair) -> str:
    return f"{pair.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
