"""Prometheus metrics of the webhook, correct under several gunicorn worker processes.

``jobguard serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh temporary directory before any
worker imports prometheus_client; each worker then writes its values to memory-mapped files there
and ``/metrics`` (served by whichever worker the scrape reaches) merges the files of all workers.
Without that variable (tests, a plain Flask server) the process's own registry is served.

The certificate-expiry gauge is computed when scraped, from the certificate file itself, so it
follows a rotation without any worker having to notice it.

The per-request counters are batched (:class:`BatchedCounts`): a request only notes which
counters it moves, and the notes are added up and written every :data:`COUNT_FLUSH_INTERVAL`
seconds, before a scrape served by the same worker, and at exit. A scrape can thus miss up to
that interval of another worker's requests, nothing more: Prometheus scrapes every 15-60 s.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
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


#: How long a worker holds counter increments before it writes them to the metric values.
COUNT_FLUSH_INTERVAL = 0.25


class BatchedCounts:
    """Counter increments gathered in memory and written to their counters in batches.

    Under several workers every ``inc()`` of prometheus_client takes a lock, checks the pid and
    writes the memory-mapped file: 2-3 µs, five or more times per admission review, a tenth of
    what the webhook itself spends on one. Noting the counter is one ``deque.append``; a batch
    adds the notes up and increments each counter once. A thread started on the first note
    flushes every ``interval`` seconds; :meth:`flush` also runs before a scrape and at exit.
    """

    def __init__(self, interval: float = COUNT_FLUSH_INTERVAL):
        self._interval = interval
        self._pending: collections.deque[Any] = collections.deque()  # appends are thread-safe
        self._flush_lock = threading.Lock()
        self._started = False
        self._start_lock = threading.Lock()

    def inc(self, counter: Any) -> None:
        """Count one increment of ``counter`` (a labelled child)."""
        self._pending.append(counter)
        if not self._started:
            self._start()

    def flush(self) -> None:
        with self._flush_lock:
            counts: collections.Counter[Any] = collections.Counter()
            take = self._pending.popleft
            try:
                while True:
                    counts[take()] += 1
            except IndexError:  # drained; notes made meanwhile wait for the next flush
                pass
            for counter, amount in counts.items():
                counter.inc(amount)

    def _start(self) -> None:
        with self._start_lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="jobguard-metric-counts", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()


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
        self.counts = BatchedCounts()
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
        self.dropped_requests = Counter(
            "jobguard_requests_dropped",
            "Requests dropped because their headers and body had not arrived in full within "
            "the request deadline (slow, stalled or trickling clients)",
            registry=r,
        )
        self.too_large = Counter(
            "jobguard_requests_too_large",
            "Requests answered 413: a body over --max-request-bytes (the API server then "
            "applies the webhook's failurePolicy), by webhook",
            ["webhook"],
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
        self.counts.flush()
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
