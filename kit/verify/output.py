"""Findings for people (text with code frames), programs (JSON) and code hosts (SARIF 2.1.0)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

from kit import __version__
from kit.findings import Finding
from kit.verify.model import Rule

LineSource = Callable[[str], list[str] | None]
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {
        "errors": counts["error"],
        "warnings": counts["warning"],
        "infos": counts["info"],
        "files": len({f.path for f in findings}),
    }


def _frame(lines: list[str] | None, finding: Finding) -> list[str]:
    if not lines or finding.line is None or not 1 <= finding.line <= len(lines):
        return []
    out = []
    width = len(str(finding.line))
    if finding.line > 1 and lines[finding.line - 2].strip():
        out.append(f"    {finding.line - 1:>{width}} | {lines[finding.line - 2].rstrip()}")
    text = lines[finding.line - 1].rstrip().replace("\t", " ")
    out.append(f"    {finding.line:>{width}} | {text}")
    if finding.column is not None:
        out.append(f"    {'':>{width}} | {' ' * (finding.column - 1)}^")
    return out


def render_text(findings: Sequence[Finding], read_lines: LineSource, *, root: str) -> str:
    if not findings:
        return f"{root}: no problems found.\n"
    out: list[str] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        lines = read_lines(path)
        out.append(path)
        for f in group:
            where = f"{f.line}:{f.column}" if f.line and f.column else (str(f.line or "-"))
            out.append(f"  {where:<7} {f.severity:<7} {f.rule}  {f.message}")
            out.extend(_frame(lines, f))
            if f.fix:
                fix_lines = f.fix.splitlines()
                out.append(f"    fix: {fix_lines[0]}")
                out.extend(f"         {line}" for line in fix_lines[1:])
        out.append("")
    counts = summary(findings)
    out.append(
        f"{counts['errors']} error(s), {counts['warnings']} warning(s), {counts['infos']} "
        f"note(s) in {counts['files']} file(s)."
    )
    return "\n".join(out) + "\n"


def render_json(findings: Sequence[Finding]) -> str:
    doc = {
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "fix": f.fix,
            }
            for f in findings
        ],
        "summary": summary(findings),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_sarif(findings: Sequence[Finding], rules: Sequence[Rule]) -> str:
    """SARIF 2.1.0, so code hosts can show the findings beside the code."""
    index = {rule.slug: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": f.path}}
        if f.line:
            region: dict[str, int] = {"startLine": f.line}
            if f.column:
                region["startColumn"] = f.column
            location["region"] = region
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message}. Fix: {f.fix}" if f.fix else f.message},
            "locations": [{"physicalLocation": location}],
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dotkit",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.slug,
                                "name": rule.slug,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.explanation},
                                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                                "properties": {"category": rule.category},
                            }
                            for rule in rules
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
