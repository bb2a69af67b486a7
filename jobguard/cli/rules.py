"""``jobguard rules`` and ``jobguard explain RULE``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

EXIT_USAGE = 2


def _plain(value: Any) -> Any:
    """An option value as JSON: tuples as lists, enums by value."""
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value) if isinstance(value, (frozenset, set)) else value
        return [_plain(v) for v in items]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _options(options: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(options):
        return {}
    return {f.name: _plain(getattr(options, f.name)) for f in dataclasses.fields(options)}


@click.command(short_help="List the rules, with the actions and options a policy gives them.")
@click.option(
    "--category", type=click.Choice(["api", "policy"]), help="Only rules of this category."
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="Show the action and options each rule has under this policy; repeat to layer.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: code, name, category, summary, kinds, default and in-force action and options.",
)
def rules(category: str | None, policies: tuple[str, ...], fmt: str) -> None:
    """List the rule catalogue (with --policy: the actions and options in force)."""
    from jobguard.cli.policy_files import load_policy_or_exit
    from jobguard.rules import CATALOGUE

    policy = load_policy_or_exit(policies)
    sources = {c.name: c.source for c in policy.custom}  # the policy's custom rules follow
    catalogue = [*CATALOGUE, *policy.custom_rules]
    shown = [r for r in catalogue if category is None or r.category.value == category]
    if fmt == "json":
        entries = []
        for r in shown:
            settings = policy.settings(r)
            entries.append(
                {
                    "code": r.code,
                    "name": r.name,
                    "category": r.category.value,
                    "summary": r.summary,
                    "kinds": sorted(r.kinds),
                    "default_action": r.default_action.value,
                    "default_options": _options(r.options()),
                    "action": settings.action.value,
                    "options": _options(settings.options),
                    # the api rules a denial of this rule stands for (its finding then has
                    # category api and answers to their names too)
                    "stands_for": sorted(r.subsumes),
                    **({"source": sources[r.name]} if r.name in sources else {}),
                }
            )
        click.echo(json.dumps({"version": 1, "rules": entries}, indent=2, ensure_ascii=False))
        return
    width = max(len(r.name) for r in shown) if shown else 0
    for r in shown:
        settings = policy.settings(r)
        action = settings.action if policies else r.default_action
        source = f" (custom rule, {sources[r.name]})" if r.name in sources else ""
        click.echo(
            f"{r.code}  {r.name:<{width}}  {r.category.value:<6}  {action.value:<5}  {r.summary}"
            + source
        )
        if policies:
            changed = {
                k: v for k, v in _options(settings.options).items() if _options(r.options())[k] != v
            }
            if changed:
                click.echo(
                    " " * 7 + "options: " + ", ".join(f"{k}={v!r}" for k, v in changed.items())
                )


@click.command()
@click.argument("rule")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="FILE",
    help="A policy whose custom rules to explain too; repeat to layer.",
)
def explain(rule: str, policies: tuple[str, ...]) -> None:
    """Print a rule's documentation (by name or code).

    With --policy, the policy's custom rules can be explained too.
    """
    import difflib

    from jobguard.cli.policy_files import load_policy_or_exit
    from jobguard.render.doc import plain_text
    from jobguard.rules import CATALOGUE, find_rule

    custom = load_policy_or_exit(policies).custom_rules if policies else ()
    found = find_rule(rule) or next(
        (r for r in custom if rule in (r.name, r.code) or rule.upper() == r.code), None
    )
    if found is None:
        close = difflib.get_close_matches(rule, [r.name for r in (*CATALOGUE, *custom)], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise click.UsageError(f"unknown rule {rule!r}.{hint} `jobguard rules` lists them.")
    click.echo(
        f"{found.code} {found.name} ({found.category.value}, default action: {found.default_action.value})\n"
    )
    click.echo(plain_text(found.doc))
    if found.subsumes:
        click.echo(
            f"\nStands for: {', '.join(sorted(found.subsumes))}. Where this rule denies what the "
            "API server also rejects, one finding is reported, this rule's (it carries the fix), "
            "with category api; --select and --ignore know it by either name."
        )
    defaults = {f.name: f.default for f in dataclasses.fields(found.options)}
    if defaults:
        click.echo("\nDefaults: " + ", ".join(f"{k}={v!r}" for k, v in defaults.items()))
    if found.remediation:
        click.echo(f"\nRemediation: {found.remediation}")
