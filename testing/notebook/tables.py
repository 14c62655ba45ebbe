"""Tables and pictures as a notebook shows them: HTML in Jupyter and on the site, text elsewhere.

A :class:`Table` keeps its rows short so that it fits a narrow column: long text
(a finding's message and fix, a conversion's reason) goes into a folded
``<details>`` row under its row, and the table sits in a box that scrolls
sideways on its own when it is still too wide. The plain text form (``repr``)
holds everything, folded parts included: it is what nbval compares.

Links are written as paths in this repository (``../docs/guide.md#step-3``,
``../docs/rules/yaml-tab.md``, ``05-ports.ipynb``), which JupyterLab follows from
the ``notebooks/`` folder; the docs site's hook rewrites them for the site.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

GUIDE = "../docs/guide.md"


class Link(NamedTuple):
    """A table cell that links somewhere: ``text`` in plain text, an anchor in HTML."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text

    def html(self) -> str:
        return f'<a href="{html.escape(self.href)}">{html.escape(self.text)}</a>'


def rule_link(slug: str) -> Link:
    """A rule's name, linked to its page in the rule catalogue."""
    return Link(slug, f"../docs/rules/{slug}.md")


def guide_link(text: str, anchor: str) -> Link:
    """Text linked to a section of the migration guide (``anchor`` without ``#``)."""
    return Link(text, f"{GUIDE}#{anchor}" if anchor else GUIDE)


Cell = str | Link


def _cell_html(cell: Cell) -> str:
    return cell.html() if isinstance(cell, Link) else html.escape(cell)


class Table:
    """Rows under a title, with an optional folded detail under each row.

    ``details`` holds, for each row, lines of longer text (or nothing); HTML shows
    the first line as the summary of a ``<details>`` element and the rest inside
    it, plain text shows them indented under the row.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Cell | None]],
        *,
        title: str = "",
        details: Iterable[Sequence[str]] | None = None,
        wrap: bool = False,
    ) -> None:
        self.wrap = wrap  # cells of prose that wrap at spaces, rather than one line each
        self.columns = tuple(columns)
        self.rows = tuple(tuple("" if c is None else c for c in row) for row in rows)
        self.title = title
        folded = [tuple(d) for d in details] if details is not None else []
        self.details = tuple(folded) + ((),) * (len(self.rows) - len(folded))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        text = [[str(c) for c in row] for row in self.rows]
        widths = [max(len(c) for c in col) for col in zip(self.columns, *text, strict=False)]
        # The last column is never padded, and its rule is as long as its heading, so a
        # value that changes from run to run there (a duration) leaves the layout alone.
        widths[-1] = len(self.columns[-1])
        lines = [self.title] if self.title else []
        if self.rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
            lines.append("  ".join("-" * w for w in widths))
            for cells, more in zip(text, self.details, strict=True):
                lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
                lines += [f"    {line}" for line in more]
        return "\n".join(line.rstrip() for line in lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        if not self.rows:
            return f'<p class="nb-title">{html.escape(self.title)}</p>'
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = []
        for cells, more in zip(self.rows, self.details, strict=True):
            body.append("<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in cells) + "</tr>")
            if more:
                inside = "".join(f"<div>{html.escape(line)}</div>" for line in more[1:])
                body.append(
                    f'<tr class="nb-more"><td colspan="{len(self.columns)}"><details>'
                    f"<summary>{html.escape(more[0])}</summary>{inside}</details></td></tr>"
                )
        kind = "nb-table nb-wrap" if self.wrap else "nb-table"
        return (
            f'<div class="{kind}" style="overflow-x:auto;max-width:100%">'
            f'<table class="nb" style="margin:0">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Shown:
    """Base of the objects a notebook shows: their :meth:`table`, as HTML or as text."""

    def table(self) -> Table:
        raise NotImplementedError

    def __repr__(self) -> str:
        return repr(self.table())

    def __str__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Picture:
    """A PNG image with a one-line description: the picture in Jupyter, the words elsewhere.

    The description is the plain text form, so it is what nbval compares (nbval
    does not compare images): keep it free of measured values.
    """

    def __init__(self, png: bytes, description: str) -> None:
        self.png = png
        self.description = description

    def __repr__(self) -> str:
        return f"[picture] {self.description}"

    def _repr_png_(self) -> bytes:
        return self.png

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))
