"""PolicyHolder in process, with a controlled clock: when it looks at the files, what it
reloads, what it rejects, and what it tells its listener."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobguard.policy import PolicyError
from jobguard.webhook.policy_holder import REJECTED, RELOADED, PolicyHolder, PolicyState

NEVER = """\
apiVersion: jobguard.dev/v1
kind: Policy
rules:
  restart-policy: {action: deny, allowed: [Never]}
"""
BOTH = NEVER.replace("[Never]", "[Never, OnFailure]")
BROKEN = NEVER.replace("allowed", "alowed")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def allowed(holder: PolicyHolder) -> tuple[str, ...]:
    options = holder.current().rules["restart-policy"].options
    return tuple(options.allowed)


def rewrite(path: Path, text: str) -> None:
    """Replace the file with new content and a new mtime (the stat result must change)."""
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


Setup = tuple[Path, Clock, list[tuple[str, PolicyState]], PolicyHolder]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    path = tmp_path / "policy.yaml"
    path.write_text(NEVER)
    clock = Clock()
    events: list[tuple[str, PolicyState]] = []
    holder = PolicyHolder(
        [str(path)], check_interval=1.0, clock=clock, listener=lambda e, s: events.append((e, s))
    )
    return path, clock, events, holder


def test_files_are_looked_at_only_once_per_interval(setup: Setup) -> None:
    path, clock, events, holder = setup
    rewrite(path, BOTH)
    clock.now = 0.5
    assert allowed(holder) == ("Never",)
    clock.now = 1.0
    assert allowed(holder) == ("Never", "OnFailure")
    assert [e for e, _ in events] == [RELOADED]
    assert holder.state.reloads == 1


def test_a_touch_without_a_content_change_is_not_a_reload(setup: Setup) -> None:
    path, clock, events, holder = setup
    rewrite(path, NEVER)
    clock.now = 2.0
    assert allowed(holder) == ("Never",)
    assert events == []


def test_a_broken_file_is_rejected_and_the_last_good_policy_stays(setup: Setup) -> None:
    path, clock, events, holder = setup
    rewrite(path, BROKEN)
    clock.now = 1.0
    assert allowed(holder) == ("Never",)
    assert [e for e, _ in events] == [REJECTED]
    state = holder.state
    assert state.stale
    assert state.rejected_error is not None
    assert state.rejected_error.startswith(f"{path}:4:")
    assert "unknown option 'alowed'" in state.rejected_error
    # fixed again: served and no longer stale
    rewrite(path, BOTH)
    clock.now = 2.0
    assert allowed(holder) == ("Never", "OnFailure")
    assert [e for e, _ in events] == [REJECTED, RELOADED]
    assert not holder.state.stale


def test_a_broken_file_put_back_as_it_was_clears_the_stale_state(setup: Setup) -> None:
    path, clock, events, holder = setup
    rewrite(path, BROKEN)
    clock.now = 1.0
    holder.current()
    rewrite(path, NEVER)
    clock.now = 2.0
    holder.current()
    assert [e for e, _ in events] == [REJECTED, RELOADED]
    assert not holder.state.stale and holder.state.reloads == 0


def test_a_deleted_file_keeps_the_policy_and_says_why(setup: Setup) -> None:
    path, clock, events, holder = setup
    path.unlink()
    clock.now = 1.0
    assert allowed(holder) == ("Never",)
    assert [e for e, _ in events] == [REJECTED]
    assert (
        holder.state.rejected_error == f"{path}: cannot read policy file: No such file or directory"
    )


def test_files_a_policy_extends_are_watched_too(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(NEVER)
    team = tmp_path / "team.yaml"
    team.write_text("apiVersion: jobguard.dev/v1\nkind: Policy\nextends: [base.yaml]\n")
    clock = Clock()
    holder = PolicyHolder([str(team)], check_interval=1.0, clock=clock)
    rewrite(base, BOTH)
    clock.now = 1.0
    assert allowed(holder) == ("Never", "OnFailure")


def test_a_broken_policy_at_start_raises(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BROKEN)
    with pytest.raises(PolicyError):
        PolicyHolder([str(path)])
