"""The page that maps each claim of the porting guide to what shows it.

Read from ``notebooks/claims.yml`` and the stored notebooks: for each claim, the
notebook cell that demonstrates it (found by its ``# claim: ID`` comment, linked
by the cell's id), the rules of ``dotkit verify`` that check it, where the docs
explain it, and whether the sandbox behaves as the platform did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from docs_hooks.pages import Page, md_text

_CLAIM = re.compile(r"^\s*#\s*claim:\s*(\S+)\s*$", re.M)


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def claim_cells(notebooks: Iterable[Path]) -> dict[str, list[tuple[str, str]]]:
    """Claim id -> the (notebook file name, cell id) of each code cell that names it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in notebooks:
        data = json.loads(path.read_text(encoding="utf-8"))
        for cell in data.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            for claim in _CLAIM.findall(_source(cell)):
                found.setdefault(claim, []).append((path.name, str(cell.get("id", ""))))
    return found


def _shown(cells: Sequence[tuple[str, str]], titles: Mapping[str, str]) -> str:
    links = []
    for name, cell_id in cells:
        title = titles.get(name, name).split(". ", 1)[0]
        anchor = f"#cell-id={cell_id}" if cell_id else ""
        links.append(f"[notebook {title}](notebooks/{name}{anchor})")
    return ", ".join(links) or "(not shown)"


def claims_page(
    claims_file: Path, notebooks: Sequence[Path], titles: Mapping[str, str], rules: set[str]
) -> Page:
    """The claims page: one table per section of the porting guide."""
    claims = yaml.safe_load(claims_file.read_text(encoding="utf-8"))["claims"]
    cells = claim_cells(notebooks)
    sections: dict[str, list[dict[str, Any]]] = {}
    for claim in claims:
        sections.setdefault(claim["section"], []).append(claim)
    differs = sum(c["sandbox"] == "differs" for c in claims)
    blocks = [
        "# The guide's claims, and what shows them",
        f"The porting guide makes {len(claims)} claims about the platform. Each one is "
        "demonstrated by a cell of a notebook, which nbval runs again on every test run; "
        "many are also checked by a rule of `dotkit verify`. This page is built from "
        "`notebooks/claims.yml` and the notebooks themselves. "
        f"The local sandbox behaves as the platform did for {len(claims) - differs} of them; "
        f"for the other {differs} the last column says how it differs.",
    ]
    for section, items in sections.items():
        blocks.append(f"## {md_text(section)}")
        rows = ["| The guide says | Shown in | Checked by | Sandbox |", "|---|---|---|---|"]
        for claim in items:
            statement = f"[{md_text(claim['statement'])}]({claim['docs']})"
            checked = ", ".join(
                f"[{slug}](rules/{slug}.md)" for slug in claim.get("rules", []) if slug in rules
            )
            sandbox = "same" if claim["sandbox"] == "same" else f"differs: {md_text(claim['note'])}"
            rows.append(
                f"| {statement} | {_shown(cells.get(claim['id'], []), titles)} "
                f"| {checked or '-'} | {sandbox} |"
            )
        blocks.append("\n".join(rows))
    return Page("claims.md", "The guide's claims", "\n\n".join(blocks) + "\n")
