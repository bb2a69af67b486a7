"""The export as YAML (stable, for Git) and as the ``--explain`` report."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from jobguard.core.kubernetes.versions import show
from jobguard.export.build import Export, RuleExport


class _Dumper(yaml.SafeDumper):
    """Block style throughout; long CEL expressions stay on one line (diffs show whole lines)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def render_yaml(export: Export) -> str:
    header = (
        f"# jobguard export for Kubernetes {show(export.version)}: ValidatingAdmissionPolicy"
        " and MutatingAdmissionPolicy objects\n"
        "# generated from the policy; regenerate with `jobguard export` instead of editing\n"
    )
    if export.needs_webhook:
        header += "# left to the webhook (see `jobguard export --explain`): "
        header += ", ".join(export.needs_webhook) + "\n"
    docs = [
        yaml.dump(
            obj,
            Dumper=_Dumper,
            sort_keys=True,
            default_flow_style=False,
            width=1_000_000,
            allow_unicode=True,
        )
        for obj in export.objects
    ]
    return header + "".join(f"---\n{doc}" for doc in docs)


def _options(item: RuleExport) -> str:
    options = item.settings.options
    if not dataclasses.is_dataclass(options) or not dataclasses.fields(options):
        return ""
    parts = []
    for f in dataclasses.fields(options):
        value: Any = getattr(options, f.name)
        if isinstance(value, tuple):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        parts.append(f"{f.name}={'null' if value is None else value}")
    return ", ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _status(item: RuleExport) -> str:
    if item.off:
        return "off"
    if item.custom is not None:
        return "native"
    if not item.translation.checks:
        return "webhook"
    return "partly native" if item.translation.gaps else "native"


def explain(export: Export) -> str:
    lines = [f"jobguard export for Kubernetes {show(export.version)}", ""]
    width = max(len(r.rule.name) for r in export.rules)
    for item in export.rules:
        t = item.translation
        status = _status(item)
        what = ""
        if status != "off" and item.custom is not None:
            what = _count(len(item.custom.validations), "validation") + " (custom rule)"
        elif status != "off" and t.checks:
            what = _count(len(t.checks), "validation")
            if item.mutates:
                what += f", {_count(len(t.defaults), 'default')} (MutatingAdmissionPolicy)"
        row = f"{item.rule.name:<{width}}  {item.settings.action.value:<5}  {status:<13}  {what}"
        lines.append(row.rstrip())
        options = _options(item)
        if options and status != "off":
            lines.append(f"{'':<{width}}  options baked in: {options}")
        for gap in t.gaps:
            lines.append(f"{'':<{width}}  needs the webhook: {gap}")
    lines += ["", "Also left to the webhook:"]
    lines += [f"  - {gap}" for gap in export.admission_gaps]
    if export.needs_webhook:
        lines += [
            "",
            "Run the webhook beside the native policies for: " + ", ".join(export.needs_webhook),
        ]
    else:
        lines += ["", "Every rule that is on is native: the webhook is optional."]
    return "\n".join(lines) + "\n"
