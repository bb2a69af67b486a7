"""Where and how a document is being judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The API server version the api rules emulate unless told otherwise (--kubernetes-version).
from jobguard.core.kubernetes.versions import DEFAULT_KUBERNETES_VERSION, Version

__all__ = ["DEFAULT_KUBERNETES_VERSION", "Context"]


@dataclass(frozen=True)
class Context:
    """Facts about the evaluation that are not in the document itself.

    ``operation`` is CREATE for files being linted. ``old_object`` is set on admission UPDATEs.
    ``known_rules`` (the registry's rule names, :attr:`jobguard.core.rule.RuleSet.known`) and
    ``unsuppressible`` (the policy's ``suppressions.forbid``) are filled by the engine for an
    object with suppression annotations, so that a rule can check the names they use.
    """

    operation: str = "CREATE"
    old_object: Mapping[str, Any] | None = None
    kubernetes_version: Version = DEFAULT_KUBERNETES_VERSION
    known_rules: frozenset[str] = field(default_factory=frozenset)
    unsuppressible: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_update(self) -> bool:
        return self.operation == "UPDATE"
