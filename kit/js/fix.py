"""In-place port fixes at the syntax node, leaving every other byte alone.

dotCloud routes HTTP to port 8080 and hands TCP services a port through an
environment variable. Rewriting only the literal that decides the port (found by
:mod:`kit.js.analysis`) keeps comments, formatting and line endings exactly as the
user wrote them, and makes a second run a no-op.
"""

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from kit.js.analysis import JsAnalysis, ListenCall, Span
from kit.platform.facts import HTTP_PORT

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class Edit(NamedTuple):
    span: Span
    replacement: str
    line: int
    column: int
    description: str


def _env_expression(name: str) -> str:
    # Names that are not JS identifiers still need to round-trip through analyze_js.
    if _IDENTIFIER.fullmatch(name):
        return f"process.env.{name}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'process.env["{escaped}"]'


def _edit(source: bytes, call: ListenCall, span: Span, replacement: str) -> Edit:
    port = call.port
    old = source[span.start : span.end].decode("utf-8", errors="replace")
    expr = port.expr or span
    written = source[expr.start : expr.end].decode("utf-8", errors="replace")
    if written == port.text and expr.start <= span.start and span.end <= expr.end:
        # The edit sits in the argument itself, so show the call as it will read.
        new = source[expr.start : span.start] + replacement.encode() + source[span.end : expr.end]
        description = f"listen({written}) -> listen({new.decode('utf-8', errors='replace')})"
    else:
        description = f"{old} -> {replacement} (the port of listen({port.text}))"
    return Edit(span, replacement, 0, 0, description)  # positioned once all are known


def _fix_for(source: bytes, call: ListenCall, tcp_port_env: str | None) -> Edit | None:
    port = call.port
    if call.server in {"http", "unknown"}:
        if port.kind in {"literal", "env-default"} and port.literal and port.value != HTTP_PORT:
            return _edit(source, call, port.literal, str(HTTP_PORT))
        return None
    if tcp_port_env is None:
        return None
    if port.kind == "literal" and port.literal is not None:
        return _edit(source, call, port.literal, _env_expression(tcp_port_env))
    if port.kind == "env-default" and port.env_name != tcp_port_env and port.expr is not None:
        return _edit(source, call, port.expr, _env_expression(tcp_port_env))
    return None


def plan_port_fixes(source: bytes, analysis: JsAnalysis, *, tcp_port_env: str | None) -> list[Edit]:
    """Edits moving HTTP listens to 8080 and TCP listens to ``process.env[tcp_port_env]``.

    Listens sharing a declaration (``var PORT = 3000`` used by an HTTP and a TCP
    server) agree on one edit or get none: picking a winner would let the loser's
    wish surface on the next run, breaking idempotence, and the honest fix there
    is a human splitting the variable.
    """
    wanted: dict[tuple[Span, str], Edit] = {}
    for call in analysis.listens:
        edit = _fix_for(source, call, tcp_port_env)
        if edit is not None:
            wanted.setdefault((edit.span, edit.replacement), edit)
    return _positioned(source, _without_conflicts(list(wanted.values())))


def _positioned(source: bytes, edits: list[Edit]) -> list[Edit]:
    """Fill in 1-based line and character column, walking the source once.

    Edits arrive in source order; counting on from the previous one keeps a
    generated file with thousands of listens linear rather than quadratic.
    """
    placed: list[Edit] = []
    line, line_start, cursor, column = 1, 0, 0, 0
    for edit in edits:
        offset = edit.span.start
        newlines = source.count(b"\n", cursor, offset)
        if newlines:
            line += newlines
            line_start = source.rfind(b"\n", cursor, offset) + 1
            cursor, column = line_start, 0
        column += len(source[cursor:offset].decode("utf-8", errors="replace"))
        cursor = offset
        placed.append(edit._replace(line=line, column=column + 1))
    return placed


def _without_conflicts(edits: list[Edit]) -> list[Edit]:
    """``edits`` in source order, minus every edit that overlaps another one.

    Two sweeps (furthest end before, nearest start after) instead of comparing all
    pairs, so a file with thousands of listens still plans in linear time.
    """
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end))
    shared = Counter(edit.span for edit in ordered)
    bad: set[int] = set()
    reach = -1
    for index, edit in enumerate(ordered):
        if edit.span.start < reach or shared[edit.span] > 1:
            bad.add(index)
        reach = max(reach, edit.span.end)
    floor = max((edit.span.end for edit in ordered), default=0) + 1
    for index in reversed(range(len(ordered))):
        if ordered[index].span.end > floor:
            bad.add(index)
        floor = min(floor, ordered[index].span.start)
    return [edit for index, edit in enumerate(ordered) if index not in bad]


def _checked(source: bytes, edits: Sequence[Edit]) -> list[Edit]:
    unique: dict[tuple[Span, str], Edit] = {}
    for edit in edits:
        if not 0 <= edit.span.start <= edit.span.end <= len(source):
            raise ValueError(f"edit span {edit.span} is outside the source")
        unique.setdefault((edit.span, edit.replacement), edit)
    ordered = sorted(unique.values(), key=lambda e: (e.span.start, e.span.end))
    reach, previous = 0, None
    for edit in ordered:
        # Against the furthest end so far, not just the neighbour: a wide edit can
        # swallow several later ones.
        if previous is not None and (edit.span.start < reach or edit.span == previous.span):
            raise ValueError(f"overlapping edits: {previous.description!r}, {edit.description!r}")
        reach, previous = max(reach, edit.span.end), edit
    return ordered


def apply_edits(source: bytes, edits: Sequence[Edit]) -> bytes:
    """Splice ``edits`` into ``source``; identical duplicates collapse, overlaps raise."""
    pieces: list[bytes] = []
    cursor = 0
    for edit in _checked(source, edits):
        pieces += [source[cursor : edit.span.start], edit.replacement.encode("utf-8")]
        cursor = edit.span.end
    pieces.append(source[cursor:])
    return b"".join(pieces)
