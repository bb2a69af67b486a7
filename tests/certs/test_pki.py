"""The in-memory CA and serving certificates: names, key usages, validity."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from jobguard.certs import (
    CertificateError,
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

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def test_service_dns_names_cover_what_the_api_server_and_pods_resolve() -> None:
    assert service_dns_names("jobguard", "platform") == (
        "jobguard.platform.svc",
        "jobguard.platform.svc.cluster.local",
        "jobguard.platform",
        "jobguard",
    )


@pytest.mark.parametrize(("service", "namespace"), [("", "ns"), ("Job_Guard", "ns"), ("jg", "a.b")])
def test_service_dns_names_refuse_names_that_are_not_dns_labels(
    service: str, namespace: str
) -> None:
    with pytest.raises(CertificateError, match="is not a DNS-1123 label"):
        service_dns_names(service, namespace)


def test_parse_subject_names_splits_ips_from_dns_names_and_drops_duplicates() -> None:
    names = parse_subject_names(["Webhook.Example.COM.", "10.0.0.7", "::1", "webhook.example.com"])
    assert names == SubjectNames(
        ("webhook.example.com",),
        (ipaddress.ip_address("10.0.0.7"), ipaddress.ip_address("::1")),
    )


@pytest.mark.parametrize("bad", ["", "under_score.example", "a..b", "x.*.example", "-lead.example"])
def test_parse_subject_names_rejects_invalid_names(bad: str) -> None:
    with pytest.raises(CertificateError, match="neither an IP address nor a valid DNS name"):
        parse_subject_names([bad])


def test_ca_is_a_p256_path_length_zero_signing_ca() -> None:
    ca = generate_ca(now=NOW, days=100)
    cert = ca.certificate
    assert isinstance(ca.private_key.curve, ec.SECP256R1)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert (constraints.value.ca, constraints.value.path_length) == (True, 0)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.key_cert_sign, usage.crl_sign) == (True, True)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=100)
    assert is_issued_by(cert, cert)


def test_serving_certificate_is_a_server_auth_leaf_for_exactly_the_requested_names() -> None:
    ca = generate_ca(now=NOW)
    names = parse_subject_names([*service_dns_names("jobguard", "jobguard"), "127.0.0.1"])
    leaf = issue_serving_certificate(ca, names, days=90, now=NOW).certificate

    assert certificate_names(leaf) == names
    assert names.missing_from(leaf) == []
    assert leaf.subject.rfc4514_string() == "CN=jobguard.jobguard.svc"
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.key_cert_sign) == (True, False)
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    assert leaf.not_valid_before_utc == NOW - dt.timedelta(minutes=5)
    assert leaf.not_valid_after_utc == NOW - dt.timedelta(minutes=5) + dt.timedelta(days=90)
    assert is_issued_by(leaf, ca.certificate)
    assert not is_issued_by(leaf, generate_ca(now=NOW).certificate)


def test_serving_certificate_never_outlives_its_ca() -> None:
    ca = generate_ca(now=NOW, days=10)
    leaf = issue_serving_certificate(ca, parse_subject_names(["a.example"]), days=365, now=NOW)
    assert leaf.certificate.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_an_expired_ca_cannot_issue() -> None:
    ca = generate_ca(now=NOW, days=1)
    with pytest.raises(CertificateError, match="the CA has expired"):
        issue_serving_certificate(
            ca, parse_subject_names(["a.example"]), now=NOW + dt.timedelta(days=2)
        )


def test_missing_from_names_each_uncovered_name() -> None:
    ca = generate_ca(now=NOW)
    leaf = issue_serving_certificate(ca, parse_subject_names(["a.example"]), now=NOW).certificate
    wanted = parse_subject_names(["a.example", "b.example", "10.1.2.3"])
    assert wanted.missing_from(leaf) == ["b.example", "10.1.2.3"]


def test_load_key_pair_refuses_a_key_from_another_pair() -> None:
    first, second = generate_ca(now=NOW), generate_ca(now=NOW)
    with pytest.raises(CertificateError, match="do not belong together"):
        load_key_pair(first.certificate_pem(), second.private_key_pem())
    with pytest.raises(CertificateError, match="is not a PEM certificate"):
        load_key_pair(b"garbage", first.private_key_pem())
    with pytest.raises(CertificateError, match="not an unencrypted PEM private key"):
        load_key_pair(first.certificate_pem(), b"garbage")


def test_ca_bundle_is_base64_of_the_pem() -> None:
    ca = generate_ca(now=NOW)
    assert base64.b64decode(ca_bundle(ca.certificate_pem())) == ca.certificate_pem()


def test_imports_stay_light() -> None:
    """The CLI group never loads cryptography; the certs package never loads the k8s client."""
    import subprocess
    import sys

    probe = (
        "import sys, {module}; "
        "print(sorted(m for m in ('cryptography', 'kubernetes') if m in sys.modules))"
    )
    loaded = {
        module: subprocess.run(
            [sys.executable, "-c", probe.format(module=module)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for module in ("jobguard.cli", "jobguard.certs")
    }
    assert loaded == {"jobguard.cli": "[]", "jobguard.certs": "['cryptography']"}
