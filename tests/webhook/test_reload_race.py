"""A policy file swapped while the holder reads the set (here: between reading a file and the
file it extends) is never served half old, half new, and is never missed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from jobguard.webhook import policy_holder
from jobguard.webhook.policy_holder import PolicyHolder

CHILD = """\
apiVersion: jobguard.dev/v1
kind: Policy
extends: [base.yaml]
rules:
  backoff-limit: {action: deny}
"""
BASE_NEVER = """\
apiVersion: jobguard.dev/v1
kind: Policy
rules:
  restart-policy: {action: deny, allowed: [Never]}
"""
BASE_BOTH = BASE_NEVER.replace("[Never]", "[Never, OnFailure]")


def swap(path: Path, text: str) -> None:
    """Replace the file as a ConfigMap update does: a new inode under the same name."""
    fresh = path.with_suffix(".new")
    fresh.write_text(text)
    os.replace(fresh, path)


def allowed(holder: PolicyHolder) -> tuple[str, ...]:
    return tuple(holder.current().rules["restart-policy"].options.allowed)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    child, base = tmp_path / "policy.yaml", tmp_path / "base.yaml"
    child.write_text(CHILD)
    base.write_text(BASE_NEVER)
    return child, base


def swapping_reader(
    monkeypatch: pytest.MonkeyPatch, target: Path, text: str, *, after_read: bool
) -> list[str]:
    """Make the holder's reader swap ``target`` once: just before it is read (after its stat),
    or just after it was read."""
    original = policy_holder._recording_reader
    reads: list[str] = []

    def recording(seen: list[tuple[policy_holder.FileSignature, bytes]]) -> Callable[[Path], bytes]:
        inner = original(seen)

        def read(path: Path) -> bytes:
            reads.append(path.name)
            if path == target and reads.count(path.name) == 1 and not after_read:
                signature = policy_holder._signature(str(path))
                swap(path, text)  # between the stat and the read
                raw = path.read_bytes()
                seen.append((signature, raw))
                return raw
            raw = inner(path)
            if path == target and reads.count(path.name) == 1 and after_read:
                swap(path, text)
            return raw

        return read

    monkeypatch.setattr(policy_holder, "_recording_reader", recording)
    return reads


def test_a_file_swapped_between_its_stat_and_its_read_is_read_again(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    child, base = files
    reads = swapping_reader(monkeypatch, base, BASE_BOTH, after_read=False)
    holder = PolicyHolder([str(child)], check_interval=0)
    assert reads == ["policy.yaml", "base.yaml", "policy.yaml", "base.yaml"]
    assert allowed(holder) == ("Never", "OnFailure")
    assert holder.state.reloads == 0


def test_a_file_swapped_after_its_read_is_noticed_before_the_load_is_served(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    child, base = files
    reads = swapping_reader(monkeypatch, base, BASE_BOTH, after_read=True)
    holder = PolicyHolder([str(child)], check_interval=0)
    # the swap came after the read: the second try reads the new file, and the set is consistent
    assert reads == ["policy.yaml", "base.yaml", "policy.yaml", "base.yaml"]
    assert allowed(holder) == ("Never", "OnFailure")


def test_a_swap_after_the_load_is_noticed_on_the_next_check(files: tuple[Path, Path]) -> None:
    child, base = files
    holder = PolicyHolder([str(child)], check_interval=0)
    assert allowed(holder) == ("Never",)
    swap(base, BASE_BOTH)
    assert allowed(holder) == ("Never", "OnFailure")
    assert holder.state.reloads == 1
    assert holder.current().rules["backoff-limit"].action.value == "deny"


def test_the_digest_is_of_the_bytes_parsed(files: tuple[Path, Path]) -> None:
    import hashlib

    child, _base = files
    holder = PolicyHolder([str(child)], check_interval=0)
    expected = hashlib.sha256(CHILD.encode() + b"\0" + BASE_NEVER.encode() + b"\0").hexdigest()
    assert holder.state.digest == expected
