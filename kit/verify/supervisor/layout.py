"""Where each section, key and value sits in the raw text of a supervisord.conf.

configparser keeps no line numbers, so :func:`scan_layout` walks the text the way
configparser does and maps every section and key to its line and column.
"""

import configparser
from typing import NamedTuple

_COMMENT_PREFIXES = ("#", ";")


class Piece(NamedTuple):
    """One line's part of a value: its text and where that text starts."""

    section: str
    key: str
    line: int
    offset: int  # 0-based index of ``text`` in the raw line
    text: str
    continued: bool  # a continuation line, not the ``key = value`` line


class Layout(NamedTuple):
    sections: dict[str, int]  # section name -> line of its first header
    keys: dict[tuple[str, str], int]  # (section, key) -> line of its last setting
    pieces: list[Piece]


def _comment_start(line: str) -> int | None:
    """Where configparser (as supervisor sets it up) cuts a comment off ``line``.

    A port of ``RawConfigParser._read``'s loop, quirks included: it looks at the
    next ``#`` and the next ``;`` in rounds and stops at the first round in which
    one of them follows whitespace.
    """
    if line.strip().startswith(_COMMENT_PREFIXES):
        return 0
    found: int | None = None
    indexes = dict.fromkeys(_COMMENT_PREFIXES, -1)
    while found is None and indexes:
        following: dict[str, int] = {}
        for prefix, index in indexes.items():
            index = line.find(prefix, index + 1)
            if index == -1:
                continue
            following[prefix] = index
            if index == 0 or line[index - 1].isspace():
                found = index if found is None else min(found, index)
        indexes = following
    return found


def scan_layout(text: str) -> Layout:
    """Lines of sections, keys and value pieces, found the way configparser reads them."""
    sectcre = configparser.RawConfigParser.SECTCRE
    optcre = configparser.RawConfigParser.OPTCRE
    nonspace = configparser.RawConfigParser.NONSPACECRE
    layout = Layout({}, {}, [])
    section: str | None = None
    key = ""
    indent = 0
    # configparser reads through io.StringIO, which splits lines at "\n" only.
    for lineno, line in enumerate(text.split("\n"), start=1):
        cut = _comment_start(line)
        raw = line if cut is None else line[:cut]
        value = raw.strip()
        if not value:
            continue  # blank and comment lines neither end nor start a value
        lead = len(raw) - len(raw.lstrip())
        first = nonspace.search(line)
        level = first.start() if first else 0
        if section is not None and key and level > indent:
            layout.pieces.append(Piece(section, key, lineno, lead, value, True))
            continue
        indent = level
        header = sectcre.match(value)
        if header:
            section, key = header.group("header"), ""
            layout.sections.setdefault(section, lineno)
        elif section is None:
            break  # configparser stops here too (missing section header)
        else:
            option = optcre.match(value)
            if option:  # a line that is not an option keeps the previous key, as configparser does
                key = option.group("option").rstrip().lower()
                layout.keys[(section, key)] = lineno
                start = lead + option.start("value")
                text = option.group("value")
                layout.pieces.append(Piece(section, key, lineno, start, text, False))
    return layout
