"""Terminal output: rich tables on a terminal, plain stable text everywhere else.

Rich is imported only when standard output is a terminal, which keeps the CLI
quick to start in scripts and notebooks.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

import click


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is never padded."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out) + "\n"


def show_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = "") -> None:
    if not is_terminal():
        if title:
            click.echo(title)
        click.echo(plain_table(headers, rows), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, show_lines=True)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def echo_err(message: str) -> None:
    click.echo(message, err=True)
