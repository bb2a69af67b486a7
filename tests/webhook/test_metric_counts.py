"""Batched counter increments: every noted increment reaches its counter, exactly once, after a
flush (by the flushing thread, before a scrape, or at exit), whichever threads noted them."""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry, Counter

from jobguard.webhook.metrics import BatchedCounts, Metrics


def _counter() -> Counter:
    return Counter("example", "an example", ["label"], registry=CollectorRegistry())


def test_noted_increments_reach_their_counters_once_flushed() -> None:
    counter = _counter()
    a, b = counter.labels("a"), counter.labels("b")
    counts = BatchedCounts(interval=3600)  # the flushing thread never runs within the test

    def note(child: object, times: int) -> None:
        for _ in range(times):
            counts.inc(child)

    threads = [threading.Thread(target=note, args=(a if i % 2 else b, 500)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert a._value.get() == 0 and b._value.get() == 0  # noted, not yet written
    counts.flush()
    assert (a._value.get(), b._value.get()) == (2000, 2000)
    counts.flush()  # nothing twice
    assert (a._value.get(), b._value.get()) == (2000, 2000)


def test_the_flushing_thread_writes_the_counts_within_its_interval() -> None:
    child = _counter().labels("a")
    counts = BatchedCounts(interval=0.05)
    counts.inc(child)
    deadline = time.monotonic() + 5
    while child._value.get() != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child._value.get() == 1


def test_a_scrape_shows_the_counts_noted_so_far() -> None:
    metrics = Metrics()
    metrics.counts.inc(metrics.child(metrics.requests, "mutate", "Job", "CREATE", "patched"))
    payload, _ = metrics.exposition()
    sample = (
        'jobguard_admission_requests_total{decision="patched",kind="Job",'
        'operation="CREATE",webhook="mutate"} 1.0'
    )
    assert sample in payload.decode()
