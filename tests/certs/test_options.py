"""``jobguard certs`` resolves its command line and defaults into one frozen CertsOptions before
it acts: the object says everything the run will do, and what cannot go together is a usage
error (exit 2) before any file or cluster is touched."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobguard.certs import SubjectNames
from jobguard.cli import main
from jobguard.cli.certs import CertsOptions, certs


def options_for(*args: str) -> CertsOptions:
    """The options the real command resolves for ``args`` (click's own parsing and defaults)."""
    context = certs.make_context("certs", list(args))
    from jobguard.cli.certs import resolve_options

    return resolve_options(**context.params)


def test_the_defaults_resolve_into_one_frozen_object() -> None:
    options = options_for("--san", "10.0.0.7", "--san", "jobguard.example.com")
    assert options == CertsOptions(
        directory="certs",
        names=SubjectNames(
            (
                "jobguard.jobguard.svc",
                "jobguard.jobguard.svc.cluster.local",
                "jobguard.jobguard",
                "jobguard",
                "jobguard.example.com",
            ),
            (ipaddress.ip_address("10.0.0.7"),),
        ),
        serving_days=365,
        ca_days=3650,
        renew_before_days=30,
        renew=False,
        new_ca=False,
        check=False,
        kubeconfig=None,
        context=None,
        in_cluster=False,
        namespace="jobguard",
        tls_secret="jobguard-tls",
        ca_secret="jobguard-ca",
        webhook_configuration="jobguard",
    )
    assert options.cluster is False
    assert options_for("--in-cluster").cluster is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.renew = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "--renew"], "--check only reads local files: drop the other actions"),
        (["--check", "--in-cluster"], "--check only reads local files: drop the other actions"),
        (["--kubeconfig", "k", "--in-cluster"], "use --kubeconfig or --in-cluster, not both"),
        (["--san", "not a name"], "'not a name' is neither an IP address nor a valid DNS name"),
        (["--service", "Bad_Name"], "service 'Bad_Name' is not a DNS-1123 label"),
    ],
)
def test_what_cannot_go_together_is_a_usage_error_before_anything_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    directory = tmp_path / "certs"
    result = CliRunner().invoke(main, ["certs", "--dir", str(directory), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not directory.exists()
