"""Which script a program's command runs, and where it should be in the approot."""

import posixpath
from collections.abc import Iterator
from typing import NamedTuple

from kit.platform.facts import CURRENT

_NODES = frozenset({"node", "nodejs"})
_NODE_VALUE_OPTIONS = frozenset({"-r", "--require", "--loader", "--import", "--title"})
_NODE_NO_SCRIPT = frozenset({"-e", "--eval", "-p", "--print", "-i", "--interactive", "-v"})
_NODE_NO_SCRIPT |= {"--version", "-h", "--help"}


class Script(NamedTuple):
    path: str  # as written in the command
    by_node: bool  # node adds .js, .json, .node or /index.js when the name has none


def command_script(argv: list[str]) -> Script | None:
    """The file a command needs: node's script, or a relative program itself."""
    args = list(_skip_env(argv))
    if not args:
        return None
    program = args[0]
    if posixpath.basename(program) in _NODES:
        script = _node_script(args[1:])
        return Script(script, True) if script else None
    if "/" in program:
        return Script(program, False)
    return None  # a program found on PATH


def _skip_env(argv: list[str]) -> Iterator[str]:
    """``env A=1 node x.js`` runs ``node x.js``."""
    if argv and posixpath.basename(argv[0]) == "env":
        rest = argv[1:]
        while rest and ("=" in rest[0] or rest[0].startswith("-")):
            rest = rest[1:]
        yield from rest
    else:
        yield from argv


def _node_script(args: list[str]) -> str | None:
    it = iter(args)
    for arg in it:
        if arg == "--":
            return next(it, None)
        if arg in _NODE_NO_SCRIPT:
            return None
        if arg in _NODE_VALUE_OPTIONS:
            next(it, None)
            continue
        if not arg.startswith("-") or arg == "-":
            return None if arg == "-" else arg
    return None


def under_current(path: str) -> str | None:
    """``path`` relative to the approot if it lies in /home/dotcloud/current, else None."""
    norm = posixpath.normpath(path)
    if norm == CURRENT:
        return ""
    if norm.startswith(CURRENT + "/"):
        return norm[len(CURRENT) + 1 :]
    return None


def approot_path(script: str, directory: str | None) -> str | None:
    """Where ``script`` is, relative to the approot; None if it is elsewhere."""
    if script.startswith("/"):
        return under_current(script)
    base = under_current(directory) if directory else None
    base = base if base is not None else ""
    rel = posixpath.normpath(posixpath.join(base, script)) if base else posixpath.normpath(script)
    if rel == ".." or rel.startswith("../"):
        return None
    return "" if rel == "." else rel


def approot_file(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def guess_script(files: frozenset[str], approot: str) -> str:
    for name in ("server.js", "app.js", "index.js", "main.js"):
        if approot_file(approot, name) in files:
            return name
    return "server.js"
