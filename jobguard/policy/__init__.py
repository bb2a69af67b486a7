"""Policy files: load, validate (with file:line errors), layer, and compile to an immutable Policy."""

from jobguard.policy.loader import PolicyError, load_policy
from jobguard.policy.model import Policy, RuleSettings, Scope

__all__ = ["Policy", "PolicyError", "RuleSettings", "Scope", "load_policy"]
