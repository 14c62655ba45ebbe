"""Does a Node.js version satisfy an ``engines.node`` range? npm's range grammar, read in Python.

Pure. Covers what package.json files of every era write: ``||`` alternatives,
comparators (``>=0.8``, ``< 0.9.0``, with or without a space after the
operator), x-ranges (``0.8.x``, ``0.8``, ``*``, ``""``), tilde (``~0.8.1``, and
the old ``~>``), caret (``^0.10.0``) and hyphen ranges (``0.8 - 0.10``).
Pre-release tags are ignored on both sides: the versions asked about are
releases. A range that cannot be read gives ``None``, never an exception.
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]

_PART = r"(?:0|[1-9]\d*|[xX*])"
_PARTIAL = re.compile(
    rf"^v?\s*(?P<major>{_PART})(?:\.(?P<minor>{_PART})(?:\.(?P<patch>{_PART}))?)?"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<rest>.*)$")
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")

# One comparator after desugaring: (operator, version), operator one of < <= > >= =.
Bound = tuple[str, Version]


def parse_version(text: str) -> Version | None:
    """``"v0.8.28"`` or ``"0.8.28"`` as a tuple; None for anything else."""
    parts = _partial(text.strip())
    if parts is None or None in parts:
        return None
    major, minor, patch = parts
    assert major is not None and minor is not None and patch is not None
    return (major, minor, patch)


def satisfies(version: Version, range_text: str) -> bool | None:
    """Whether ``version`` is in ``range_text``; None when the range cannot be read."""
    text = range_text.strip()
    # npm allows a space between an operator and its version (">= 0.8.0").
    text = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text)
    any_readable = False
    for alternative in text.split("||"):
        bounds = _alternative(alternative)
        if bounds is None:
            continue
        any_readable = True
        if all(_holds(version, op, bound) for op, bound in bounds):
            return True
    return False if any_readable else None


def _partial(text: str) -> tuple[int | None, int | None, int | None] | None:
    match = _PARTIAL.match(text)
    if match is None:
        return None

    def number(name: str) -> int | None:
        value = match.group(name)
        return None if value is None or value in "xX*" else int(value)

    major, minor, patch = number("major"), number("minor"), number("patch")
    if major is None:
        return (None, None, None)
    if minor is None:
        return (major, None, None)
    return (major, minor, patch)


def _alternative(text: str) -> list[Bound] | None:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low, high = _partial(hyphen.group(1)), _partial(hyphen.group(2))
        if low is None or high is None:
            return None
        return _at_least(low) + _at_most(high)
    bounds: list[Bound] = []
    for token in text.split():
        desugared = _comparator(token)
        if desugared is None:
            return None
        bounds.extend(desugared)
    return bounds


def _comparator(token: str) -> list[Bound] | None:
    if token in ("*", "x", "X", ""):
        return []
    match = _COMPARATOR.match(token)
    assert match is not None  # the pattern accepts any string
    op, parts = match.group("op") or "", _partial(match.group("rest"))
    if parts is None:
        return None
    major, minor, patch = parts
    if op in ("", "="):
        return _at_least(parts) + _below_x(parts)
    if op in ("~", "~>"):
        if major is None:
            return []
        upper = (major + 1, 0, 0) if minor is None else (major, minor + 1, 0)
        return [*_at_least(parts), ("<", upper)]
    if op == "^":
        return _caret(parts)
    if major is None:
        return [("<", (0, 0, 0))] if op in ("<", ">") else []
    if op == ">=":
        return _at_least(parts)
    if op == "<=":
        return _at_most(parts)
    if op == "<":
        return [("<", (major, minor or 0, patch or 0))]
    # op == ">": above every version the partial names
    if minor is None:
        return [(">=", (major + 1, 0, 0))]
    if patch is None:
        return [(">=", (major, minor + 1, 0))]
    return [(">", (major, minor, patch))]


def _at_least(parts: tuple[int | None, int | None, int | None]) -> list[Bound]:
    major, minor, patch = parts
    return [] if major is None else [(">=", (major, minor or 0, patch or 0))]


def _at_most(parts: tuple[int | None, int | None, int | None]) -> list[Bound]:
    major, minor, patch = parts
    if major is None:
        return []
    if patch is not None and minor is not None:
        return [("<=", (major, minor, patch))]
    return _below_x(parts)


def _below_x(parts: tuple[int | None, int | None, int | None]) -> list[Bound]:
    """The exclusive upper end of an x-range (``0.8`` -> ``<0.9.0``)."""
    major, minor, patch = parts
    if major is None:
        return []
    if minor is None:
        return [("<", (major + 1, 0, 0))]
    if patch is None:
        return [("<", (major, minor + 1, 0))]
    return [("<=", (major, minor, patch))]


def _caret(parts: tuple[int | None, int | None, int | None]) -> list[Bound]:
    major, minor, patch = parts
    if major is None:
        return []
    low = _at_least(parts)
    if major > 0 or minor is None:
        return [*low, ("<", (major + 1, 0, 0))]
    if minor > 0 or patch is None:
        return [*low, ("<", (0, minor + 1, 0))]
    return [*low, ("<", (0, 0, patch + 1))]


def _holds(version: Version, op: str, bound: Version) -> bool:
    return {
        "<": version < bound,
        "<=": version <= bound,
        ">": version > bound,
        ">=": version >= bound,
        "=": version == bound,
    }[op]
