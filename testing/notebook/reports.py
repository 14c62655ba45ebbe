"""What the kit reports, as tables: the terms, verify's findings, a conversion's report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kit.convert.migration import ReportRow
from kit.findings import Finding
from kit.terms import TERMS, Term

from .tables import Shown, Table, rule_link


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class Terms(Shown):
    """The kit's table of nodeSocket terms and their dotCloud names (``kit.terms.TERMS``)."""

    def __init__(self, terms: Sequence[Term] = TERMS) -> None:
        self.terms = tuple(terms)

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __getitem__(self, nodesocket: str) -> Term:
        for term in self.terms:
            if term.nodesocket == nodesocket:
                return term
        raise KeyError(nodesocket)

    def table(self) -> Table:
        return Table(
            ["nodeSocket", "dotCloud", "guide section"],
            [(t.nodesocket, t.dotcloud, t.section) for t in self.terms],
            title=f"{len(self.terms)} nodeSocket terms and their dotCloud names",
            details=[(t.notes,) for t in self.terms],
        )


def finding_from(item: dict[str, Any]) -> Finding:
    """A finding from ``--format json`` output (keys the kit may add later are ignored)."""
    return Finding(**{k: item[k] for k in Finding._fields if k in item})


class Findings(Shown):
    """What ``dotkit verify`` (or ``convert``) found, in the order it reports them.

    Each rule links to its page in the rule catalogue; the message and the fix
    are folded under their row.
    """

    def __init__(self, findings: Iterable[Finding], label: str = "findings") -> None:
        self.items = tuple(findings)
        self.label = label

    @classmethod
    def from_json(cls, data: Iterable[dict[str, Any]], label: str = "findings") -> Findings:
        return cls((finding_from(item) for item in data), label)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    @property
    def rules(self) -> list[str]:
        """The rule of each finding, in order."""
        return [f.rule for f in self.items]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity == "error")

    def of(self, rule: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.rule == rule)

    def summary(self) -> str:
        if not self.items:
            return f"{self.label}: no problems found"
        counts = Counter(f.severity for f in self.items)
        return (
            f"{self.label}: {_plural(counts['error'], 'error')}, "
            f"{_plural(counts['warning'], 'warning')}, {_plural(counts['info'], 'note')}"
        )

    def table(self) -> Table:
        return Table(
            ["severity", "rule", "where"],
            [(f.severity, rule_link(f.rule), f.location) for f in self.items],
            title=self.summary(),
            details=[(f.message, *([f"fix: {f.fix}"] if f.fix else [])) for f in self.items],
        )


class Migration(Shown):
    """A conversion's report (``dotkit convert --format json``): what became of each key."""

    def __init__(self, data: dict[str, Any], label: str, output: Path | None) -> None:
        self.label = label
        self.output = output
        self.written = bool(data.get("written"))
        self.services = tuple(str(s["name"]) for s in data.get("services", []))
        self.rows = tuple(
            ReportRow(**{k: row.get(k) for k in ReportRow._fields}) for row in data.get("rows", [])
        )
        self.findings = Findings.from_json(data.get("findings", []), f"convert {label}")
        # Each change already names its file, line and column.
        self.edits = tuple(
            str(change) for edit in data.get("edits", []) for change in edit["changes"]
        )

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[ReportRow]:
        return iter(self.rows)

    def row(self, gear: str, source: str) -> ReportRow:
        for row in self.rows:
            if (row.gear, row.source) == (gear, source):
                return row
        raise KeyError(f"{gear}: {source}")

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)

    def table(self) -> Table:
        def where(path: str | None, line: int | None) -> str:
            if path is None:
                return "-"
            return f"{path}:{line}" if line is not None else path

        counts = ", ".join(
            f"{self.count(a)} {a}" for a in ("converted", "changed", "dropped", "manual")
        )
        return Table(
            ["Gear", "key", "action", "from", "to"],
            [
                (
                    r.gear,
                    r.source,
                    r.action,
                    where(r.source_path, r.source_line),
                    where(r.target_path, r.target_line),
                )
                for r in self.rows
            ],
            title=f"{self.label} -> {_plural(len(self.services), 'service')} "
            f"({', '.join(self.services)}): {counts}",
            details=[
                (r.new if r.action != "dropped" else "(dropped)", f"why: {r.reason}")
                for r in self.rows
            ],
        )
