"""Shared by the rules that write a policy default into a field the user left out.

Not a rule (the registry lists no private module). The one question these rules share is "should
the policy's default go here?", and it has to be answered the same way on a raw manifest (lint)
and on an object the API server has already defaulted (the mutating webhook): there the field
holds the API's default, which counts as unset (``JobView.user_set``), and the default is only
worth a finding when writing it changes the value.
"""

from __future__ import annotations

from typing import Any

from jobguard.core.view import JobView
from jobguard.rules._typos import near_miss_key


def wants_policy_default(view: JobView, relative: tuple[str, ...], target: Any) -> bool:
    """The user did not set the field and the object does not already hold ``target``.

    On a raw manifest that is "the field is absent". On a defaulted admission object a field
    holding the API default counts as unset, but the API default that equals ``target`` needs no
    finding: the patch would be empty and the warning noise. A misspelling of the field beside
    it (api-structure reports it, with the rename) holds the default back: written beside the
    typo it would replace the value the user meant.
    """
    return (
        not view.user_set(*relative)
        and view.get(*relative) != target
        and near_miss_key(view, view.at(*relative)) is None
    )


def unset_phrase(view: JobView, relative: tuple[str, ...]) -> str:
    """How to say "not set" for a field, naming the API default the object already holds."""
    value = view.get(*relative)
    name = relative[-1]
    if view.has(*relative):
        return f"{name} is not set (the API server's default {value} applies)"
    return f"{name} is not set"
