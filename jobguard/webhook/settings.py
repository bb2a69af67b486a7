"""What one webhook process needs to know: where its policy and certificate live, and its limits."""

from __future__ import annotations

from dataclasses import dataclass

from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION

#: The API server caps a request body at 3 MiB and etcd an object at 1.5 MiB; an UPDATE review
#: carries the object twice plus the envelope. Anything bigger is not from a real API server.
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024

#: How often (seconds) a worker looks at the policy files' stat results for a change.
DEFAULT_POLICY_CHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class Settings:
    """Configuration of :func:`jobguard.webhook.create_app`.

    ``policy_paths`` are layered like ``jobguard lint --policy`` (none: the bundled default).
    ``cert_path`` is only read for the certificate-expiry metric; TLS itself is gunicorn's.
    ``kubernetes_version`` is the API server version the version-dependent rules assume, as for
    ``jobguard lint --kubernetes-version`` (the same value in both keeps their verdicts equal).
    """

    policy_paths: tuple[str, ...] = ()
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    policy_check_interval: float = DEFAULT_POLICY_CHECK_INTERVAL
    cert_path: str | None = None
    kubernetes_version: tuple[int, int] = DEFAULT_KUBERNETES_VERSION
