"""Rendering a conversion for people (text) and for programs (JSON), and as a diff.

Everything here returns strings; secrets are masked before anything is shown.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from kit.appfs import WriteOutcome
from kit.appfs.write import listing
from kit.convert.app import Conversion
from kit.convert.migration import ReportRow
from kit.findings import Finding, render_findings_text
from kit.platform.facts import BUILD_FILE
from kit.secrets import mask_text


def _where(path: str | None, line: int | None) -> str:
    if path is None:
        return "-"
    return f"{path}:{line}" if line is not None else path


def summary(conversion: Conversion) -> dict[str, int]:
    actions = Counter(row.action for row in conversion.rows)
    severities = Counter(f.severity for f in conversion.findings)
    return {
        "services": len(conversion.services),
        "converted": actions["converted"],
        "changed": actions["changed"],
        "dropped": actions["dropped"],
        "manual": actions["manual"],
        "errors": severities["error"],
        "warnings": severities["warning"],
        "infos": severities["info"],
        "files_fixed": len(conversion.edits),
    }


def _row_lines(row: ReportRow) -> list[str]:
    change = row.new if row.action != "dropped" else "(dropped)"
    if row.source == "(Gear name)":
        change = f"{row.old} -> {row.new}"
    head = (
        f"  {row.action:<9}  {row.source:<22}  {_where(row.source_path, row.source_line):<22}"
        f"  -> {_where(row.target_path, row.target_line)}"
    )
    return [head, f"             {change}", f"             why: {row.reason}"]


def render_text(conversion: Conversion, *, source: str, outcome: str) -> str:
    """The migration report as plain, stable text."""
    counts = summary(conversion)
    names = ", ".join(s.name for s in conversion.services)
    out = [f"Migration report for {source}: {counts['services']} service(s): {names}", ""]
    current = None
    for row in conversion.rows:
        if row.service != current:
            if current is not None:
                out.append("")
            current = row.service
            out.append(f"{row.gear} -> service {row.service}")
        out.extend(_row_lines(row))
    if conversion.findings:
        out += ["", "Findings:", render_findings_text(conversion.findings)]
    for edit in conversion.edits:
        out += ["", f"Fixed {edit.path} in the converted copy:"]
        out += [f"  {d}" for d in edit.descriptions]
        out.append(mask_text(_unified(edit.path, edit.before, edit.after), conversion.secrets))
    out += [
        "",
        f"{counts['converted']} converted, {counts['changed']} changed, "
        f"{counts['dropped']} dropped, {counts['manual']} manual; "
        f"{counts['errors']} error(s), {counts['warnings']} warning(s), "
        f"{counts['infos']} note(s) for the platform.",
        outcome,
    ]
    return "\n".join(out) + "\n"


def render_outcome(outcome: WriteOutcome, out: str) -> str:
    """What the write did to OUT, in a sentence or two."""
    if not any(outcome[1:]):
        return f"Wrote the dotCloud app to {out}."
    parts = [
        f"{len(paths)} {word}"
        for paths, word in (
            (outcome.added, "added"),
            (outcome.updated, "updated"),
            (outcome.replaced, "replaced (edited since, as asked)"),
            (outcome.unchanged, "unchanged"),
            (outcome.removed, "removed (no longer produced)"),
        )
        if paths
    ]
    text = f"Updated the dotCloud app in {out}: {', '.join(parts)}."
    if outcome.kept:
        text += f"\nKept what the conversion did not write: {listing(list(outcome.kept))}."
    if outcome.left:
        text += (
            "\nLeft alone, edited since the last conversion and no longer produced: "
            f"{listing(list(outcome.left))}."
        )
    return text


def render_json(
    conversion: Conversion,
    *,
    source: str,
    output: str | None,
    written: bool,
    wrote: WriteOutcome | None = None,
) -> str:
    doc: dict[str, Any] = {
        "source": source,
        "output": output,
        "written": written,
        "services": [
            {"name": s.name, "approot": s.approot, "ports": dict(s.ports)}
            for s in conversion.services
        ],
        "rows": [row._asdict() for row in conversion.rows],
        "findings": [f.as_dict() for f in conversion.findings],
        "edits": [{"path": e.path, "changes": list(e.descriptions)} for e in conversion.edits],
        "summary": summary(conversion),
    }
    if wrote is not None:
        doc["write"] = {key: list(paths) for key, paths in wrote._asdict().items()}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_error_json(findings: Sequence[Finding], *, source: str) -> str:
    doc = {
        "source": source,
        "written": False,
        "findings": [f.as_dict() for f in findings],
        "summary": {"errors": sum(f.severity == "error" for f in findings)},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _text(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def _unified(path: str, before: bytes | None, after: bytes | None) -> str:
    import difflib

    lines = difflib.unified_diff(
        _text(before) if before is not None else [],
        _text(after) if after is not None else [],
        fromfile=f"a/{path}" if before is not None else "/dev/null",
        tofile=f"b/{path}" if after is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")


def render_diff(conversion: Conversion, originals: Mapping[str, bytes]) -> str:
    """The conversion as a unified diff against the source app, secrets masked."""
    chunks: list[str] = []
    for item in conversion.files:
        after = conversion.masked_build_file.encode() if item.path == BUILD_FILE else item.content
        chunks.append(_unified(item.path, originals.get(item.path), after))
    for path in conversion.removed:
        chunks.append(_unified(path, originals.get(path, b""), None))
    text = "".join(chunk + "\n" for chunk in chunks if chunk)
    return mask_text(text, conversion.secrets)
