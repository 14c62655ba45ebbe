"""Findings: one observation about the user's files, with an address and a fix."""

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

Severity = Literal["error", "warning", "info"]

SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class Finding(NamedTuple):
    """Something the kit noticed, addressed by file, 1-based line and column."""

    rule: str
    severity: Severity
    path: str
    line: int | None
    column: int | None
    message: str
    fix: str = ""

    @property
    def location(self) -> str:
        """``path:line:column`` with the parts that are known."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def sort_key(finding: Finding) -> tuple[str, int, int, int, str]:
    """Order findings by file, then position, then severity."""
    return (
        finding.path,
        finding.line or 0,
        finding.column or 0,
        SEVERITY_ORDER[finding.severity],
        finding.rule,
    )


def sorted_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    return sorted(findings, key=sort_key)


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity == "error" for f in findings)


def render_findings_text(findings: Iterable[Finding]) -> str:
    """Findings as indented text: severity, location and rule, the message, the fix."""
    lines: list[str] = []
    for f in findings:
        lines.append(f"{f.severity:<8} {f.location}  [{f.rule}]")
        lines.append(f"         {f.message}")
        if f.fix:
            lines.append(f"         fix: {f.fix}")
    return "\n".join(lines)
