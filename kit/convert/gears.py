"""The door through which a nodeSocket app's Gears are read from disk.

Both ``dotkit convert`` and ``dotkit repro`` read an app through here: the
Gears (folders with a ``.torque``), each Gear's files and the bytes of its
scripts, ready for :func:`kit.convert.app.convert_app`. Links are never
followed into a script.
"""

from __future__ import annotations

from pathlib import Path

from kit.appfs import SCRIPT_SUFFIXES, find_gears, read_bytes
from kit.convert.app import GearInput
from kit.platform.facts import TORQUE_FILE


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
        scripts = tuple(
            (rel, read_bytes(base / rel, f"{prefix}{rel}", within=src))
            for rel in sorted(own)
            if rel.endswith(SCRIPT_SUFFIXES)
            and (base / rel).is_file()
            and not (base / rel).is_symlink()
        )
        inputs.append(
            GearInput(
                dirname=gear.dirname,
                approot=gear.approot,
                torque=read_bytes(base / TORQUE_FILE, f"{prefix}{TORQUE_FILE}", within=src),
                files=own,
                scripts=scripts,
            )
        )
    return inputs
