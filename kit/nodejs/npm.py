"""``npm install`` for an old Node.js, and what the installed tree says about it.

The recipe (tried on this machine with Express 3, connect-redis 1.4, hiredis
0.1 and bcrypt 0.7 for v0.8.28):

* The build runs the machine's own npm on the machine's own node, in the
  build container, in the approot: :data:`INSTALL_COMMAND` with
  :func:`install_env` added to the environment, and with the machine's node
  first on ``PATH`` (node-gyp and install scripts are run by it; the build's
  old node cannot run them).
* ``npm_config_target`` and ``npm_config_nodedir`` make node-gyp compile native
  addons against the chosen build's headers (``<build>/include/node``, plus
  the gyp settings :mod:`kit.nodejs.gypi` adds to the cache), so they
  load in that node and not in the machine's. ``npm_config_build_from_source``
  makes node-pre-gyp, prebuild-install and node-gyp-build compile too, rather
  than download or pick a binary built for the machine's node. Install scripts
  are not skipped (no ``--ignore-scripts``): addons must be built.
* npm 11 warns ``Unknown env config "target"`` (and ``build-from-source``):
  node-gyp and the prebuild tools still read them from the environment, which
  npm passes on to scripts; :func:`is_noise` spots these lines.
* The npm inside the old build cannot do it: npm 1.2.30 (v0.8.28) and 1.1.48
  (v0.8.6) run on OpenSSL 1.0.0, which speaks TLS 1.0 at most; the registry
  wants TLS 1.2, so every request fails (``SSL23_GET_SERVER_HELLO:unknown
  protocol``), and over plain http the registry answers 404 and npm 1.2 crashes.
* A modern npm resolves ranges to today's newest versions, which often need a
  newer node (``connect-redis@1.4.7`` asks for ``debug@*`` and gets debug 4,
  written for node 6). :func:`findings` names each package whose
  ``engines.node`` excludes the chosen version, each native addon left
  without a compiled ``.node`` file, and (from npm's output,
  :func:`failed_builds`) each addon whose build failed, which makes npm undo
  the whole install.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.nodejs.semver import parse_version, satisfies

INSTALL_COMMAND = ("npm", "install", "--no-audit", "--no-fund")
MAX_PACKAGES = 20_000
MAX_MANIFEST = 1 << 20
MAX_FILES = 2_000  # per package, when looking for compiled addons
_NATIVE_TOOLS = ("node-gyp", "node-pre-gyp", "prebuild-install", "node-gyp-build", "cmake-js")
_NOISE = re.compile(r'^npm warn Unknown env config "(target|nodedir|build-from-source)"')


@dataclass(frozen=True)
class Package:
    """One installed package, as far as the findings need it."""

    where: str  # relative to the approot, e.g. "node_modules/a/node_modules/b"
    name: str
    version: str
    engines: str | None  # the engines.node range, as written
    native: bool  # has binding.gyp or a native build tool in its install scripts
    built: bool  # a compiled .node file is there


@dataclass(frozen=True)
class NpmFinding:
    severity: str  # "warning" or "info"
    package: str  # "name@version"
    where: str
    message: str


def install_env(version: str, node_dir: str) -> dict[str, str]:
    """What to add to npm's environment so addons are built for Node.js ``version``.

    ``node_dir`` is the build's folder as the build container sees it.
    """
    return {
        "npm_config_target": version,
        "npm_config_nodedir": node_dir,
        "npm_config_build_from_source": "true",
        "npm_config_update_notifier": "false",
    }


def is_noise(line: str) -> bool:
    """npm 11's warning about the build settings above, which are read all the same."""
    return bool(_NOISE.match(line))


def describe(where: str, manifest: str | bytes, files: Iterable[str]) -> Package | None:
    """A package from its folder (relative), its package.json text and its file names."""
    try:
        data: Any = json.loads(manifest)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    folder = where.rsplit("node_modules/", 1)[-1]
    name = data.get("name") if isinstance(data.get("name"), str) else folder
    version = data.get("version") if isinstance(data.get("version"), str) else "?"
    names = list(files)
    scripts = data.get("scripts")
    lifecycle = (
        " ".join(str(scripts.get(k, "")) for k in ("preinstall", "install", "postinstall"))
        if isinstance(scripts, dict)
        else ""
    )
    native = (
        "binding.gyp" in names
        or data.get("gypfile") is True
        or any(tool in lifecycle for tool in _NATIVE_TOOLS)
    )
    built = any(n.endswith(".node") for n in names)
    engines = _engines_node(data.get("engines"))
    return Package(where, str(name), str(version), engines, native, built)


def _engines_node(engines: object) -> str | None:
    if isinstance(engines, dict):
        value = engines.get("node")
        return value if isinstance(value, str) else None
    # Old packages wrote engines as a list (or a string) of "node >= 0.4".
    items = [engines] if isinstance(engines, str) else engines
    if isinstance(items, list):
        for item in items:
            if isinstance(item, str) and item.strip().startswith("node"):
                return item.strip()[4:].strip()
    return None


def findings(
    packages: Iterable[Package], version: str, failed: Sequence[str] = ()
) -> list[NpmFinding]:
    """What the installed tree means for Node.js ``version`` (e.g. ``"0.8.28"``)."""
    target = parse_version(version)
    if target is None:
        raise ValueError(version)
    out: list[NpmFinding] = [
        NpmFinding(
            "warning", spec, "",
            f"{spec}: its native build failed, so it cannot build for v{version}; "
            "npm undid the install. Use a version of it that supports "
            f"v{version}, or drop it",
        )
        for spec in failed
    ]  # fmt: skip
    for pkg in packages:
        spec = f"{pkg.name}@{pkg.version}"
        if pkg.engines is not None:
            fits = satisfies(target, pkg.engines)
            if fits is False:
                out.append(NpmFinding(
                    "warning", spec, pkg.where,
                    f"{spec} ({pkg.where}) declares engines.node {pkg.engines!r}, which "
                    f"excludes v{version}: it may fail here. Pin a version that supports "
                    f"v{version} in package.json",
                ))  # fmt: skip
            elif fits is None:
                out.append(NpmFinding(
                    "info", spec, pkg.where,
                    f"{spec} ({pkg.where}) declares engines.node {pkg.engines!r}, "
                    "which is not a version range npm can read",
                ))  # fmt: skip
        if pkg.native and not pkg.built:
            out.append(NpmFinding(
                "warning", spec, pkg.where,
                f"{spec} ({pkg.where}) is a native addon with no compiled .node file: "
                f"it cannot build for v{version}",
            ))  # fmt: skip
        elif pkg.native:
            out.append(NpmFinding(
                "info", spec, pkg.where, f"{spec} ({pkg.where}): native addon built for v{version}"
            ))  # fmt: skip
    return out


_GYP_NAME = re.compile(r"gyp ERR! \$npm_package_name (\S+)")
_GYP_VERSION = re.compile(r"gyp ERR! \$npm_package_version (\S+)")
_ERROR_PATH = re.compile(r"^npm (?:error|ERR!) path \S*node_modules/((?:@[^/\s]+/)?[^/\s]+)\s*$")
_OLD_SCRIPT = re.compile(r"^npm ERR! ((?:@[^/\s]+/)?[^@\s]+)@(\S+) \w*install: ")


def failed_builds(lines: Iterable[str]) -> list[str]:
    """The packages (``name@version`` where npm says it) whose install script failed."""
    found: dict[str, str] = {}
    name = None
    for line in lines:
        if match := _GYP_NAME.search(line):
            name = match.group(1)
            found.setdefault(name, "")
        elif (match := _GYP_VERSION.search(line)) and name:
            found[name] = match.group(1)
        elif match := _ERROR_PATH.match(line.strip()):
            found.setdefault(match.group(1), "")
        elif match := _OLD_SCRIPT.match(line.strip()):
            found[match.group(1)] = match.group(2)
    return [f"{n}@{v}" if v else n for n, v in sorted(found.items())]


def scan(approot: Path) -> list[Package]:
    """The packages installed under ``approot/node_modules`` (links are not followed)."""
    out = []
    for folder in _package_dirs(approot / "node_modules"):
        manifest = folder / "package.json"
        try:
            if manifest.is_symlink() or manifest.stat().st_size > MAX_MANIFEST:
                continue
            text = manifest.read_bytes()
        except OSError:
            continue
        where = folder.relative_to(approot).as_posix()
        pkg = describe(where, text, _files(folder))
        if pkg is not None:
            out.append(pkg)
        if len(out) >= MAX_PACKAGES:
            break
    return out


def _package_dirs(modules: Path) -> Iterator[Path]:
    stack = [modules]
    while stack:
        current = stack.pop()
        if current.is_symlink() or not current.is_dir():
            continue
        for entry in sorted(os.scandir(current), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.name.startswith("@") and current.name == "node_modules":
                stack.append(Path(entry.path))  # a scope: its packages are one level down
                continue
            yield Path(entry.path)
            stack.append(Path(entry.path) / "node_modules")


def _files(folder: Path) -> list[str]:
    """File names relative to a package, nested node_modules excluded, up to a limit."""
    names: list[str] = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "node_modules"]
        rel = Path(top).relative_to(folder).as_posix()
        names.extend(f if rel == "." else f"{rel}/{f}" for f in files)
        if len(names) >= MAX_FILES:
            break
    return names


def addon_check_script(files: Sequence[str]) -> str:
    """JavaScript for the chosen old node: try to load each compiled addon, one line each."""
    paths = json.dumps(list(files))
    return (
        f"var paths = {paths};\n"
        "for (var i = 0; i < paths.length; i++) {\n"
        "  try { require(paths[i]); console.log('ok ' + paths[i]); }\n"
        "  catch (e) {\n"
        "    console.log('fail ' + paths[i] + ' ' + String(e.message).split('\\n')[0]);\n"
        "  }\n"
        "}\n"
    )


def addon_failures(output: str) -> dict[str, str]:
    """From the script's output: addon path -> why the old node could not load it."""
    failures = {}
    for line in output.splitlines():
        if line.startswith("fail "):
            path, _, why = line[5:].partition(" ")
            failures[path] = why
    return failures
