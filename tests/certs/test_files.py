"""Certificates on disk: modes, idempotency, renewal with the CA kept, atomic replacement."""

from __future__ import annotations

import base64
import datetime as dt
import stat
import threading
from pathlib import Path

import pytest

from jobguard.certs import (
    CertificateError,
    check_certs,
    ensure_certs,
    ensure_dev_certs,
    parse_subject_names,
    read_matching_pair,
    service_dns_names,
    write_atomic,
)
from jobguard.certs.files import CertPaths
from jobguard.certs.pki import certificate_names, generate_ca, load_certificate

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
NAMES = parse_subject_names(service_dns_names("jobguard", "jobguard"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(paths: CertPaths) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (paths.ca_cert, paths.ca_key, paths.cert, paths.key)}


def test_first_run_writes_ca_and_serving_pair_with_private_keys_0600(tmp_path: Path) -> None:
    result = ensure_certs(tmp_path / "certs", NAMES, now=NOW)
    paths = result.paths
    assert (result.ca_created, result.serving_issued) == (True, True)
    assert result.reasons == ("no CA yet", "the CA is new")
    assert {p.name: mode(p) for p in paths.directory.iterdir()} == {
        "ca.crt": 0o644,
        "ca.key": 0o600,
        "tls.crt": 0o644,
        "tls.key": 0o600,
    }
    assert mode(paths.directory) == 0o700


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    first = ensure_certs(tmp_path, NAMES, now=NOW)
    before = snapshot(first.paths)
    again = ensure_certs(tmp_path, NAMES, now=NOW + dt.timedelta(days=200))
    assert (again.ca_created, again.serving_issued, again.reasons) == (False, False, ())
    assert snapshot(again.paths) == before
    assert again.ca_bundle == first.ca_bundle


def test_serving_cert_is_renewed_inside_the_threshold_and_the_ca_stays(tmp_path: Path) -> None:
    first = ensure_certs(tmp_path, NAMES, serving_days=60, now=NOW)
    before = snapshot(first.paths)
    later = NOW + dt.timedelta(days=31)  # 29 days left < 30-day threshold
    renewed = ensure_certs(tmp_path, NAMES, serving_days=60, now=later)
    after = snapshot(renewed.paths)
    assert (renewed.ca_created, renewed.serving_issued) == (False, True)
    assert renewed.reasons == ("the serving certificate expires 2030-03-01",)
    assert (after["ca.crt"], after["ca.key"]) == (before["ca.crt"], before["ca.key"])
    assert after["tls.crt"] != before["tls.crt"] and after["tls.key"] != before["tls.key"]
    assert renewed.ca_bundle == first.ca_bundle


def test_a_new_name_reissues_the_serving_cert_only(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES, now=NOW)
    wider = NAMES.merged(parse_subject_names(["webhook.example.com"]))
    result = ensure_certs(tmp_path, wider, now=NOW)
    assert (result.ca_created, result.serving_issued) == (False, True)
    assert result.reasons == ("the serving certificate does not cover webhook.example.com",)
    assert check_certs(tmp_path, wider, now=NOW).exit_code == 0


def test_a_damaged_serving_key_is_replaced(tmp_path: Path) -> None:
    paths = ensure_certs(tmp_path, NAMES, now=NOW).paths
    paths.key.write_bytes(generate_ca().private_key_pem())
    result = ensure_certs(tmp_path, NAMES, now=NOW)
    assert result.reasons == ("serving certificate and its key do not belong together",)
    assert check_certs(tmp_path, NAMES, now=NOW).exit_code == 0


def test_a_damaged_ca_is_an_error_and_nothing_is_overwritten(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES, now=NOW)
    (tmp_path / "ca.key").write_bytes(generate_ca().private_key_pem())
    before = snapshot(CertPaths(tmp_path))
    with pytest.raises(CertificateError) as raised:
        ensure_certs(tmp_path, NAMES, now=NOW)
    assert str(raised.value) == (
        "CA certificate and its key do not belong together; repair it, or replace the CA on "
        "purpose (jobguard certs --new-ca)"
    )
    assert snapshot(CertPaths(tmp_path)) == before
    assert ensure_certs(tmp_path, NAMES, new_ca=True, now=NOW).ca_created


def test_new_ca_rolls_over_trusting_old_and_new_ca_for_one_run(tmp_path: Path) -> None:
    first = ensure_certs(tmp_path, NAMES, now=NOW)
    old_ca = (tmp_path / "ca.crt").read_bytes()
    rolled = ensure_certs(tmp_path, NAMES, new_ca=True, now=NOW)
    new_ca = (tmp_path / "ca.crt").read_bytes()
    assert (rolled.ca_created, rolled.serving_issued) == (True, True)
    assert new_ca != old_ca
    assert base64.b64decode(first.ca_bundle) == old_ca
    assert base64.b64decode(rolled.ca_bundle) == new_ca + old_ca
    settled = ensure_certs(tmp_path, NAMES, now=NOW)
    assert base64.b64decode(settled.ca_bundle) == new_ca


def test_an_expired_ca_is_replaced_and_not_trusted_any_more(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES, ca_days=40, now=NOW)
    later = NOW + dt.timedelta(days=41)
    replaced = ensure_certs(tmp_path, NAMES, now=later)
    assert replaced.reasons == ("the CA expires 2030-02-09", "the CA is new")
    assert base64.b64decode(replaced.ca_bundle) == (tmp_path / "ca.crt").read_bytes()


def test_check_reports_ok_then_due_then_expired(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES, serving_days=40, now=NOW)
    fine = check_certs(tmp_path, NAMES, now=NOW)
    assert (fine.exit_code, fine.renewal_due, fine.unusable) == (0, [], [])
    assert [s.what for s in fine.statuses] == ["CA certificate", "serving certificate"]
    assert fine.statuses[1].names == NAMES.dns_names

    due = check_certs(tmp_path, NAMES, now=NOW + dt.timedelta(days=20))
    assert due.exit_code == 1
    assert due.renewal_due == [
        "serving certificate expires on 2030-02-09 23:55 UTC, within 30 days"
    ]
    expired = check_certs(tmp_path, NAMES, now=NOW + dt.timedelta(days=41))
    assert expired.renewal_due == ["serving certificate expired on 2030-02-09 23:55 UTC"]
    assert (
        check_certs(
            tmp_path, NAMES, renew_before_days=10, now=NOW + dt.timedelta(days=20)
        ).exit_code
        == 0
    )


def test_check_flags_missing_names_and_unusable_files(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES, now=NOW)
    other = parse_subject_names(service_dns_names("jobguard", "elsewhere"))
    report = check_certs(tmp_path, other, now=NOW)
    assert report.renewal_due == [
        "serving certificate does not cover jobguard.elsewhere.svc, "
        "jobguard.elsewhere.svc.cluster.local, jobguard.elsewhere"
    ]
    (tmp_path / "tls.key").unlink()
    broken = check_certs(tmp_path, NAMES, now=NOW)
    assert broken.exit_code == 2
    assert broken.unusable == [
        f"cannot read serving certificate: No such file or directory: {tmp_path / 'tls.key'}"
    ]


def test_ensure_dev_certs_returns_paths_and_reuses_them(tmp_path: Path) -> None:
    cert, key, ca = ensure_dev_certs(tmp_path / "dev")
    assert (cert.name, key.name, ca.name) == ("tls.crt", "tls.key", "ca.crt")
    first = cert.read_bytes()
    assert ensure_dev_certs(tmp_path / "dev") == (cert, key, ca)
    assert cert.read_bytes() == first
    report = check_certs(tmp_path / "dev", parse_subject_names(["localhost", "127.0.0.1", "::1"]))
    assert report.exit_code == 0


def test_ensure_dev_certs_keeps_the_service_names_of_a_shared_directory(tmp_path: Path) -> None:
    ensure_certs(tmp_path, NAMES)
    ensure_dev_certs(tmp_path)
    both = NAMES.merged(parse_subject_names(["localhost", "127.0.0.1", "::1"]))
    assert check_certs(tmp_path, both).exit_code == 0
    before = (tmp_path / "tls.crt").read_bytes()
    ensure_certs(tmp_path, NAMES)  # jobguard certs again: its names are covered, nothing to do
    assert (tmp_path / "tls.crt").read_bytes() == before


def test_reissuing_for_the_service_keeps_a_dev_servers_loopback_names(tmp_path: Path) -> None:
    """`jobguard certs --san new.example` beside a running `jobguard serve` on the same folder."""
    ensure_dev_certs(tmp_path)
    wider = NAMES.merged(parse_subject_names(["new.example"]))
    result = ensure_certs(tmp_path, wider)
    assert result.serving_issued
    loopback = parse_subject_names(["localhost", "127.0.0.1", "::1"])
    assert check_certs(tmp_path, wider.merged(loopback)).exit_code == 0


def test_a_removed_san_is_dropped_on_renewal_but_loopback_names_stay(tmp_path: Path) -> None:
    with_extra = NAMES.merged(parse_subject_names(["old.example", "localhost"]))
    ensure_certs(tmp_path, with_extra)
    ensure_certs(tmp_path, NAMES, renew=True)
    cert = load_certificate((tmp_path / "tls.crt").read_bytes())
    names = certificate_names(cert)
    assert "old.example" not in names.dns_names
    assert "localhost" in names.dns_names
    assert set(NAMES.dns_names) <= set(names.dns_names)


def test_write_atomic_never_shows_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "tls.crt"
    versions = [bytes([65 + i]) * 200_000 for i in range(8)]
    write_atomic(target, versions[0], 0o644)
    seen: set[bytes] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(target.read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(40):
            write_atomic(target, versions[round_ % len(versions)], 0o644)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen <= set(versions)
    assert [p.name for p in tmp_path.iterdir()] == ["tls.crt"]  # no temporary files left


def test_read_matching_pair_waits_out_a_rotation_in_progress(tmp_path: Path) -> None:
    paths = ensure_certs(tmp_path, NAMES, now=NOW).paths
    old_cert, old_key = paths.cert.read_bytes(), paths.key.read_bytes()
    # The instant between the two renames of a rotation: new key, old certificate.
    paths.key.write_bytes(generate_ca().private_key_pem())
    timer = threading.Timer(0.15, lambda: paths.key.write_bytes(old_key))
    timer.start()
    try:
        assert read_matching_pair(paths.cert, paths.key, attempts=20, delay=0.05) == (
            old_cert,
            old_key,
        )
    finally:
        timer.join()
    paths.key.write_bytes(generate_ca().private_key_pem())
    with pytest.raises(CertificateError, match="do not belong together"):
        read_matching_pair(paths.cert, paths.key, attempts=2, delay=0.01)
