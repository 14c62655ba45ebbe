from __future__ import annotations

import json

import click

from kit.commands._options import format_option


@click.command("terms")
@format_option("text", "json")
def terms_command(fmt: str) -> int:
    """Show how nodeSocket terms map to dotCloud terms.

    The same table feeds the docs site and the tutorial notebooks.
    """
    from kit.console import show_table
    from kit.terms import TERMS

    if fmt == "json":
        click.echo(json.dumps([t.as_dict() for t in TERMS], indent=2))
        return 0
    show_table(
        ["nodeSocket", "dotCloud", "Notes"],
        [[t.nodesocket, t.dotcloud, t.notes] for t in TERMS],
        title="nodeSocket -> dotCloud",
    )
    return 0
