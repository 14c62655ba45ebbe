"""The door through which a nodeSocket app's Gears are read from disk.

Both ``dotkit convert`` and ``dotkit repro`` read an app through here: the
Gears (folders with a ``.torque``), each Gear's files and the bytes of what the
conversion looks into, ready for :func:`kit.convert.app.convert_app`: the
scripts (``.js``, ``.mjs``, ``.cjs``, and files without a suffix that start with
a node ``#!`` line, such as Express's ``bin/www``), the JSON files (package.json,
a ``config.json`` a port is read from), and where the Gear has a
``node_modules`` folder, the names in it and the package.json of each
dependency the Gear's own package.json lists. Links are never followed into a
file, and nothing else under node_modules is opened.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import NamedTuple

from kit.appfs import SCRIPT_SUFFIXES, find_gears, read_bytes
from kit.platform.facts import TORQUE_FILE

MAX_READ_BYTES = 16 << 20  # a script past this is not read (the analysis skips it anyway)
MAX_DATA_BYTES = 1 << 20  # JSON worth reading for a port or a package
NODE_MODULES = "node_modules"
PACKAGE_JSON = "package.json"


class GearInput(NamedTuple):
    """One Gear as read from disk: its directory, ``.torque`` and code.

    Paths are relative to the Gear's folder."""

    dirname: str
    approot: str
    torque: bytes
    files: frozenset[str]
    scripts: tuple[tuple[str, bytes], ...] = ()
    data: tuple[tuple[str, bytes], ...] = ()  # JSON files
    installed: tuple[tuple[str, bytes], ...] = ()  # dependency -> its node_modules package.json
    node_modules: tuple[str, ...] | None = None  # the packages in node_modules, if it exists


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file, never through a link or from a FIFO; None past ``limit``."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    try:
        with open(path, "rb", opener=lambda p, _: os.open(p, flags)) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            return handle.read()
    except OSError:
        return None


def _is_node_script(path: Path) -> bool:
    head = _read_regular(path, MAX_READ_BYTES)
    first = head.split(b"\n", 1)[0] if head else b""
    return first.startswith(b"#!") and b"node" in first


def _packages(folder: Path) -> tuple[str, ...] | None:
    """The package names in ``folder`` (node_modules), scoped ones as ``@scope/name``."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            return None
        names = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if entry.name.startswith("@") and entry.is_dir(follow_symlinks=False):
                names += [
                    f"{entry.name}/{e.name}"
                    for e in sorted(os.scandir(entry.path), key=lambda e: e.name)
                ]
            else:
                names.append(entry.name)
        return tuple(names)
    except OSError:
        return None


def _dependency_names(package_json: bytes | None) -> list[str]:
    try:
        data = json.loads(package_json or b"{}")
    except (ValueError, RecursionError):
        return []
    deps = data.get("dependencies") if isinstance(data, dict) else None
    return [name for name in deps if isinstance(name, str)] if isinstance(deps, dict) else []


def _installed(base: Path, package_json: bytes | None) -> tuple[tuple[str, bytes], ...]:
    out = []
    for name in _dependency_names(package_json):
        if ".." in name.split("/") or name.startswith("/"):
            continue
        data = _read_regular(base / NODE_MODULES / name / PACKAGE_JSON, MAX_DATA_BYTES)
        if data is not None:
            out.append((name, data))
    return tuple(out)


def _gear_files(
    base: Path, own: frozenset[str]
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    scripts, data = [], []
    for rel in sorted(own):
        name = rel.rsplit("/", 1)[-1]
        if rel.endswith(SCRIPT_SUFFIXES) or ("." not in name and _is_node_script(base / rel)):
            source = _read_regular(base / rel, MAX_READ_BYTES)
            if source is not None:
                scripts.append((rel, source))
        elif rel.endswith(".json"):
            content = _read_regular(base / rel, MAX_DATA_BYTES)
            if content is not None:
                data.append((rel, content))
    return scripts, data


def gear_inputs(src: Path, files: list[str]) -> list[GearInput]:
    """One :class:`GearInput` per Gear of the app at ``src`` (``files``: its listing)."""
    by_top: dict[str, list[str]] = {}
    for f in files:
        top, sep, rest = f.partition("/")
        if sep:
            by_top.setdefault(top, []).append(rest)
    inputs: list[GearInput] = []
    for gear in find_gears(src, files):
        prefix = "" if gear.approot == "." else gear.approot + "/"
        own = frozenset(files if gear.approot == "." else by_top.get(gear.approot, []))
        base = src if gear.approot == "." else src / gear.approot
        scripts, data = _gear_files(base, own)
        package_json = dict(data).get(PACKAGE_JSON)
        inputs.append(
            GearInput(
                dirname=gear.dirname,
                approot=gear.approot,
                torque=read_bytes(base / TORQUE_FILE, f"{prefix}{TORQUE_FILE}", within=src),
                files=own,
                scripts=tuple(scripts),
                data=tuple(data),
                installed=_installed(base, package_json),
                node_modules=_packages(base / NODE_MODULES),
            )
        )
    return inputs
