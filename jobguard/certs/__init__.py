"""TLS certificates for the jobguard webhook: a private CA and ECDSA P-256 serving certificates.

Importing this package needs ``cryptography`` (never the Kubernetes client: that lives in
``jobguard.certs.cluster`` and is imported only for in-cluster installs). What it offers:

- ``ensure_dev_certs(directory, names=DEV_NAMES) -> (cert_path, key_path, ca_path)``: a CA and a
  serving certificate for a local server (default names: localhost, 127.0.0.1, ::1), reused while
  valid. ``jobguard serve`` without ``--cert`` uses it; clients trust ``ca_path``.
- ``ensure_certs(directory, names, ...) -> EnsureResult``: the same with every knob (validity,
  renewal threshold, forced renewal, new CA); renews the serving certificate before expiry while
  the CA stays; ``EnsureResult.ca_bundle`` is the webhook configurations' ``caBundle``.
- ``check_certs(directory, names, renew_before_days=...) -> CheckReport``: expiry and SAN
  coverage; ``CheckReport.exit_code`` is 0 (fine), 1 (renewal due) or 2 (files unusable).
- ``read_matching_pair(cert_path, key_path) -> (cert_pem, key_pem)``: for servers that reload
  certificates from disk; retries through the instant of a rotation when key and certificate
  briefly do not match.
- ``service_dns_names(service, namespace)``, ``parse_subject_names(values)``, ``SubjectNames``:
  which names a serving certificate must carry.
- Lower level, in memory (``jobguard.certs.pki``): ``generate_ca``, ``issue_serving_certificate``,
  ``load_key_pair``, ``is_issued_by``, ``certificate_names``, ``ca_bundle``.

File layout and atomic replacement are described in ``jobguard.certs.files``.
"""

from jobguard.certs.files import (
    CA_CERT,
    CA_KEY,
    DEV_NAMES,
    SERVING_CERT,
    SERVING_KEY,
    CertPaths,
    CertStatus,
    CheckReport,
    EnsureResult,
    check_certs,
    ensure_certs,
    ensure_dev_certs,
    read_matching_pair,
    write_atomic,
)
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
    load_key_pair,
    parse_subject_names,
    service_dns_names,
)

__all__ = [
    "CA_CERT",
    "CA_KEY",
    "DEFAULT_CA_DAYS",
    "DEFAULT_RENEW_BEFORE_DAYS",
    "DEFAULT_SERVING_DAYS",
    "DEV_NAMES",
    "SERVING_CERT",
    "SERVING_KEY",
    "CertPaths",
    "CertStatus",
    "CertificateError",
    "CheckReport",
    "EnsureResult",
    "KeyPair",
    "SubjectNames",
    "ca_bundle",
    "certificate_names",
    "check_certs",
    "ensure_certs",
    "ensure_dev_certs",
    "generate_ca",
    "is_issued_by",
    "issue_serving_certificate",
    "load_key_pair",
    "parse_subject_names",
    "read_matching_pair",
    "service_dns_names",
    "write_atomic",
]
