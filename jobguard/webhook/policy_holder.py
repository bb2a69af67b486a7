"""The policy a worker serves with, reloaded when its files change.

A ConfigMap volume updates a file by swapping a symlink (``policy.yaml -> ..data/policy.yaml``,
``..data -> ..2026_11_23_...``), so the watch stats the *resolved* file (``os.stat`` follows
links) and compares inode, size and mtime; at most one stat round per ``check_interval`` and per
worker, done by whichever request thread comes first, never blocking the others. A change whose
content is the same as the loaded policy is ignored. A new policy that does not load is rejected
and the last good one stays: the error is logged, counted and shown by ``/readyz``.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from jobguard.policy import Policy, PolicyError, load_policy
from jobguard.policy.loader import BUILTIN_PREFIX

FileSignature = tuple[str, int, int, int, int] | tuple[str, str]
ReloadListener = Callable[[str, "PolicyState"], None]

RELOADED, REJECTED = "reloaded", "rejected"


@dataclass(frozen=True)
class PolicyState:
    """The served policy and what happened to the newest files."""

    policy: Policy
    digest: str
    loaded_at: float  # wall clock, for /readyz and the metric
    reloads: int = 0
    rejected_error: str | None = None  # the newest files do not load; ``policy`` is older

    @property
    def stale(self) -> bool:
        return self.rejected_error is not None


def _signature(path: str) -> FileSignature:
    try:
        st = os.stat(path)
    except OSError as exc:
        return (path, exc.strerror or type(exc).__name__)
    return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _digest(paths: Sequence[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        try:
            with open(path, "rb") as fh:
                h.update(fh.read())
        except OSError as exc:
            h.update(f"unreadable:{exc.strerror}".encode())
        h.update(b"\0")
    return h.hexdigest()


def _watched(paths: Sequence[str], policy: Policy) -> tuple[str, ...]:
    """The given files and every file they extend (bundled policies never change)."""
    found = [*paths, *policy.sources]
    return tuple(dict.fromkeys(p for p in found if not p.startswith(BUILTIN_PREFIX)))


class PolicyHolder:
    """Thread-safe holder of the current policy; :meth:`current` is the per-request call."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        check_interval: float = 1.0,
        listener: ReloadListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Load the policy now; raises PolicyError if it does not load (refuse to start)."""
        self.paths = tuple(paths)
        self.check_interval = check_interval
        self._listener = listener
        self._clock = clock
        self._lock = threading.Lock()
        policy = load_policy(self.paths)
        self._watch = _watched(self.paths, policy)
        self._signatures = tuple(_signature(p) for p in self._watch)
        self._state = PolicyState(policy, _digest(self._watch), time.time())
        self._next_check = clock() + check_interval

    @property
    def state(self) -> PolicyState:
        return self._state

    def current(self) -> Policy:
        """The policy to judge this request with (checks the files at most once per interval)."""
        if self._clock() >= self._next_check and self._lock.acquire(blocking=False):
            try:
                self._next_check = self._clock() + self.check_interval
                self._check_locked()
            finally:
                self._lock.release()
        return self._state.policy

    def check_now(self) -> PolicyState:
        with self._lock:
            self._check_locked()
        return self._state

    def _check_locked(self) -> None:
        signatures = tuple(_signature(p) for p in self._watch)
        if signatures == self._signatures:
            return
        self._signatures = signatures
        digest = _digest(self._watch)
        state = self._state
        if digest == state.digest:
            if state.stale:  # the broken file was put back as it was
                self._publish(RELOADED, replace(state, rejected_error=None))
            return
        try:
            policy = load_policy(self.paths)
        except PolicyError as exc:
            self._publish(REJECTED, replace(state, rejected_error=str(exc)))
            return
        self._watch = _watched(self.paths, policy)
        self._signatures = tuple(_signature(p) for p in self._watch)
        self._publish(
            RELOADED,
            PolicyState(policy, _digest(self._watch), time.time(), reloads=state.reloads + 1),
        )

    def _publish(self, event: str, state: PolicyState) -> None:
        self._state = state
        if self._listener is not None:
            self._listener(event, state)
