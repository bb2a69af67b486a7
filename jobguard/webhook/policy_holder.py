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
from pathlib import Path

from jobguard.policy import Policy, PolicyError, load_policy

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


@dataclass(frozen=True)
class _Load:
    """One load: the policy, and the signature (taken before reading) and bytes of every file
    it read, ``extends`` included, in reading order."""

    policy: Policy
    signatures: tuple[FileSignature, ...]
    digest: str


#: A file changing while a load reads the set is read again; past this many tries the last
#: load stands, and its pre-read signatures make the next check reload.
_CONSISTENT_TRIES = 3


def _recording_reader(seen: list[tuple[FileSignature, bytes]]) -> Callable[[Path], bytes]:
    """A reader that stats each file before reading it and keeps the signature and bytes."""

    def read(path: Path) -> bytes:
        signature = _signature(str(path))
        raw = path.read_bytes()
        seen.append((signature, raw))
        return raw

    return read


def _load(paths: Sequence[str]) -> _Load:
    """Load the policy so that it is one consistent set of files: stat each file, then read
    its bytes once, and hash and parse exactly those bytes. Raises PolicyError."""
    for _ in range(_CONSISTENT_TRIES):
        seen: list[tuple[FileSignature, bytes]] = []
        policy = load_policy(paths, read=_recording_reader(seen))
        signatures = tuple(sig for sig, _ in seen)
        if all(_signature(sig[0]) == sig for sig in signatures):
            break  # nothing changed while the set was read
    h = hashlib.sha256()
    for _, raw in seen:
        h.update(raw)
        h.update(b"\0")
    return _Load(policy, signatures, h.hexdigest())


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
        loaded = _load(self.paths)
        self._signatures = loaded.signatures
        self._state = PolicyState(loaded.policy, loaded.digest, time.time())
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
        if all(_signature(sig[0]) == sig for sig in self._signatures):
            return
        state = self._state
        try:
            loaded = _load(self.paths)
        except PolicyError as exc:
            # Watch what is there now: the next change (a fix, or the old file put back) retries.
            self._signatures = tuple(_signature(sig[0]) for sig in self._signatures)
            self._publish(REJECTED, replace(state, rejected_error=str(exc)))
            return
        self._signatures = loaded.signatures
        if loaded.digest == state.digest:
            if state.stale:  # the broken file was put back as it was
                self._publish(RELOADED, replace(state, rejected_error=None))
            return
        self._publish(
            RELOADED,
            PolicyState(loaded.policy, loaded.digest, time.time(), reloads=state.reloads + 1),
        )

    def _publish(self, event: str, state: PolicyState) -> None:
        self._state = state
        if self._listener is not None:
            self._listener(event, state)
