"""The diagnostic bundle: its files rendered from a :class:`Repro`, and the zip written.

Rendering is pure and returns ``(name, text)`` pairs; :func:`write_bundle`
passes every text through the masking function once more as it writes it,
so nothing reaches the zip unmasked, whichever file it came in.
"""

from __future__ import annotations

import functools
import html
import io
import json
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kit.errors import OperationFailed
from kit.findings import Finding
from kit.private import write_private
from kit.repro.model import Probe, Repro

Files = list[tuple[str, str]]


def app_files(repro: Repro) -> Files:
    """Every file of the bundle but the two summaries."""
    files: Files = [
        ("repro.json", _json(overview(repro))),
        ("findings.json", _json(findings_doc(repro.findings))),
        ("probes.json", _json([p._asdict() for p in repro.probes])),
        ("versions.json", _json(repro.versions)),
    ]
    if repro.migration_json:
        files.append(("migration-report.json", repro.migration_json))
        files.append(("migration-report.txt", repro.migration_text))
    if repro.deployment_log:
        files.append(("deployment.log", repro.deployment_log))
    if repro.build_log:
        files.append(("build.log", repro.build_log))
    taken: set[str] = set()
    for tail in repro.logs:
        files.append((_unique(f"logs/{tail.instance}/{tail.name}", taken), tail.text))
    for inst in repro.environments:
        files.append((_unique(f"environment/{inst.instance}.json", taken), _json(inst.env)))
    return files


def render(repro: Repro) -> Files:
    """The whole bundle: the summaries first."""
    files = app_files(repro)
    names = ["summary.md", "summary.html", *(name for name, _ in files)]
    return [
        ("summary.md", summary_markdown(repro, names)),
        ("summary.html", summary_html(repro, names)),
        *files,
    ]


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}{dot}{ext}", n + 1
    taken.add(candidate)
    return candidate


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def findings_doc(findings: Sequence[Finding]) -> dict[str, Any]:
    from kit.verify.output import summary

    return {"findings": [f.as_dict() for f in findings], "summary": summary(findings)}


def overview(repro: Repro) -> dict[str, Any]:
    return {
        "ticket": repro.ticket,
        "application": repro.app,
        "source": repro.source,
        "layout": repro.layout,
        "pushed_from": repro.pushed_from,
        "verdict": repro.verdict,
        "ok": repro.ok,
        "deployed": repro.deployed,
        "stage": repro.stage,
        "problem": repro.problem,
        "deployment": repro.deployment.get("id"),
        "started": _when(repro.started),
        "finished": _when(repro.finished),
        "commands": commands(repro),
    }


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def commands(repro: Repro) -> dict[str, str]:
    """What support staff run next against the ticket's sandbox application."""
    a = f"dotkit -A {repro.app}"
    web = [p.service for p in repro.probes if p.kind == "http"]
    svc = web[0] if web else (repro.probes[0].service if repro.probes else "SERVICE")
    found: dict[str, str] = {}
    if repro.deployed:
        found["describe"] = f"{a} info"
        found["logs"] = f"{a} logs {svc} -N -n 100"
        found["environment"] = f"{a} run {svc} -- cat environment.json"
    if repro.deployment:
        found["push log"] = f"{a} dlogs latest -N"
    if repro.stage != "convert":
        found["push again"] = f"cd {repro.pushed_from} && {a} push"
    found["destroy"] = f"{a} -y destroy"
    return found


def _running_words(repro: Repro) -> str:
    if repro.deployed:
        return f"The reproduction keeps running as {repro.app}"
    if repro.stage == "convert":
        return f"Nothing was pushed to the sandbox application {repro.app}"
    return f"Nothing of it runs; the sandbox application {repro.app} keeps the push's log"


@functools.cache
def _catalogue() -> frozenset[str]:
    """The rules `dotkit rules` explains (the conversion's own findings are not among them)."""
    from kit.verify.catalog import all_rules

    return frozenset(rule.slug for rule in all_rules())


LAYOUTS = {"nodesocket": "nodeSocket", "dotcloud": "dotCloud"}


def _layout_words(repro: Repro) -> str:
    if repro.layout == "nodesocket":
        return "nodeSocket layout, converted without --fix"
    return "dotCloud layout"


def _probe_result(p: Probe) -> str:
    head = ("ok" if p.ok else "FAILED") + (f", HTTP {p.status}" if p.status is not None else "")
    detail = " ".join(p.detail.split())
    return f"{head}: {detail[:160]}" if detail else head


def _finding_lines(f: Finding) -> tuple[str, str]:
    return f"{f.severity} {f.location} [{f.rule}] {f.message}", f.fix


# --- summary.md ---------------------------------------------------------------------------------


def summary_markdown(repro: Repro, names: Sequence[str]) -> str:
    out = [
        f"# Reproduction of ticket {repro.ticket}",
        "",
        f"**Verdict: {repro.verdict}**",
        "",
        "| | |",
        "|---|---|",
        f"| Customer's app | `{repro.source}` ({_layout_words(repro)}) |",
        f"| Sandbox application | `{repro.app}` ({repro.versions.get('backend', '?')} backend) |",
        f"| Deployment | {_deployment_words(repro)} |",
        f"| Made | {_when(repro.finished)} by dotkit {repro.versions.get('dotkit', '?')} |",
        "",
        "Secret values are shown as `********` in every file of this bundle.",
        "",
    ]
    out += ["## What explains it", ""]
    out += _md_findings(repro.explaining) or ["No errors were found."]
    others = [f for f in repro.findings if f not in repro.explaining]
    if others:
        out += ["", "## Other findings", "", *_md_findings(others)]
    if repro.problem:
        what = "conversion" if repro.stage == "convert" else "push"
        out += ["", f"## What the {what} said", "", "```text", repro.problem.rstrip(), "```"]
    out += ["", "## Probes", ""]
    if repro.probes:
        out += ["| Service | Probe | Target | Result |", "|---|---|---|---|"]
        out += [
            f"| {p.service} | {p.kind} | `{p.target}` | {_md_cell(_probe_result(p))} |"
            for p in repro.probes
        ]
    else:
        out.append("Nothing was probed: no service was deployed.")
    out += ["", "## Keep looking", "", f"{_running_words(repro)}:", ""]
    out += [f"    {command:<60} # {why}" for why, command in commands(repro).items()]
    out += ["", "## In this bundle", "", *(f"- `{name}`" for name in names), ""]
    return "\n".join(out)


def _deployment_words(repro: Repro) -> str:
    record = repro.deployment
    if not record:
        return "none (nothing was pushed)"
    return f"{record.get('id')} of revision {record.get('revision')}: {record.get('status')}"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_findings(findings: Sequence[Finding]) -> list[str]:
    out = []
    for f in findings:
        out.append(f"- **{f.severity}** `{f.location}` [{f.rule}]: {f.message}")
        if f.fix:
            out.append(f"  - fix: {f.fix}")
        if f.rule in _catalogue():
            out.append(f"  - why: `dotkit rules {f.rule}`")
    return out


# --- summary.html -------------------------------------------------------------------------------

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
.verdict { padding: .8rem 1rem; border-radius: 6px; font-weight: 600; }
.ok { background: #e6f4ea; } .failed { background: #fce8e6; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .3rem .6rem; }
.error { color: #b3261e; } .warning { color: #8a5300; } .info { color: #555; }
"""


def summary_html(repro: Repro, names: Sequence[str]) -> str:
    e = html.escape
    state = "ok" if repro.ok else "failed"
    rows = [
        ("Customer's app", f"<code>{e(repro.source)}</code> ({e(_layout_words(repro))})"),
        ("Sandbox application", f"<code>{e(repro.app)}</code>"),
        ("Deployment", e(_deployment_words(repro))),
        ("Made", e(f"{_when(repro.finished)} by dotkit {repro.versions.get('dotkit', '?')}")),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Reproduction of ticket {e(repro.ticket)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Reproduction of ticket {e(repro.ticket)}</h1>",
        f'<p class="verdict {state}">Verdict: {e(repro.verdict)}</p>',
        "<table>",
        *(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows),
        "</table>",
        "<p>Secret values are shown as <code>********</code> in every file of this bundle.</p>",
        "<h2>What explains it</h2>",
        _html_findings(repro.explaining) or "<p>No errors were found.</p>",
    ]
    others = [f for f in repro.findings if f not in repro.explaining]
    if others:
        out += ["<h2>Other findings</h2>", _html_findings(others)]
    if repro.problem:
        what = "conversion" if repro.stage == "convert" else "push"
        out += [f"<h2>What the {what} said</h2>", f"<pre>{e(repro.problem.rstrip())}</pre>"]
    out.append("<h2>Probes</h2>")
    if repro.probes:
        out.append("<table><tr><th>Service</th><th>Probe</th><th>Target</th><th>Result</th></tr>")
        out += [
            f"<tr><td>{e(p.service)}</td><td>{e(p.kind)}</td><td><code>{e(p.target)}</code></td>"
            f"<td>{e(_probe_result(p))}</td></tr>"
            for p in repro.probes
        ]
        out.append("</table>")
    else:
        out.append("<p>Nothing was probed: no service was deployed.</p>")
    out += [
        "<h2>Keep looking</h2>",
        f"<p>{e(_running_words(repro))}:</p>",
        "<table>",
        *(
            f"<tr><td>{e(why)}</td><td><code>{e(command)}</code></td></tr>"
            for why, command in commands(repro).items()
        ),
        "</table>",
        "<h2>In this bundle</h2>",
        "<ul>",
        *(f"<li><code>{e(name)}</code></li>" for name in names),
        "</ul>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)


def _html_findings(findings: Sequence[Finding]) -> str:
    e = html.escape
    if not findings:
        return ""
    items = []
    for f in findings:
        fix = f"<br>fix: {e(f.fix)}" if f.fix else ""
        why = f"<br>why: <code>dotkit rules {e(f.rule)}</code>" if f.rule in _catalogue() else ""
        items.append(
            f'<li><span class="{e(f.severity)}">{e(f.severity)}</span> '
            f"<code>{e(f.location)}</code> [{e(f.rule)}]: {e(f.message)}{fix}{why}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


# --- the terminal -------------------------------------------------------------------------------


def terminal_summary(repro: Repro, bundle: Path) -> str:
    out = ["", f"Verdict: {repro.verdict}"]
    if repro.explaining:
        out.append("What explains it:")
        out += _terminal_findings(repro.explaining)
    others = [f for f in repro.findings if f not in repro.explaining]
    if others:
        out.append("Other findings:")
        out += _terminal_findings(others)
    if repro.probes:
        out.append("Probes:")
        out += [
            f"  {p.service:<12} {p.kind:<5} {p.target:<28} {_probe_result(p)}" for p in repro.probes
        ]
    out.append(f"Bundle: {bundle}")
    cmds = commands(repro)
    out.append(f"{_running_words(repro)}:")
    out += [f"  {cmds[k]}" for k in ("describe", "logs", "push log") if k in cmds]
    out.append(f"Destroy it with: {cmds['destroy']}")
    return "\n".join(out) + "\n"


def _terminal_findings(findings: Sequence[Finding]) -> list[str]:
    out = []
    for f in findings:
        out.append(f"  {f.severity:<8} {f.location}  [{f.rule}]  {f.message}")
        if f.fix:
            out.append(f"           fix: {f.fix}")
    return out


def terminal_json(repro: Repro, bundle: Path) -> str:
    doc = {
        **overview(repro),
        "bundle": str(bundle),
        "findings": [f.as_dict() for f in repro.findings],
        "probes": [p._asdict() for p in repro.probes],
    }
    return _json(doc)


# --- the zip ------------------------------------------------------------------------------------


def write_bundle(path: Path, folder: str, files: Files, mask: Callable[[str], str]) -> None:
    """Write the zip atomically and readable by its owner only (0600); every text masked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in files:
            zf.writestr(f"{folder}/{name}", mask(text).encode("utf-8"))
    try:
        write_private(path, buffer.getvalue())
    except OSError as exc:
        raise OperationFailed(f"could not write the bundle {path}: {exc}") from None
