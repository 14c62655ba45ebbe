"""The migration report's data: one row per source key, and code edits."""

from typing import Literal, NamedTuple

Action = Literal["converted", "changed", "dropped", "manual"]
LOSSY_ACTIONS: frozenset[str] = frozenset({"dropped", "manual"})

# Sections of the nodeSocket porting guide each row comes from.
GUIDE_TERMS = "Translating Terms"
GUIDE_CONFIG = "Move Configuration From .torque to dotcloud.yml and supervisord.conf Files"
GUIDE_PORTS = "Update Your Code to Listen on Port 8080"


class ReportRow(NamedTuple):
    """What became of one source key (or one piece of code) in the conversion."""

    gear: str
    service: str
    source: str
    action: Action
    old: str
    new: str
    source_path: str
    source_line: int | None
    target_path: str | None
    target_line: int | None
    reason: str
    guide: str


class CodeEdit(NamedTuple):
    """A change ``--fix`` makes to one of the user's files, spliced at syntax nodes."""

    path: str
    before: bytes
    after: bytes
    descriptions: tuple[str, ...]
