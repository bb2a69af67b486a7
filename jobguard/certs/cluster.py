"""Put jobguard's certificates into a cluster with the Kubernetes Python client.

Three idempotent steps, each a read followed by a write only when something differs:

1. ``pull_certs``: when the local directory has no CA (a fresh ``emptyDir`` in a rotation Job),
   copy the CA and serving pair from the cluster's Secrets, so the CA stays across runs and a
   current serving certificate is not re-issued for nothing.
2. ``sync_secret``: the ``kubernetes.io/tls`` Secret the Deployment mounts (``tls.crt``,
   ``tls.key``, ``ca.crt``) and an Opaque Secret holding the CA pair (``ca.crt``, ``ca.key``).
   Updates carry the ``resourceVersion`` that was read, so a concurrent writer makes this run fail
   (HTTP 409) instead of being silently overwritten.
3. ``patch_ca_bundle``: a JSON Patch setting ``clientConfig.caBundle`` of every webhook in the
   Mutating- and ValidatingWebhookConfiguration, guarded by a ``test`` of ``resourceVersion``.
   Patching only that field leaves the rest to ``kubectl apply`` (which never owned it). When
   the CA changes, the bundle trusts the old and the new CA for that run (``with_previous_ca``).

The client is passed in; this module imports ``kubernetes`` only where it must (exceptions,
API classes), and only ``jobguard certs --kubeconfig/--in-cluster`` imports this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from jobguard.certs.files import (
    CA_CERT,
    CA_KEY,
    PRIVATE_MODE,
    PUBLIC_MODE,
    SERVING_CERT,
    SERVING_KEY,
    CertPaths,
    write_atomic,
)
from jobguard.certs.pki import CertificateError, ca_bundle, load_certificate, remaining

# Set explicitly where the client lets us: without it, client releases differ in what they send.
JSON, JSON_PATCH = "application/json", "application/json-patch+json"
TLS_SECRET_TYPE = "kubernetes.io/tls"
OPAQUE_SECRET_TYPE = "Opaque"
WebhookKind = Literal["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
WEBHOOK_KINDS: tuple[WebhookKind, ...] = (
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
Outcome = Literal["created", "updated", "unchanged", "patched"]


class ClusterError(RuntimeError):
    """A cluster step that could not be done; the message names the object and the reason."""


@dataclass(frozen=True)
class ClusterTarget:
    """Where the certificates go."""

    namespace: str = "jobguard"
    tls_secret: str = "jobguard-tls"
    ca_secret: str = "jobguard-ca"
    webhook_configuration: str = "jobguard"


def load_api_client(
    kubeconfig: str | None, context: str | None = None, in_cluster: bool = False
) -> Any:
    """An ``ApiClient`` from a kubeconfig file or from the pod's service account."""
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException

    # The client's config loaders are untyped in some releases: go through Any.
    config: Any = importlib.import_module("kubernetes.config")

    try:
        if in_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        return config.new_client_from_config(config_file=kubeconfig, context=context)
    except (ConfigException, OSError) as exc:
        where = "the pod's service account" if in_cluster else (kubeconfig or "the kubeconfig")
        raise ClusterError(f"cannot load cluster credentials from {where}: {exc}") from exc


def _api_error(exc: Exception, action: str) -> ClusterError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or str(exc)
    hint = {
        401: " (credentials rejected)",
        403: " (RBAC: see the jobguard-certs Role and ClusterRole in deploy/)",
        409: " (changed concurrently: run again)",
    }.get(status or 0, "")
    return ClusterError(f"{action}: HTTP {status} {reason}{hint}")


def _call(action: str, call: Any, *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
    """One API call; failures become a ClusterError naming ``action``.

    With ``missing_ok`` a 404 returns None. A refused or dropped connection is reported as such
    rather than as a traceback.
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return call(*args, **kwargs)
    except ApiException as exc:
        if missing_ok and exc.status == 404:
            return None
        raise _api_error(exc, action) from exc
    except (HTTPError, OSError) as exc:
        raise ClusterError(f"{action}: cannot reach the API server: {exc}") from exc


def _as_dict(api_client: Any, obj: Any) -> dict[str, Any]:
    data = api_client.sanitize_for_serialization(obj)
    assert isinstance(data, dict)
    return data


def read_secret_data(api_client: Any, namespace: str, name: str) -> dict[str, bytes] | None:
    """The decoded data of a Secret, or None when it does not exist."""
    from kubernetes import client

    # Any: bodies are plain dicts, which typed releases of the client accept but do not declare.
    core: Any = client.CoreV1Api(api_client)
    action = f"reading Secret {namespace}/{name}"
    secret = _call(action, core.read_namespaced_secret, name, namespace, missing_ok=True)
    if secret is None:
        return None
    raw = _as_dict(api_client, secret).get("data") or {}
    return {key: base64.b64decode(value) for key, value in raw.items()}


def pull_certs(api_client: Any, target: ClusterTarget, paths: CertPaths) -> list[str]:
    """Copy the cluster's CA (and serving pair) into ``paths`` when the directory has no CA.

    Returns the names of the files written. A local CA always wins: it is never overwritten.
    """
    if paths.ca_cert.exists() or paths.ca_key.exists():
        return []
    ca = read_secret_data(api_client, target.namespace, target.ca_secret)
    if not ca or CA_CERT not in ca or CA_KEY not in ca:
        return []
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(paths.ca_key, ca[CA_KEY], PRIVATE_MODE)
    write_atomic(paths.ca_cert, ca[CA_CERT], PUBLIC_MODE)
    written = [CA_KEY, CA_CERT]
    tls = read_secret_data(api_client, target.namespace, target.tls_secret) or {}
    if SERVING_CERT in tls and SERVING_KEY in tls:
        write_atomic(paths.key, tls[SERVING_KEY], PRIVATE_MODE)
        write_atomic(paths.cert, tls[SERVING_CERT], PUBLIC_MODE)
        written += [SERVING_KEY, SERVING_CERT]
    return written


def sync_secret(
    api_client: Any,
    namespace: str,
    name: str,
    secret_type: str,
    data: dict[str, bytes],
) -> Outcome:
    """Create the Secret, or replace its data when it differs; ``unchanged`` otherwise."""
    from kubernetes import client

    # Any: bodies are plain dicts, which typed releases of the client accept but do not declare.
    core: Any = client.CoreV1Api(api_client)
    action = f"writing Secret {namespace}/{name}"
    encoded = {key: base64.b64encode(value).decode("ascii") for key, value in data.items()}
    labels = {"app.kubernetes.io/name": "jobguard", "app.kubernetes.io/component": "webhook-tls"}
    existing = _call(action, core.read_namespaced_secret, name, namespace, missing_ok=True)
    if existing is None:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "type": secret_type,
            "data": encoded,
        }
        _call(action, core.create_namespaced_secret, namespace, body, _content_type=JSON)
        return "created"
    current = _as_dict(api_client, existing)
    if current.get("type", OPAQUE_SECRET_TYPE) != secret_type:
        raise ClusterError(
            f"Secret {namespace}/{name} has type {current.get('type')!r}, not "
            f"{secret_type!r}; the type of a Secret cannot change: delete it and run again"
        )
    if current.get("data") == encoded:
        return "unchanged"
    current["data"] = encoded
    _call(action, core.replace_namespaced_secret, name, namespace, current, _content_type=JSON)
    return "updated"


def ca_bundle_patch(configuration: dict[str, Any], bundle: str) -> list[dict[str, Any]]:
    """JSON Patch ops setting every webhook's caBundle to ``bundle``; [] when all already do.

    Starts with a ``test`` of the resourceVersion that was read, so the patch applies only to
    the object these indexes were computed from.
    """
    ops: list[dict[str, Any]] = []
    for index, webhook in enumerate(configuration.get("webhooks") or []):
        if (webhook.get("clientConfig") or {}).get("caBundle") != bundle:
            path = f"/webhooks/{index}/clientConfig"
            if "clientConfig" in webhook:
                ops.append({"op": "add", "path": f"{path}/caBundle", "value": bundle})
            else:
                ops.append({"op": "add", "path": path, "value": {"caBundle": bundle}})
    if not ops:
        return []
    version = (configuration.get("metadata") or {}).get("resourceVersion")
    guard = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}]
    return guard + ops if version else ops


def patch_ca_bundle(api_client: Any, kind: WebhookKind, name: str, bundle: str) -> Outcome:
    """Set ``caBundle`` on every webhook of one configuration; ClusterError when it is absent."""
    from kubernetes import client

    api: Any = client.AdmissionregistrationV1Api(api_client)
    if kind == "MutatingWebhookConfiguration":
        read, patch = (
            api.read_mutating_webhook_configuration,
            api.patch_mutating_webhook_configuration,
        )
    else:
        read, patch = (
            api.read_validating_webhook_configuration,
            api.patch_validating_webhook_configuration,
        )
    action = f"patching the caBundle of {kind} {name}"
    existing = _call(action, read, name, missing_ok=True)
    if existing is None:
        raise ClusterError(
            f"{kind} {name} does not exist: apply the kustomization first "
            "(kubectl apply -k deploy/base), then run this again"
        )
    configuration = _as_dict(api_client, existing)
    if not configuration.get("webhooks"):
        raise ClusterError(f"{kind} {name} has no webhooks to patch")
    ops = ca_bundle_patch(configuration, bundle)
    if not ops:
        return "unchanged"
    _call(action, patch, name, ops, _content_type=JSON_PATCH)
    return "patched"


def with_previous_ca(bundle: str, previous_ca_pem: bytes | None) -> str:
    """``bundle`` plus the CA the cluster trusted so far, if that one differs and is still valid.

    Pods keep presenting the old serving certificate until the kubelet refreshes their Secret
    volume; trusting both CAs for this run keeps them reachable. The next run drops the old one.
    """
    if not previous_ca_pem:
        return bundle
    try:
        previous = load_certificate(previous_ca_pem, "the cluster's CA certificate")
    except CertificateError:
        return bundle
    trusted = x509.load_pem_x509_certificates(base64.b64decode(bundle))
    if previous in trusted or remaining(previous) <= dt.timedelta(0):
        return bundle
    return ca_bundle(base64.b64decode(bundle), previous.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class PushResult:
    secrets: tuple[tuple[str, Outcome], ...]
    webhooks: tuple[tuple[str, Outcome], ...]
    ca_bundle: str


def push_certs(api_client: Any, target: ClusterTarget, paths: CertPaths, bundle: str) -> PushResult:
    """Write both Secrets from ``paths``, then patch the caBundle into both configurations.

    The caBundle is ``bundle``, plus the CA the cluster had until now when that one is being
    replaced (see ``with_previous_ca``), so no pod is distrusted in between.
    """
    previous = read_secret_data(api_client, target.namespace, target.ca_secret) or {}
    bundle = with_previous_ca(bundle, previous.get(CA_CERT))
    ca_cert, ca_key = paths.ca_cert.read_bytes(), paths.ca_key.read_bytes()
    secrets = (
        (
            target.ca_secret,
            sync_secret(
                api_client,
                target.namespace,
                target.ca_secret,
                OPAQUE_SECRET_TYPE,
                {CA_CERT: ca_cert, CA_KEY: ca_key},
            ),
        ),
        (
            target.tls_secret,
            sync_secret(
                api_client,
                target.namespace,
                target.tls_secret,
                TLS_SECRET_TYPE,
                {
                    SERVING_CERT: paths.cert.read_bytes(),
                    SERVING_KEY: paths.key.read_bytes(),
                    CA_CERT: ca_cert,
                },
            ),
        ),
    )
    webhooks = tuple(
        (kind, patch_ca_bundle(api_client, kind, target.webhook_configuration, bundle))
        for kind in WEBHOOK_KINDS
    )
    return PushResult(secrets, webhooks, bundle)
