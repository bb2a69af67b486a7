"""``jobguard rules`` and ``jobguard explain RULE``."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--category", type=click.Choice(["api", "policy"]), help="Only rules of this category."
)
def rules(category: str | None) -> None:
    """List the rule catalogue."""
    from jobguard.rules import ALL_RULES

    shown = [r for r in ALL_RULES if category is None or r.category.value == category]
    width = max(len(r.name) for r in shown) if shown else 0
    for r in shown:
        click.echo(
            f"{r.code}  {r.name:<{width}}  {r.category.value:<6}  {r.default_action.value:<5}  {r.summary}"
        )


@click.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print a rule's documentation (by name or code)."""
    import dataclasses
    import difflib

    from jobguard.rules import ALL_RULES, find_rule

    found = find_rule(rule)
    if found is None:
        close = difflib.get_close_matches(rule, [r.name for r in ALL_RULES], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise click.UsageError(f"unknown rule {rule!r}.{hint} `jobguard rules` lists them.")
    click.echo(
        f"{found.code} {found.name} ({found.category.value}, default action: {found.default_action.value})\n"
    )
    click.echo(found.doc)
    defaults = {f.name: f.default for f in dataclasses.fields(found.options)}
    if defaults:
        click.echo("\nDefaults: " + ", ".join(f"{k}={v!r}" for k, v in defaults.items()))
    click.echo(f"\nRemediation: {found.remediation}")
