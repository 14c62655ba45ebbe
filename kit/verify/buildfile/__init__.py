"""Checking ``dotcloud.yml``: syntax, shape (a JSON Schema shipped in the package), names.

A fixed pipeline over in-memory data: read the YAML with positions, validate it
against the schema, rewrite every schema error in plain words at the key it
concerns, then the checks a schema cannot express (approot on disk). Every
problem is reported in one run. :func:`check_build_file` also returns the
services it could read, for the checks that follow.
"""

import posixpath
from collections.abc import Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from kit.findings import Finding
from kit.platform.facts import BUILD_FILE
from kit.platform.model import Service, service_from_body
from kit.verify.buildfile.collect import Collector
from kit.verify.buildfile.rules import (
    APPROOT_MISSING,
    APPROOT_OUTSIDE,
    BUILD_FILE_MISSING,
    DUPLICATE_KEY,
    RULES,
    SCHEMA,
    YAML_ALIASES,
    YAML_SYNTAX,
    YAML_TAB,
)
from kit.verify.buildfile.schema import schema, schema_findings
from kit.verify.disk import Disk

__all__ = ["RULES", "check_build_file", "schema"]

_BY_KIND = {
    "syntax": YAML_SYNTAX,
    "encoding": YAML_SYNTAX,
    "tab": YAML_TAB,
    "aliases": YAML_ALIASES,
    "duplicate": DUPLICATE_KEY,
}


def _approot(name: str, body: dict[str, Any], disk: Disk, out: Collector) -> tuple[str, bool]:
    raw = body.get("approot", ".")
    if not isinstance(raw, str) or not raw:
        return ".", False
    normal = posixpath.normpath(raw.replace("\\", "/"))
    if posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        out.at(
            APPROOT_OUTSIDE,
            [name, "approot"],
            f"approot '{raw}' points outside the app",
            "give a folder inside the app, relative to dotcloud.yml",
            value=True,
        )
        return normal, False
    if disk.is_dir(normal) and not disk.inside(normal):
        out.at(
            APPROOT_OUTSIDE,
            [name, "approot"],
            f"approot '{raw}' is a link to a folder outside the app",
            "move the code into the app",
            value=True,
        )
        return normal, False
    if not disk.is_dir(normal):
        siblings = disk.subfolders(posixpath.dirname(normal) or ".")
        close = get_close_matches(posixpath.basename(normal), siblings, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        out.at(
            APPROOT_MISSING,
            [name, "approot"],
            f"approot '{raw}' does not exist",
            f"{hint}create the folder or correct the path (it is relative to dotcloud.yml)",
            value=True,
        )
        return normal, False
    return normal, True


def _services(data: Any, disk: Disk, out: Collector) -> tuple[Service, ...]:
    if not isinstance(data, dict):
        return ()
    marks = out.doc.marks if out.doc else {}
    services = []
    for name, body in data.items():
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            continue
        approot, ok = _approot(str(name), body, disk, out)
        line = marks.get((str(name),), (None, None))[0]
        services.append(
            service_from_body(str(name), body, approot=approot, approot_ok=ok, line=line)
        )
    return tuple(services)


def check_build_file(
    root: Path, files: Sequence[str], *, disk: Disk | None = None
) -> tuple[tuple[Service, ...], list[Finding]]:
    """Check ``dotcloud.yml``; the services that could be read and every finding.

    ``disk`` is where the questions about files beyond ``files`` are asked (and
    remembered); by default one that forgets.
    """
    disk = disk if disk is not None else Disk(root)
    if BUILD_FILE not in files and not disk.is_file(BUILD_FILE):
        other = [f for f in files if f.lower() in ("dotcloud.yaml", "dotcloud.yml")]
        fix = (
            f"rename {other[0]} to {BUILD_FILE}"
            if other
            else "create dotcloud.yml at the root of the app, or run dotkit convert"
        )
        return (), [
            BUILD_FILE_MISSING.finding(
                BUILD_FILE, None, None, "there is no dotcloud.yml at the app's root", fix
            )
        ]
    try:
        raw = disk.read(BUILD_FILE)
    except OSError as exc:
        return (), [
            YAML_SYNTAX.finding(
                BUILD_FILE,
                None,
                None,
                f"dotcloud.yml cannot be read: {exc.strerror}",
                "check the file's permissions",
            )
        ]
    from kit.verify.yamlpos import load  # the YAML library, only when the file is read

    doc, problems = load(raw)
    out = Collector(doc)
    for problem in problems:
        rule = _BY_KIND[problem.kind]
        out.items.append(
            rule.finding(BUILD_FILE, problem.line, problem.column, problem.message, problem.fix)
        )
    if doc is None:
        return (), out.items
    if doc.data is None:
        out.at(
            SCHEMA,
            [],
            "the build file is empty",
            "describe at least one service, for example:\nwww:\n  type: nodejs",
        )
        return (), out.items
    schema_findings(doc.data, out)
    return _services(doc.data, disk, out), out.items
