"""The porting guide's claims (``notebooks/claims.yml``), and a notebook's recap of them.

A notebook ends with :func:`recap`: for each claim it demonstrated, what the
guide said (linked to the migration guide's section) next to what the notebook
measured, with the measured values in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import yaml

from .tables import Link, Shown, Table

CLAIMS_FILE = Path(__file__).resolve().parents[2] / "notebooks" / "claims.yml"


class Claim(NamedTuple):
    id: str
    section: str
    notebook: str
    statement: str
    sandbox: str  # "same" or "differs"
    note: str
    docs: str  # where the docs explain it: "guide.md#step-3-port-8080-and-tcp-ports"
    rules: tuple[str, ...]  # rules of the catalogue that check it

    def link(self) -> Link:
        return Link(self.statement, f"../docs/{self.docs}")


def load_claims(path: Path = CLAIMS_FILE) -> dict[str, Claim]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        item["id"]: Claim(
            id=item["id"],
            section=item["section"],
            notebook=item["notebook"],
            statement=item["statement"],
            sandbox=item["sandbox"],
            note=item.get("note", ""),
            docs=item.get("docs", "guide.md"),
            rules=tuple(item.get("rules", ())),
        )
        for item in data["claims"]
    }


class Recap(Shown):
    """What the guide said, and what the notebook showed, claim by claim."""

    def __init__(self, seen: Mapping[str, str], claims: Mapping[str, Claim]) -> None:
        unknown = sorted(set(seen) - set(claims))
        if unknown:
            raise KeyError(f"not in claims.yml: {', '.join(unknown)}")
        self.seen = dict(seen)
        self.claims = claims

    def table(self) -> Table:
        rows = []
        for claim_id, saw in self.seen.items():
            claim = self.claims[claim_id]
            if claim.sandbox == "differs":
                saw += f" (the sandbox differs: {claim.note})"
            rows.append((claim.link(), saw))
        return Table(
            ["what the guide said", "what you saw"], rows, title="The guide, checked", wrap=True
        )


def recap(seen: Mapping[str, str]) -> Recap:
    """A recap of the claims in ``seen`` (claim id -> what the notebook showed)."""
    return Recap(seen, load_claims())
