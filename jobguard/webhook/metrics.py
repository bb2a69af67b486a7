"""Prometheus metrics of the webhook, correct under several gunicorn worker processes.

``jobguard serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh temporary directory before any
worker imports prometheus_client; each worker then writes its values to memory-mapped files there
and ``/metrics`` (served by whichever worker the scrape reaches) merges the files of all workers.
Without that variable (tests, a plain Flask server) the process's own registry is served.

The certificate-expiry gauge is computed when scraped, from the certificate file itself, so it
follows a rotation without any worker having to notice it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The API server's timeout is 1-30 s (jobguard's deploy uses a few seconds); requests take ~1 ms.
DURATION_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class CertificateExpiry(Collector):
    """``jobguard_certificate_expiry_timestamp_seconds`` of the serving certificate file."""

    def __init__(self, cert_path: str):
        self.cert_path = cert_path
        self._cache: tuple[tuple[int, int, int], float] | None = None

    def _not_after(self) -> float | None:
        try:
            st = os.stat(self.cert_path)
        except OSError:
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        from cryptography import x509

        try:
            with open(self.cert_path, "rb") as fh:
                cert = x509.load_pem_x509_certificate(fh.read())
        except (OSError, ValueError):
            return None
        value = cert.not_valid_after_utc.timestamp()
        self._cache = (key, value)
        return value

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "jobguard_certificate_expiry_timestamp_seconds",
            "Unix time when the serving certificate expires (absent if the file is unreadable)",
        )
        value = self._not_after()
        if value is not None:
            family.add_metric([], value)
        yield family

    def describe(self) -> Iterator[Any]:
        return iter(())


class Metrics:
    """The webhook's metrics, registered in a registry of their own (several apps per process
    in tests must not collide in prometheus_client's global registry)."""

    def __init__(self, cert_path: str | None = None):
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.cert_collector = CertificateExpiry(cert_path) if cert_path else None
        if self.cert_collector is not None and not self.multiprocess:
            self.registry.register(self.cert_collector)
        r = self.registry
        self.requests = Counter(
            "jobguard_admission_requests",
            "Admission reviews answered, by webhook, object kind, operation and decision",
            ["webhook", "kind", "operation", "decision"],
            registry=r,
        )
        self.duration = Histogram(
            "jobguard_admission_duration_seconds",
            "Time to answer an admission review (body read to response built)",
            ["webhook"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.findings = Counter(
            "jobguard_findings",
            "Rule findings in admission reviews, by webhook, rule and policy action",
            ["webhook", "rule", "action"],
            registry=r,
        )
        self.rule_errors = Counter(
            "jobguard_rule_errors",
            "Rules that raised on an object (a jobguard bug, or an object crafted to crash one), "
            "by webhook and rule; the policy's on_rule_error decided the answer",
            ["webhook", "rule"],
            registry=r,
        )
        self.policy_reloads = Counter(
            "jobguard_policy_reloads",
            "Policy file changes seen by a worker: reloaded, or rejected (last good policy kept)",
            ["result"],
            registry=r,
        )
        self.policy_stale = Gauge(
            "jobguard_policy_stale",
            "1 while the newest policy files were rejected and an older policy is served",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.policy_loaded = Gauge(
            "jobguard_policy_loaded_timestamp_seconds",
            "Unix time when the served policy was loaded",
            registry=r,
            multiprocess_mode="livemax",
        )

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, memoised: ``labels()`` takes a lock and builds a key on
        every call, and a request touches several children."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children.setdefault(key, metric.labels(*labels))
        return found

    def exposition(self) -> tuple[bytes, str]:
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        if self.cert_collector is not None:
            registry.register(self.cert_collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook body: drop a dead worker's live gauges."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
