"""In-place edits at the syntax node, leaving every other byte alone.

dotCloud routes HTTP to port 8080 and hands TCP services a port through an
environment variable. The port rule (:mod:`kit.platform.ports`) says which bytes
decide a port and what they should read; this module plans those edits (their
positions, their words, and no two that overlap) and splices them in. Rewriting
only the literal that decides the port keeps comments, formatting and line endings
exactly as the user wrote them, and makes a second run a no-op.
"""

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from kit.js.model import Span


class Edit(NamedTuple):
    span: Span
    replacement: str
    line: int
    column: int
    description: str


class Wanted(NamedTuple):
    """An edit a rule asks for: splice ``replacement`` at ``span``; ``expr`` and
    ``text`` are the expression it sits in and how the code wrote it, for words."""

    span: Span
    replacement: str
    expr: Span | None = None
    text: str = ""


def describe(source: bytes, wanted: Wanted) -> str:
    """``listen(3535) -> listen(8080)``, or ``3000 -> 8080 (the port of listen(port))``."""
    span, replacement = wanted.span, wanted.replacement
    old = source[span.start : span.end].decode("utf-8", errors="replace")
    expr = wanted.expr or span
    written = source[expr.start : expr.end].decode("utf-8", errors="replace")
    if written == wanted.text and expr.start <= span.start and span.end <= expr.end:
        # The edit sits in the argument itself, so show the call as it will read.
        new = source[expr.start : span.start] + replacement.encode() + source[span.end : expr.end]
        return f"listen({written}) -> listen({new.decode('utf-8', errors='replace')})"
    if span.start == span.end:
        return f"{written} -> {written}{replacement} (the port of listen({wanted.text}))"
    return f"{old} -> {replacement} (the port of listen({wanted.text}))"


def plan_edits(source: bytes, wanted: Sequence[Wanted]) -> list[Edit]:
    """Edits for ``wanted``, positioned; identical wishes count once, and wishes that
    overlap another are all dropped.

    Two listens sharing a declaration (``var PORT = 3000`` used by an HTTP and a TCP
    server) agree on one edit or get none: picking a winner would let the loser's
    wish surface on the next run, breaking idempotence, and the honest fix there is
    a human splitting the variable.
    """
    unique: dict[tuple[Span, str], Edit] = {}
    for wish in wanted:
        if not 0 <= wish.span.start <= wish.span.end <= len(source):
            continue
        key = (wish.span, wish.replacement)
        if key not in unique:
            unique[key] = Edit(wish.span, wish.replacement, 0, 0, describe(source, wish))
    return _positioned(source, _without_conflicts(list(unique.values())))


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
