"""Stray ``%`` signs: supervisord expands ``%(name)s`` in every value and refuses
the file on any other ``%``; each one is found with its line and column."""

import re
from typing import NamedTuple

from kit.findings import Finding
from kit.verify.supervisor.layout import Layout, Piece
from kit.verify.supervisor.rules import PERCENT

_PERCENT = re.compile(
    r"%(?:%|\((?P<name>[^()]*)(?P<close>\))?"
    r"(?P<conv>[#0 +\-]*\d*(?:\.\d+)?[hlL]?[diouxXeEfFgGcrsa])?)?"
)
_KNOWN_NAMES = ("here", "program_name", "host_node_name", "group_name", "process_num", "numprocs")


class BadPercent(NamedTuple):
    at: int
    text: str  # the offending expansion as written
    name: str | None  # the name inside %(...)s when it is well-formed but unknown


def bad_percents(value: str) -> list[BadPercent]:
    """Each ``%`` in ``value`` that supervisord's expansion would reject."""
    bad: list[BadPercent] = []
    for match in _PERCENT.finditer(value):
        text, name = match.group(), match.group("name")
        if text == "%%":
            continue
        if name is not None and match.group("close") and match.group("conv"):
            if name in _KNOWN_NAMES or name.startswith("ENV_"):
                continue
            bad.append(BadPercent(match.start(), text, name))
        else:
            bad.append(BadPercent(match.start(), text, None))
    return bad


def escape_bad_percents(value: str) -> str:
    out = value
    for item in reversed(bad_percents(value)):
        out = out[: item.at] + "%" + out[item.at :]
    return out


def percent_findings(path: str, layout: Layout) -> list[Finding]:
    findings = []
    for piece in layout.pieces:
        for item in bad_percents(piece.text):
            findings.append(_percent_finding(path, piece, item))
    return findings


def _percent_finding(path: str, piece: Piece, item: BadPercent) -> Finding:
    where = f"the value of {piece.key} in [{piece.section}]"
    if item.name is not None:
        message = (
            f"{item.text} in {where} names {item.name!r}, which supervisord cannot expand "
            f"(it knows {', '.join(_KNOWN_NAMES)} and ENV_<VARIABLE>)"
        )
    elif item.text == "%":
        message = f"a lone % in {where} starts an expansion supervisord cannot make"
    else:
        message = (
            f"{item.text!r} in {where} is not a complete expansion (supervisord expects %(name)s)"
        )
    fixed = escape_bad_percents(piece.text)
    shown = fixed if piece.continued else f"{piece.key} = {fixed}"
    fix = f"write %% for a literal percent sign: {shown}"
    column = piece.offset + item.at + 1
    return PERCENT.finding(path, piece.line, column, message, fix)
