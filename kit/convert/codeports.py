"""What a Gear's code listens on, judged by dotCloud's port rule.

An HTTP service must listen on 8080; a TCP service gets its port from the
platform (``PORT_SERVER`` here) and must read it. Each ``listen`` is judged by
:func:`kit.platform.ports.judge_listen`, the rule ``dotkit verify`` applies too,
so both say the same thing with the same severity. With ``--fix`` the code
remedies are applied in place by :mod:`kit.js.fix` (in the file where the wrong
number is written, which may be a config module); a problem fixed is a report
row, and one left is a finding and a manual step.
"""

from collections.abc import Mapping
from typing import NamedTuple

from kit.convert.code import GearCode
from kit.convert.migration import GUIDE_PORTS, CodeEdit, ReportRow
from kit.findings import Finding
from kit.js.fix import Edit, Wanted, apply_edits, plan_edits
from kit.js.model import ListenCall
from kit.platform.envkeys import port_var
from kit.platform.facts import HTTP_PORT
from kit.platform.model import Service
from kit.platform.ports import (
    DEFAULT_TCP_PORT,
    PortProblem,
    Setting,
    env_expression,
    judge_listen,
    wanted_edits,
)

TCP_PORT_NAME = DEFAULT_TCP_PORT
TCP_PORT_ENV = port_var(DEFAULT_TCP_PORT)


class CodeReview(NamedTuple):
    rows: list[ReportRow]
    findings: list[Finding]
    edits: list[CodeEdit]


class _Judged(NamedTuple):
    path: str
    listen: ListenCall
    problem: PortProblem


def _call_text(listen: ListenCall) -> str:
    return f"listen({listen.port.text})"


def _fixed_call(listen: ListenCall) -> str:
    if listen.server == "tcp":
        return f"listen({env_expression(TCP_PORT_ENV)})"
    return f"listen({HTTP_PORT})"


def _plan(code: GearCode, judged: list[_Judged]) -> dict[str, list[Edit]]:
    wishes: dict[str, list[Wanted]] = {}
    for item in judged:
        for target, wanted in wanted_edits(item.path, [(item.listen, item.problem)]).items():
            wishes.setdefault(target, []).extend(wanted)
    planned = {}
    for target, wanted in wishes.items():
        source = code.sources.get(target, code.data.get(target))
        if source is not None:
            planned[target] = plan_edits(source, wanted)
    return planned


def _row(gear: str, service: str, item: _Judged, fixed_at: tuple[str, int] | None) -> ReportRow:
    return ReportRow(
        gear=gear,
        service=service,
        source=_call_text(item.listen),
        action="changed" if fixed_at else "manual",
        old=_call_text(item.listen),
        new=_fixed_call(item.listen),
        source_path=item.path,
        source_line=item.listen.line,
        target_path=fixed_at[0] if fixed_at else None,
        target_line=fixed_at[1] if fixed_at else None,
        reason=item.problem.message,
        guide=GUIDE_PORTS,
    )


def review_ports(
    code: GearCode,
    *,
    gear: str,
    service: Service,
    settings: Mapping[str, Setting],
    fix: bool,
) -> CodeReview:
    judged = [
        _Judged(path, listen, problem)
        for path, listen in code.listens()
        for problem in judge_listen(listen, path, service, settings)
    ]
    planned = _plan(code, judged) if fix else {}
    applied = {(target, e.span): e for target, edits in planned.items() for e in edits}
    review = CodeReview([], [], [])
    for item in judged:
        remedy = item.problem.remedy
        target = (remedy.path or item.path) if remedy is not None else item.path
        edit = applied.get((target, remedy.span)) if remedy and remedy.span else None
        fixed_at = (target, edit.line) if edit is not None else None
        review.rows.append(_row(gear, service.name, item, fixed_at))
        if edit is None:
            fix_text = item.problem.fix
            if remedy is not None and remedy.kind == "code" and not fix:
                fix_text += "; dotkit convert --fix makes this change for you"
            review.findings.append(
                Finding(
                    item.problem.rule,
                    item.problem.severity,
                    item.path,
                    item.listen.line,
                    item.listen.column,
                    item.problem.message,
                    fix_text,
                )
            )
    for target, edits in sorted(planned.items()):
        if not edits:
            continue
        before = code.sources.get(target, code.data.get(target, b""))
        review.edits.append(
            CodeEdit(
                path=target,
                before=before,
                after=apply_edits(before, edits),
                descriptions=tuple(f"{target}:{e.line}:{e.column}: {e.description}" for e in edits),
            )
        )
    return review
