"""``jobguard export``: the policy compiled to native admission policies (no webhook needed).

:func:`export_policy` translates; :func:`render_yaml` writes the objects as one stable YAML
stream (same policy and version, byte-identical output); :func:`explain` says per rule what
became native, with which options, and what stays with the webhook.
"""

from __future__ import annotations

from jobguard.export.build import Export, ExportError, RuleExport, export_policy
from jobguard.export.render import explain, render_yaml

__all__ = ["Export", "ExportError", "RuleExport", "explain", "export_policy", "render_yaml"]
