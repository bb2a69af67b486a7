"""What one webhook process needs to know: where its policy and certificate live, its ports, its
limits; and the defaults of ``jobguard serve``, decided here once (the command line, the gunicorn
config module and the docs read them from here)."""

from __future__ import annotations

from dataclasses import dataclass

from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION

MIB = 1024 * 1024

#: etcd's default ``--max-request-bytes`` (1.5 MiB): a stored object is at most this big in its
#: stored encoding (protobuf for batch/v1), and an object that is not stored does no harm. The API
#: server itself reads request bodies up to 3 MiB (``MaxRequestBodyBytes``, "2x" etcd's limit
#: because a JSON body shrinks when it becomes protobuf): staging/src/k8s.io/apiserver/pkg/server/
#: config.go.
ETCD_OBJECT_BYTES = 3 * MIB // 2
#: How much larger the JSON the API server sends can be than the stored bytes. JSON must escape a
#: control character (Go's encoder writes ``\\u0001``: six bytes) and Go replaces a byte that is
#: not UTF-8 with ``\\ufffd`` (six bytes); protobuf stores either as one byte. A string of them
#: is the worst case: six times its stored size. Repeated structures (list items, map entries)
#: grow less than that per stored byte (each costs protobuf a tag and a length at least, and JSON
#: omits empty fields); the fields that occur once add a bounded amount, within the envelope
#: allowance below.
JSON_ESCAPE_FACTOR = 6
#: The envelope around the objects: uid, kind, resource, userInfo (groups and extra can be long),
#: options. Real ones are under 2 kB; a generous allowance.
REVIEW_ENVELOPE_BYTES = 1 * MIB
#: The largest legal review is an UPDATE: ``object`` and ``oldObject``, each at etcd's limit and
#: escaped six-fold, plus the envelope: 19 MiB. Anything bigger cannot come from a real API server
#: for an object that can be stored; answering 413 to a legal review would admit it unjudged
#: under ``failurePolicy: Ignore`` (and refuse it under ``Fail``).
DEFAULT_MAX_REQUEST_BYTES = 2 * JSON_ESCAPE_FACTOR * ETCD_OBJECT_BYTES + REVIEW_ENVELOPE_BYTES

#: How long (seconds) a request may take to arrive in full, headers and body, from its first byte
#: (and a new connection's TLS handshake from its accept). The API server sends a review at once;
#: this only stops clients that trickle. Below every API server webhook timeout in use (deploy/
#: sets 5 s, the default is 10 s): a request that could not be judged in time anyway.
DEFAULT_REQUEST_DEADLINE = 3.0

#: Prometheus scrapes this port (plain HTTP, ``GET /metrics`` only); 0 turns it off.
DEFAULT_METRICS_PORT = 9090
DEFAULT_BIND = "0.0.0.0:8443"
#: gunicorn worker processes and threads per worker, and the keep-alive time (seconds): chosen by
#: measurement (docs/webhook.md, "gunicorn settings").
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 32
DEFAULT_KEEPALIVE = 120

#: How often (seconds) a worker looks at the policy files' stat results for a change.
DEFAULT_POLICY_CHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class Settings:
    """Configuration of :func:`jobguard.webhook.create_app`.

    ``policy_paths`` are layered like ``jobguard lint --policy`` (none: the bundled default).
    ``cert_path`` is only read for the certificate-expiry metric; TLS itself is gunicorn's.
    ``kubernetes_version`` is the API server version the version-dependent rules assume, as for
    ``jobguard lint --kubernetes-version`` (the same value in both keeps their verdicts equal).
    ``metrics_port``: the listening port that serves ``/metrics`` (and nothing else) over plain
    HTTP; 0 when there is none. ``request_deadline``: see :data:`DEFAULT_REQUEST_DEADLINE`.
    """

    policy_paths: tuple[str, ...] = ()
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    policy_check_interval: float = DEFAULT_POLICY_CHECK_INTERVAL
    cert_path: str | None = None
    kubernetes_version: tuple[int, int] = DEFAULT_KUBERNETES_VERSION
    metrics_port: int = 0
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
