"""package.json: present, readable by npm, and saying what the platform needs to hear.

The platform runs ``npm install`` in the approot during the build, and only when
it finds a package.json there. npm reads it as strict JSON. What it asks for
decides what the build installs: ``engines.node`` names the Node.js the app (and
each dependency) needs, which must be one the service runs, and a dependency
without a real version range (``*``, ``latest``, a git URL) installs whatever is
newest at each build. Where the app's ``node_modules`` is present, the installed
direct dependencies' own package.json files are read for their ``engines.node``
(one file each, nothing else under node_modules).
"""

import json
from typing import Any, NamedTuple

from kit.findings import Finding
from kit.js.packages import read_package
from kit.platform.judge import (
    ENGINES_RULE,
    SEVERITIES,
    UNPINNED_RULE,
    judge_dependencies,
    judge_engines,
)
from kit.platform.model import Service
from kit.verify.model import Rule, Target, disk_of

CATEGORY = "project"
PACKAGE_JSON = "package.json"
NODE_MODULES = "node_modules"
# A package.json lists a few dozen dependencies; past this, the rest are not read.
MAX_INSTALLED_READ = 500

PACKAGE_MISSING = Rule(
    "package-json-missing",
    "warning",
    CATEGORY,
    "A nodejs service has no package.json.",
    "During a push the platform runs `npm install` in the approot, but only when it finds a "
    "package.json there. Without one no module is installed, so every `require()` of a module "
    "that is not committed with the code fails when the app starts. List the modules the app "
    "needs in package.json and let the platform install them.",
    bad="Gear1/server.js:\nvar express = require('express');",
    good='Gear1/package.json:\n{\n  "name": "gear1",\n  "dependencies": {"express": "3.x"}\n}',
)
PACKAGE_SYNTAX = Rule(
    "package-json-syntax",
    "error",
    CATEGORY,
    "package.json is not valid JSON, or its dependencies are malformed.",
    "npm reads package.json as strict JSON: no comments, no trailing commas, double quotes "
    "only. If it cannot read the file, or `dependencies` is not an object that maps module "
    "names to version strings, `npm install` fails and the push's build fails with it.",
    bad='Gear1/package.json:\n{\n  "dependencies": {"express": "3.x",}\n}',
    good='Gear1/package.json:\n{\n  "dependencies": {"express": "3.x"}\n}',
)
NODE_VERSION_ENGINES = Rule(
    ENGINES_RULE,
    SEVERITIES[ENGINES_RULE],
    CATEGORY,
    "package.json's engines.node (the app's, or an installed dependency's) excludes the "
    "service's Node.js.",
    "engines.node says which Node.js a package needs. The nodejs service runs the "
    "version config: node_version names (v0.4.x, v0.6.x or v0.8.x; v0.4.x when unset), and "
    "the npm of those versions installs a package whatever its engines say, so the mismatch "
    "shows only when the code runs. The app's own engines.node is checked, and, where "
    "node_modules is present, each installed direct dependency's: a dependency that needs a "
    "newer Node.js must be pinned to an older version that does not. `dotkit convert` picks "
    "node_version from engines.node when one of the platform's versions satisfies it.",
    bad='www/package.json:\n{\n  "name": "www",\n  "engines": {"node": ">=4"}\n}',
    good='www/package.json:\n{\n  "name": "www",\n  "engines": {"node": "0.8.x"}\n}',
)
DEPENDENCY_UNPINNED = Rule(
    UNPINNED_RULE,
    SEVERITIES[UNPINNED_RULE],
    CATEGORY,
    "A dependency will not install the same way twice.",
    "Every push builds the service, and the build runs npm install. A dependency listed as "
    '"*", "", "latest", a lower bound alone (">= 1.0"), a git repository or a URL installs '
    "whatever is newest when the build runs: a push of unchanged code can pick up a version "
    "that needs a newer Node.js than the platform's, or that breaks the app. The npm of Node.js "
    "0.8 has no lock file to hold versions still. Pin each dependency to the range the app was "
    "tested with.",
    bad='www/package.json:\n{\n  "name": "www",\n  "dependencies": {"express": "*"}\n}',
    good='www/package.json:\n{\n  "name": "www",\n  "dependencies": {"express": "3.4.x"}\n}',
)
RULES: tuple[Rule, ...] = (
    PACKAGE_MISSING,
    PACKAGE_SYNTAX,
    NODE_VERSION_ENGINES,
    DEPENDENCY_UNPINNED,
)


def _rel(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def check_package(app: Target, files: frozenset[str], service: Service) -> list[Finding]:
    """Findings about the package.json of ``service``'s approot."""
    path = _rel(service.approot, PACKAGE_JSON)
    where = service.approot if service.approot not in ("", ".") else "the app root"
    fix = (
        f"run `npm init -y` in {where}, then `npm install --save <module>` for each module "
        "the code requires"
    )
    if path not in files:
        if disk_of(app).is_file(path):
            message = (
                f"{path} is ignored by .gitignore or .dotcloudignore, so push leaves it out and "
                "runs no npm install"
            )
            fix = f"stop ignoring {path} in .gitignore or .dotcloudignore"
            return [PACKAGE_MISSING.finding(path, None, None, message, fix)]
        message = (
            f"service {service.name} has no {path}, so push runs no npm install and every "
            "module the code requires must be committed with it"
        )
        return [PACKAGE_MISSING.finding(path, None, None, message, fix)]
    try:
        data = disk_of(app).read(path)
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc}"
        return [PACKAGE_SYNTAX.finding(path, None, None, message, "make it a readable file")]
    problems = package_json_problems(path, data)
    if problems:
        return problems
    return _requirements(app, service, path, data)


def _requirements(app: Target, service: Service, path: str, data: bytes) -> list[Finding]:
    """What the package asks of the build: Node.js versions and dependency ranges."""
    package = read_package(data)
    version = service.node_version
    if package is None or version is None:
        return []
    findings = judge_dependencies(path, package.dependencies)
    own = judge_engines(path, package, version)
    findings += [own] if own is not None else []
    installed = _rel(service.approot, NODE_MODULES)
    disk = disk_of(app)
    if not package.dependencies or not disk.is_dir(installed):
        return findings
    for dependency in package.dependencies[:MAX_INSTALLED_READ]:
        manifest = f"{installed}/{dependency.name}/{PACKAGE_JSON}"
        if "/../" in f"/{dependency.name}/" or not disk.is_file(manifest):
            continue
        try:
            theirs = read_package(disk.read(manifest))
        except OSError:
            continue
        found = judge_engines(path, theirs, version, dependency.name) if theirs else None
        if found is not None:
            findings.append(found._replace(line=dependency.line, column=dependency.column))
    return findings


def package_json_problems(path: str, data: bytes) -> list[Finding]:
    """Problems npm would have reading ``data`` as package.json."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"is not UTF-8 text (byte 0x{data[exc.start]:02x}), so npm cannot read it"
        return [PACKAGE_SYNTAX.finding(path, line, column, message, "save it as UTF-8")]
    text = text.removeprefix("\ufeff")  # npm strips a byte-order mark
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [_json_error(path, text, exc)]
    except RecursionError:
        message = "nests too deeply to be read"
        return [PACKAGE_SYNTAX.finding(path, None, None, message, "flatten the JSON")]
    return _shape_problems(path, text, value)


_JSON_PLAIN: tuple[tuple[str, str], ...] = (
    ("Expecting value", "a value is missing here (JSON has no comments or trailing commas)"),
    (
        "Expecting property name enclosed in double quotes",
        "a key in double quotes is expected here (JSON has no trailing commas, comments or "
        "single quotes)",
    ),
    ("Expecting ',' delimiter", "a comma is missing before this point"),
    ("Expecting ':' delimiter", "a colon is missing after the key"),
    ("Unterminated string", "a string starts here and is never closed"),
    ("Invalid control character", "a string holds a raw line break or tab; write \\n or \\t"),
    ("Invalid \\uXXXX escape", "a \\u escape needs four hexadecimal digits"),
    ("Invalid \\escape", "a backslash starts an escape JSON does not have; write \\\\ for one"),
    ("Extra data", "more text follows the end of the JSON object"),
)


def _json_error(path: str, text: str, exc: json.JSONDecodeError) -> Finding:
    if not text.strip():
        message = "is empty, and npm needs at least {}"
        return PACKAGE_SYNTAX.finding(path, None, None, message, "write {} or run `npm init -y`")
    plain = next((words for start, words in _JSON_PLAIN if exc.msg.startswith(start)), exc.msg)
    return PACKAGE_SYNTAX.finding(
        path,
        exc.lineno,
        exc.colno,
        f"is not valid JSON: {plain}",
        "correct the JSON at this point; npm installs nothing until the file parses",
    )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return "a number"


class _Where(NamedTuple):
    line: int | None
    column: int | None


def _shape_problems(path: str, text: str, value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        start = len(text) - len(text.lstrip())
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        message = f"holds {_kind(value)}, but npm needs a JSON object ({{...}})"
        fix = 'wrap the settings in an object: {"name": "app", "dependencies": {}}'
        return [PACKAGE_SYNTAX.finding(path, line, column, message, fix)]
    deps = value.get("dependencies")
    if deps is None and "dependencies" not in value:
        return []
    positions = _dependency_positions(text)
    if not isinstance(deps, dict):
        where = positions.get("", _Where(None, None))
        message = f"dependencies is {_kind(deps)}, but must map module names to versions"
        fix = 'write it as an object: "dependencies": {"express": "3.x"}'
        return [PACKAGE_SYNTAX.finding(path, *where, message, fix)]
    findings = []
    for name, version in deps.items():
        if not isinstance(version, str):
            where = positions.get(name, _Where(None, None))
            message = f"the version of {name!r} in dependencies is {_kind(version)}, not a string"
            fix = f'write the version range as a string, e.g. "{name}": "1.x"'
            findings.append(PACKAGE_SYNTAX.finding(path, *where, message, fix))
    return findings


def _dependency_positions(text: str) -> dict[str, _Where]:
    """Positions in ``dependencies``: "" for its value, module names for theirs."""
    from kit.jsonpos import JsonProblems, parse

    try:
        root = parse(text).root
    except JsonProblems:
        return {}  # valid for json, too deep or odd for the positioned reader
    out: dict[str, _Where] = {}
    for key, _, node in root.members:
        if key != "dependencies":
            continue
        out[""] = _Where(*node.pos)
        for name, _, child in node.members:
            out[name] = _Where(*child.pos)
    return out
