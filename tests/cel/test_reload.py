"""A reloaded policy whose custom rule does not compile is rejected at its position; the webhook's
PolicyHolder keeps serving the last good policy (with its custom rules)."""

from __future__ import annotations

import os
from pathlib import Path

from jobguard.webhook.policy_holder import REJECTED, RELOADED, PolicyHolder

GOOD = """\
apiVersion: jobguard.dev/v1
kind: Policy
custom_rules:
  - name: team-label
    validations:
      - expression: "'team' in object.metadata.?labels.orValue({})"
"""
BROKEN = GOOD.replace("orValue({})", "orValue({}) &&")
RENAMED = GOOD.replace("team-label", "owner-label")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def rewrite(path: Path, text: str) -> None:
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_custom_rule_that_does_not_compile_keeps_the_last_good_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    clock, events = Clock(), []
    holder = PolicyHolder(
        [str(path)], check_interval=1.0, clock=clock, listener=lambda e, s: events.append(e)
    )
    assert holder.current().custom_names == {"team-label"}
    rewrite(path, BROKEN)
    clock.now = 1.0
    assert holder.current().custom_names == {"team-label"}
    assert events == [REJECTED]
    error = holder.state.rejected_error
    assert error is not None
    assert error.startswith(f"{path}:6:70: custom_rules[0].validations[0].expression: Syntax error")
    rewrite(path, RENAMED)
    clock.now = 2.0
    assert holder.current().custom_names == {"owner-label"}
    assert events == [REJECTED, RELOADED]
