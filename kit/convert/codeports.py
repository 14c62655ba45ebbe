"""What a Gear's code listens on, judged by dotCloud's port rules.

An HTTP service must listen on 8080; a TCP service gets its port from the
platform (``PORT_SERVER`` here) and must read it. Each ``listen`` call that
breaks a rule becomes a finding and a report row, and with ``--fix`` a literal
port is rewritten in place by :mod:`kit.js.fix`.
"""

from collections.abc import Sequence
from typing import NamedTuple

from kit.convert.migration import GUIDE_PORTS, CodeEdit, ReportRow
from kit.findings import Finding
from kit.js.analysis import JsAnalysis, ListenCall
from kit.js.fix import apply_edits, plan_port_fixes
from kit.platform.facts import ENVIRONMENT_JSON, HTTP_PORT

TCP_PORT_NAME = "server"
TCP_PORT_ENV = "PORT_SERVER"


class Script(NamedTuple):
    path: str  # relative to the app root
    source: bytes
    analysis: JsAnalysis


class CodeReview:
    __slots__ = ("edits", "findings", "rows")

    def __init__(self) -> None:
        self.rows: list[ReportRow] = []
        self.findings: list[Finding] = []
        self.edits: list[CodeEdit] = []


def _call_text(listen: ListenCall) -> str:
    return f"listen({listen.port.text})"


def _tcp_problem(listen: ListenCall) -> str | None:
    if listen.port.env_name == TCP_PORT_ENV:
        return None
    if listen.port.kind in ("computed", "missing"):
        return None  # worked out at run time (from environment.json, say): nothing to judge
    return (
        f"the TCP server calls {_call_text(listen)}, but on dotCloud the platform assigns "
        f"a TCP port: read it from process.env.{TCP_PORT_ENV} or "
        f"{ENVIRONMENT_JSON}"
    )


def _http_problem(listen: ListenCall) -> str | None:
    port = listen.port
    if port.kind == "literal" and port.value != HTTP_PORT:
        return f"the HTTP server listens on {port.value}; on dotCloud it must listen on {HTTP_PORT}"
    if port.kind == "env-default" and port.value != HTTP_PORT:
        return (
            f"{port.text} is not {HTTP_PORT} on dotCloud: the platform does not set "
            f"{port.env_name}, so the server would listen on {port.value}"
        )
    if port.kind == "env":
        return (
            f"the HTTP server listens on {port.text}, which dotCloud does not set; "
            f"it must listen on {HTTP_PORT}"
        )
    return None


def review_code(
    *,
    gear: str,
    service: str,
    scripts: Sequence[Script],
    tcp: bool,
    fix: bool,
) -> CodeReview:
    review = CodeReview()
    for script in scripts:
        fixes = plan_port_fixes(
            script.source, script.analysis, tcp_port_env=TCP_PORT_ENV if tcp else None
        )
        fixed_spans = [edit.span for edit in fixes] if fix else []
        for listen in script.analysis.listens:
            is_tcp = listen.server == "tcp"
            problem = _tcp_problem(listen) if is_tcp else _http_problem(listen)
            if problem is None:
                continue
            literal = listen.port.literal
            fixed = literal is not None and any(
                span.start <= literal.start and literal.end <= span.end for span in fixed_spans
            )
            if is_tcp:
                new = f"listen(process.env.{TCP_PORT_ENV})"
                rule, todo = "tcp-port-hardcoded", f"read the port from process.env.{TCP_PORT_ENV}"
            else:
                new = f"listen({HTTP_PORT})"
                rule, todo = "http-port-not-8080", f"listen on {HTTP_PORT}"
            fix_hint = (
                f"{todo}; dotkit convert --fix rewrites this literal for you"
                if literal is not None and not fixed
                else todo
            )
            review.findings.append(
                Finding(
                    rule=rule,
                    severity="info" if fixed else "warning",
                    path=script.path,
                    line=listen.line,
                    column=listen.column,
                    message=("fixed: " if fixed else "") + problem,
                    fix="nothing left to do" if fixed else fix_hint,
                )
            )
            review.rows.append(
                ReportRow(
                    gear=gear,
                    service=service,
                    source=_call_text(listen),
                    action="changed" if fixed else "manual",
                    old=_call_text(listen),
                    new=new,
                    source_path=script.path,
                    source_line=listen.line,
                    target_path=script.path if fixed else None,
                    target_line=listen.line if fixed else None,
                    reason=problem,
                    guide=GUIDE_PORTS,
                )
            )
        if fix and fixes:
            review.edits.append(
                CodeEdit(
                    path=script.path,
                    before=script.source,
                    after=apply_edits(script.source, fixes),
                    descriptions=tuple(
                        f"{script.path}:{e.line}:{e.column}: {e.description}" for e in fixes
                    ),
                )
            )
    return review
