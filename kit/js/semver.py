"""npm's version ranges, enough to ask "does Node.js 0.8 satisfy ``engines.node``?".

Covers what package.json files write: ``*``, ``x``, ``""``; comparators
(``>=0.8.0``, ``<0.9``, ``=0.8.14``, ``v0.8.x``); partial versions (``0.8``,
``0.8.x``); tilde and caret ranges; hyphen ranges (``0.6 - 0.8``); ``||``
alternatives and space-separated intersections. Prerelease tags are ignored (no
platform release has one). A range npm would not understand gives None.
"""

import re
from typing import NamedTuple

Version = tuple[int, int, int]

_PARTIAL = (
    r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)
_COMPARATOR = re.compile(rf"(<=|>=|<|>|=|~>|~|\^)?\s*{_PARTIAL}")
_HYPHEN = re.compile(rf"^\s*({_PARTIAL})\s+-\s+({_PARTIAL})\s*$")


class _Bound(NamedTuple):
    op: str  # ">=", ">", "<", "<="
    version: Version


def parse_version(text: str) -> Version | None:
    match = re.fullmatch(_PARTIAL, text.strip())
    if match is None or any(p is None or not p.isdigit() for p in match.groups()):
        return None
    major, minor, patch = (int(p) for p in match.groups())
    return major, minor, patch


def _parts(groups: tuple[str | None, ...]) -> list[int]:
    out: list[int] = []
    for part in groups:
        if part is None or not part.isdigit():
            break
        out.append(int(part))
    return out


def _upper(parts: list[int]) -> Version:
    """The first version past a partial one: 0.8 -> 0.9.0, 1 -> 2.0.0."""
    if len(parts) == 1:
        return parts[0] + 1, 0, 0
    return parts[0], parts[1] + 1, 0


def _pad(parts: list[int]) -> Version:
    full = [*parts, 0, 0, 0][:3]
    return full[0], full[1], full[2]


def _tilde(parts: list[int]) -> list[_Bound]:
    upper = _upper(parts[:2]) if len(parts) >= 2 else _upper(parts)
    return [_Bound(">=", _pad(parts)), _Bound("<", upper)]


def _caret(parts: list[int]) -> list[_Bound]:
    full = _pad(parts)
    if full[0] > 0 or len(parts) == 1:
        upper: Version = (full[0] + 1, 0, 0)
    elif full[1] > 0 or len(parts) == 2:
        upper = (0, full[1] + 1, 0)
    else:
        upper = (0, 0, full[2] + 1)
    return [_Bound(">=", full), _Bound("<", upper)]


def _open(op: str, parts: list[int]) -> list[_Bound]:
    """``>=0.8``, ``<0.9``, ``>0.8`` (past all of 0.8), ``<=0.8`` (up to all of it)."""
    exact = len(parts) == 3
    if op == ">=":
        return [_Bound(">=", _pad(parts))]
    if op == "<":
        return [_Bound("<", _pad(parts))]
    if op == ">":
        return [_Bound(">", _pad(parts))] if exact else [_Bound(">=", _upper(parts))]
    return [_Bound("<=", _pad(parts))] if exact else [_Bound("<", _upper(parts))]


def _comparator(op: str, parts: list[int]) -> list[_Bound]:
    if not parts:  # `*`, `x`, `>=x`
        return [] if op in {"", "=", ">=", "<="} else [_Bound("<", (0, 0, 0))]
    if op in {"", "="}:
        exact = len(parts) == 3
        top = _Bound("<=", _pad(parts)) if exact else _Bound("<", _upper(parts))
        return [_Bound(">=", _pad(parts)), top]
    if op in {"~", "~>"}:
        return _tilde(parts)
    if op == "^":
        return _caret(parts)
    return _open(op, parts)


def _hyphen(low: list[int], high: list[int]) -> list[_Bound]:
    bounds = [_Bound(">=", _pad(low))] if low else []
    if high:
        bounds += _open("<=", high)
    return bounds


def _conjunction(text: str) -> list[_Bound] | None:
    hyphen = _HYPHEN.match(text)
    if hyphen is not None:
        groups = hyphen.groups()
        return _hyphen(_parts(groups[1:4]), _parts(groups[5:8]))
    bounds: list[_Bound] = []
    text = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text.strip())
    for token in text.split():
        match = _COMPARATOR.fullmatch(token)
        if match is None:
            return None
        bounds += _comparator(match.group(1) or "", _parts(match.groups()[1:]))
    return bounds


def _holds(bound: _Bound, version: Version) -> bool:
    if bound.op == ">=":
        return version >= bound.version
    if bound.op == ">":
        return version > bound.version
    if bound.op == "<":
        return version < bound.version
    return version <= bound.version


def satisfies(version: Version, spec: str) -> bool | None:
    """Whether ``version`` is in the npm range ``spec``; None if ``spec`` is not one."""
    for alternative in spec.split("||"):
        bounds = _conjunction(alternative)
        if bounds is None:
            return None
        if all(_holds(bound, version) for bound in bounds):
            return True
    return False
