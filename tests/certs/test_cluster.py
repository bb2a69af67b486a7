"""`jobguard certs --kubeconfig`: Secrets and caBundle through the real Kubernetes client.

How this is verified without a cluster: the real `jobguard certs` command and the real
`kubernetes` Python client talk HTTP to tests/certs/fake_apiserver.py, a local server that plays
the API server's REST endpoints for exactly the calls made (Secret get/create/replace, webhook
configuration get/JSON Patch). The webhook configurations it starts with are the ones
`kubectl kustomize deploy/base` renders, so the patch paths are checked against the real
manifests. What it cannot show is a real API server's admission and RBAC evaluation; the RBAC
rules are checked against the calls in tests/deploy/test_manifests.py instead.
"""

from __future__ import annotations

import base64
import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobguard.certs.cluster import ca_bundle_patch
from tests.certs.fake_apiserver import ApiState, fake_apiserver, object_path
from tests.deploy.kube import find, render

SECRETS = "/api/v1/namespaces/jobguard/secrets"
MUTATING = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/jobguard"
# Some kubernetes client releases send create and replace bodies without a Content-Type, which
# the API server reads as JSON; others say application/json. Both mean JSON.
JSON = ("", "application/json")
VALIDATING = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/jobguard"


def certs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobguard", "certs", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def seed_webhooks(state: ApiState) -> None:
    objects = render("deploy/base")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        state.add(copy.deepcopy(find(objects, kind, "jobguard")))


def secret_data(state: ApiState, name: str) -> dict[str, bytes]:
    secret = state.objects[f"{SECRETS}/{name}"]
    return {k: base64.b64decode(v) for k, v in secret["data"].items()}


def bundles(state: ApiState) -> list[str]:
    return [
        webhook["clientConfig"].get("caBundle", "")
        for path in (MUTATING, VALIDATING)
        for webhook in state.objects[path]["webhooks"]
    ]


def test_first_run_creates_both_secrets_and_patches_both_configurations(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
        assert run.returncode == 0, run.stderr
        bundle = run.stdout.strip()

        assert [(method, path) for method, path, _ in state.writes()] == [
            ("POST", SECRETS),
            ("POST", SECRETS),
            ("PATCH", MUTATING),
            ("PATCH", VALIDATING),
        ]
        assert [content_type for *_, content_type in state.writes()][2:] == [
            "application/json-patch+json"
        ] * 2
        assert {content_type for *_, content_type in state.writes()[:2]} <= set(JSON)
        tls = state.objects[f"{SECRETS}/jobguard-tls"]
        assert tls["type"] == "kubernetes.io/tls"
        assert secret_data(state, "jobguard-tls") == {
            "tls.crt": (tmp_path / "c" / "tls.crt").read_bytes(),
            "tls.key": (tmp_path / "c" / "tls.key").read_bytes(),
            "ca.crt": (tmp_path / "c" / "ca.crt").read_bytes(),
        }
        assert state.objects[f"{SECRETS}/jobguard-ca"]["type"] == "Opaque"
        assert secret_data(state, "jobguard-ca") == {
            "ca.crt": (tmp_path / "c" / "ca.crt").read_bytes(),
            "ca.key": (tmp_path / "c" / "ca.key").read_bytes(),
        }
        assert base64.b64decode(bundle) == (tmp_path / "c" / "ca.crt").read_bytes()
        assert bundles(state) == [bundle, bundle]
        # Only caBundle changed: the rest is still exactly what the manifests say.
        for kind, path in (
            ("MutatingWebhookConfiguration", MUTATING),
            ("ValidatingWebhookConfiguration", VALIDATING),
        ):
            rendered = copy.deepcopy(find(render("deploy/base"), kind, "jobguard"))
            patched = copy.deepcopy(state.objects[path])
            for webhook in patched["webhooks"]:
                del webhook["clientConfig"]["caBundle"]
            del patched["metadata"]["resourceVersion"]
            assert patched == rendered
        assert "Secret jobguard/jobguard-tls: created" in run.stderr
        assert "MutatingWebhookConfiguration jobguard: caBundle patched" in run.stderr


def test_running_again_only_reads(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        first = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
        state.requests.clear()
        again = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        assert state.writes() == []
        assert "Secret jobguard/jobguard-ca: unchanged" in again.stderr
        assert "ValidatingWebhookConfiguration jobguard: caBundle unchanged" in again.stderr


def test_renewal_replaces_the_tls_secret_and_keeps_ca_and_bundle(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        first = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
        old_tls = secret_data(state, "jobguard-tls")
        state.requests.clear()
        renewed = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig), "--renew")
        assert renewed.returncode == 0, renewed.stderr
        [(method, path, content_type)] = state.writes()
        assert (method, path) == ("PUT", f"{SECRETS}/jobguard-tls")
        assert content_type in JSON
        new_tls = secret_data(state, "jobguard-tls")
        assert new_tls["tls.crt"] != old_tls["tls.crt"]
        assert new_tls["ca.crt"] == old_tls["ca.crt"]
        assert renewed.stdout == first.stdout
        assert bundles(state) == [first.stdout.strip()] * 2


def test_an_empty_directory_takes_the_ca_from_the_cluster(tmp_path: Path) -> None:
    """What the in-cluster Job does each week with a fresh emptyDir."""
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        first = certs("--dir", str(tmp_path / "laptop"), "--kubeconfig", str(kubeconfig))
        state.requests.clear()
        job = certs("--dir", str(tmp_path / "emptydir"), "--kubeconfig", str(kubeconfig))
        assert job.returncode == 0, job.stderr
        assert job.stdout == first.stdout
        assert state.writes() == []
        assert "took ca.key, ca.crt, tls.key, tls.crt from the cluster" in job.stderr
        assert (tmp_path / "emptydir" / "tls.crt").read_bytes() == (
            tmp_path / "laptop" / "tls.crt"
        ).read_bytes()


def test_a_different_local_ca_rolls_over_in_the_cluster(tmp_path: Path) -> None:
    """A directory with its own CA replaces the cluster's; for one run both are trusted."""
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        certs("--dir", str(tmp_path / "first"), "--kubeconfig", str(kubeconfig))
        old_ca = (tmp_path / "first" / "ca.crt").read_bytes()
        assert certs("--dir", str(tmp_path / "second")).returncode == 0  # local only
        new_ca = (tmp_path / "second" / "ca.crt").read_bytes()

        rollover = certs("--dir", str(tmp_path / "second"), "--kubeconfig", str(kubeconfig))
        assert rollover.returncode == 0, rollover.stderr
        assert base64.b64decode(rollover.stdout) == new_ca + old_ca
        assert bundles(state) == [rollover.stdout.strip()] * 2
        assert secret_data(state, "jobguard-ca")["ca.crt"] == new_ca
        assert "also trusts the cluster's previous CA until the next run" in rollover.stderr

        settled = certs("--dir", str(tmp_path / "second"), "--kubeconfig", str(kubeconfig))
        assert base64.b64decode(settled.stdout) == new_ca
        assert bundles(state) == [settled.stdout.strip()] * 2


def test_missing_webhook_configurations_fail_with_the_next_step(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (_state, kubeconfig):
        run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == (
        "error: MutatingWebhookConfiguration jobguard does not exist: apply the kustomization "
        "first (kubectl apply -k deploy/base), then run this again"
    )


def test_forbidden_is_reported_with_the_rbac_hint(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        state.forbidden.add(VALIDATING)
        run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == (
        "error: patching the caBundle of ValidatingWebhookConfiguration jobguard: HTTP 403 "
        "Forbidden (RBAC: see the jobguard-certs Role and ClusterRole in deploy/)"
    )


def test_a_secret_of_another_type_is_not_overwritten(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (state, kubeconfig):
        seed_webhooks(state)
        opaque: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "jobguard-tls", "namespace": "jobguard"},
            "type": "Opaque",
            "data": {"keep": base64.b64encode(b"me").decode()},
        }
        state.add(opaque)
        run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
        assert run.returncode == 1
        assert "has type 'Opaque', not 'kubernetes.io/tls'" in run.stderr
        assert state.objects[object_path(opaque)]["data"] == opaque["data"]


def test_an_unreachable_api_server_is_a_clear_error(tmp_path: Path) -> None:
    with fake_apiserver(tmp_path) as (_state, kubeconfig):
        pass  # stopped: its port now refuses connections
    run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(kubeconfig))
    assert run.returncode == 1
    last = run.stderr.splitlines()[-1]
    assert last.startswith(
        "error: reading Secret jobguard/jobguard-ca: cannot reach the API server: "
    )
    assert "Traceback" not in run.stderr


def test_in_cluster_outside_a_pod_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_SERVICE_")}
    run = subprocess.run(
        [sys.executable, "-m", "jobguard", "certs", "--dir", str(tmp_path), "--in-cluster"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert run.returncode == 1
    assert run.stderr.startswith(
        "error: cannot load cluster credentials from the pod's service account: "
    )
    assert list(tmp_path.iterdir()) == []


def test_unreadable_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    run = certs("--dir", str(tmp_path / "c"), "--kubeconfig", str(tmp_path / "nope"))
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: cannot load cluster credentials from {tmp_path}/nope")


@pytest.mark.parametrize(
    ("webhooks", "expected"),
    [
        (
            [{"clientConfig": {"caBundle": "old"}}, {"clientConfig": {"caBundle": "new"}}],
            [{"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": "new"}],
        ),
        (
            [{"name": "w"}],
            [{"op": "add", "path": "/webhooks/0/clientConfig", "value": {"caBundle": "new"}}],
        ),
    ],
)
def test_ca_bundle_patch_touches_only_webhooks_that_differ(
    webhooks: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    configuration = {"metadata": {"resourceVersion": "7"}, "webhooks": webhooks}
    assert ca_bundle_patch(configuration, "new") == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
        *expected,
    ]
    done = {
        "metadata": {"resourceVersion": "7"},
        "webhooks": [{"clientConfig": {"caBundle": "new"}}],
    }
    assert ca_bundle_patch(done, "new") == []
