"""What a package.json says about installing and running the app.

Pure: bytes in, values out. The converter and the verifier read package.json
files (the app's, and where ``node_modules`` is present the installed
dependencies') and judge with these:

- ``engines.node``: which of the platform's Node.js branches satisfy it
  (:func:`branches_satisfying`);
- dependencies that will not install the same way twice (:func:`unpinned`):
  an empty range, ``*``, ``latest``, a git URL, a tarball URL;
- the entry script, from ``scripts.start`` (``node server.js``) or ``main``.
"""

import re
import shlex
from collections.abc import Iterable
from typing import NamedTuple

from kit.js.semver import satisfies
from kit.jsonpos import JNode, JsonProblems, parse

# How far into a branch the range is tried: 0.8 went to 0.8.28, 0.6 to 0.6.21.
_PATCHES = range(100)
_GIT = re.compile(r"^(?:git(?:\+[a-z]+)?://|git@|github:|gitlab:|bitbucket:|gist:)")
_SHORTHAND = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:#.*)?$")  # user/repo
_URL = re.compile(r"^https?://")
_FILE = re.compile(r"^(?:file:|\.{0,2}/|~/)")
_DEPENDENCY_FIELDS = ("dependencies",)
_NODE_COMMANDS = frozenset({"node", "nodejs", "supervisor", "nodemon", "forever"})


class Dependency(NamedTuple):
    name: str
    spec: str
    line: int
    column: int


class Package(NamedTuple):
    name: str | None
    version: str | None
    engines_node: str | None
    engines_line: int | None
    dependencies: tuple[Dependency, ...]
    main: str | None
    start: str | None  # scripts.start


def _member(node: JNode, key: str) -> tuple[JNode, int] | None:
    for name, pos, child in node.members if node.kind == "object" else []:
        if name == key:
            return child, pos.line
    return None


def _string(node: JNode, key: str) -> str | None:
    found = _member(node, key)
    if found is None or found[0].kind != "string":
        return None
    return str(found[0].value)


def read_package(data: bytes) -> Package | None:
    """The parts of a package.json the platform's checks need; None if unreadable."""
    try:
        root = parse(data.decode("utf-8").removeprefix("\ufeff")).root
    except (UnicodeDecodeError, JsonProblems):
        return None
    if root.kind != "object":
        return None
    engines = _member(root, "engines")
    node_range = _string(engines[0], "node") if engines is not None else None
    node_line = None
    if engines is not None and node_range is not None:
        found = _member(engines[0], "node")
        node_line = found[0].pos.line if found is not None else engines[1]
    scripts = _member(root, "scripts")
    deps: list[Dependency] = []
    for field in _DEPENDENCY_FIELDS:
        found = _member(root, field)
        for name, pos, child in found[0].members if found and found[0].kind == "object" else []:
            if child.kind == "string":
                deps.append(Dependency(name, str(child.value), pos.line, pos.column))
    return Package(
        name=_string(root, "name"),
        version=_string(root, "version"),
        engines_node=node_range,
        engines_line=node_line,
        dependencies=tuple(deps),
        main=_string(root, "main"),
        start=_string(scripts[0], "start") if scripts is not None else None,
    )


def package_start(data: bytes) -> tuple[str | None, str | None]:
    """``scripts.start`` and ``main`` of a package.json, quickly (no positions)."""
    import json

    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(value, dict):
        return None, None
    scripts = value.get("scripts")
    start = scripts.get("start") if isinstance(scripts, dict) else None
    main = value.get("main")
    return (start if isinstance(start, str) else None, main if isinstance(main, str) else None)


def branch_version(branch: str) -> tuple[int, int] | None:
    """``v0.8.x`` -> (0, 8)."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.x", branch)
    return (int(match.group(1)), int(match.group(2))) if match else None


def branch_satisfies(branch: str, spec: str) -> bool | None:
    """Whether some release of ``branch`` (``v0.8.x``) is in the range ``spec``;
    None when the range is not one npm understands."""
    numbers = branch_version(branch)
    if numbers is None:
        return None
    answers = {satisfies((*numbers, patch), spec) for patch in _PATCHES}
    if None in answers:
        return None
    return True in answers


def branches_satisfying(branches: Iterable[str], spec: str) -> list[str] | None:
    """The branches ``engines.node`` allows, in the order given; None if unreadable."""
    out = []
    for branch in branches:
        answer = branch_satisfies(branch, spec)
        if answer is None:
            return None
        if answer:
            out.append(branch)
    return out


def unpinned(spec: str) -> str | None:
    """Why a dependency's version range installs something different over time."""
    text = spec.strip()
    if text in {"", "*", "x", "X"}:
        return "any version (the newest on the registry at each build)"
    if text == "latest" or text == "next":
        return f"the {text!r} tag (whatever it points to at each build)"
    if _GIT.match(text) or (_SHORTHAND.match(text) and not _FILE.match(text)):
        return "a git repository (whatever its branch holds at each build)"
    if _URL.match(text):
        return "a URL (whatever it serves at each build)"
    if re.fullmatch(r">=?\s*v?[\d.x*]+", text):
        return "a lower bound only (every newer major version too)"
    return None


def entry_of_start(command: str) -> str | None:
    """``node server.js --port 80`` -> ``server.js``; None if node runs nothing named."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for index, word in enumerate(words):
        if word.rsplit("/", 1)[-1] in _NODE_COMMANDS:
            rest = [w for w in words[index + 1 :] if not w.startswith("-")]
            return rest[0] if rest else None
    return None
