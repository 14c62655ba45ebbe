from __future__ import annotations

import json

import click

from kit.commands._options import format_option


@click.command("rules")
@click.argument("slug", required=False)
@format_option("text", "json")
def rules_command(slug: str | None, fmt: str) -> int:
    """List the rules `dotkit verify` checks, or explain one (SLUG).

    \b
    Examples:
      dotkit rules                        # the whole catalogue
      dotkit rules http-port-not-8080     # why it matters, how to fix it
    """
    from kit.console import show_table
    from kit.verify.catalog import all_rules, get_rule

    if slug:
        rule = get_rule(slug)
        if fmt == "json":
            click.echo(json.dumps(rule._asdict(), indent=2))
            return 0
        click.echo(f"{rule.slug} ({rule.severity}, {rule.category})\n")
        click.echo(f"{rule.summary}\n")
        click.echo(click.wrap_text(rule.explanation, width=88) + "\n")
        if rule.bad:
            click.echo("Fails:\n" + _indent(rule.bad))
        if rule.good:
            click.echo("Passes:\n" + _indent(rule.good))
        return 0
    rules = all_rules()
    if fmt == "json":
        click.echo(json.dumps([r._asdict() for r in rules], indent=2))
        return 0
    show_table(
        ["rule", "severity", "category", "summary"],
        [[r.slug, r.severity, r.category, r.summary] for r in rules],
        title=f"{len(rules)} rules checked by dotkit verify",
    )
    return 0


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())
