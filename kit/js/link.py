"""Across files: which files node loads, and ports read from other modules.

Node resolves ``require('./config')`` against the requiring file's folder: the
path itself, then with ``.js``, ``.json``, ``.mjs``, ``.cjs``, then a folder's
``index.js``. :func:`resolve` does the same against the app's file list, never
leaving the app. :func:`loaded_files` follows the requires from the entry
scripts (a dynamic ``require('./routes/' + name)`` loads the whole folder), and
:class:`Linker` replaces a port read from another module (``config.port``) with
the value that module exports, remembering the file it is written in.

Everything here takes the analyses through a callable, so the converter (with
the app in memory) and the verifier (with its cache) share it.
"""

import posixpath
from bisect import bisect_left
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from kit.js.model import Export, ModuleFacts, Origin, PortArg

_SUFFIXES = ("", ".js", ".json", ".mjs", ".cjs", "/index.js", "/index.json")
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
# Past this many files, an app's loaded code is not followed further.
MAX_LOADED = 20_000
_MAX_LINKS = 6  # config.js re-exporting settings.js re-exporting ...

FactsOf = Callable[[str], ModuleFacts | None]


def is_relative(spec: str) -> bool:
    return spec.startswith(("./", "../")) or spec in {".", ".."}


def _target(importer: str, spec: str) -> str | None:
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None  # outside the app: not shipped with it
    return joined


def resolve(importer: str, spec: str, files: AbstractSet[str]) -> str | None:
    """The app file ``require(spec)`` in ``importer`` loads, if it is one."""
    if not is_relative(spec):
        return None
    target = _target(importer, spec)
    if target is None:
        return None
    base = "" if target == "." else target
    for suffix in _SUFFIXES:
        candidate = (base + suffix).lstrip("/")
        if candidate and candidate in files:
            return candidate
    return None


def under(importer: str, folder: str, ordered: Sequence[str]) -> list[str]:
    """The scripts a dynamic ``require(folder + name)`` may load; ``ordered`` is sorted."""
    target = _target(importer, folder)
    if target is None:
        return []
    start = "" if target == "." else target.rstrip("/") + "/"
    if not folder.endswith("/"):
        start = target  # `require('./routes' + name)`: a name prefix, not a folder
    first = bisect_left(ordered, start)
    out = []
    for path in ordered[first:]:
        if not path.startswith(start):
            break
        if path.endswith(SCRIPT_SUFFIXES) and "/node_modules/" not in f"/{path}":
            out.append(path)
    return out


class Loaded(NamedTuple):
    path: str
    by: str | None  # the file that requires it; None for an entry script
    line: int | None  # of that require


def loaded_files(
    entries: Sequence[str],
    files: Sequence[str],
    facts_of: FactsOf,
    present: AbstractSet[str] | None = None,
) -> list[Loaded]:
    """The entry scripts and every app file they load, in the order found.

    ``files`` is the app's sorted file list (``present``, the same as a set, when
    the caller has one); ``facts_of`` gives a file's module facts (None when it
    cannot be read)."""
    present = present if present is not None else frozenset(files)
    seen: dict[str, Loaded] = {}
    queue = [Loaded(entry, None, None) for entry in entries if entry in present]
    while queue and len(seen) < MAX_LOADED:
        item = queue.pop(0)
        if item.path in seen:
            continue
        seen[item.path] = item
        facts = facts_of(item.path) if not item.path.endswith(".json") else None
        for require in facts.requires if facts is not None else ():
            if require.prefix:
                targets = under(item.path, require.spec, files)
            else:
                target = resolve(item.path, require.spec, present)
                targets = [target] if target is not None else []
            queue.extend(Loaded(t, item.path, require.line) for t in targets if t not in seen)
    return list(seen.values())


def _lookup(
    exports: Sequence[Export], member: tuple[str, ...]
) -> tuple[PortArg, tuple[str, ...]] | None:
    """The export ``member`` reads, and what is left to read from it (when the
    export is another module: ``module.exports = require('./settings')``)."""
    for export in exports:
        if export.key == member:
            return export.value, ()
    modules = [
        export
        for export in exports
        if export.value.kind == "import" and member[: len(export.key)] == export.key
    ]
    if not modules:
        return None
    longest = max(modules, key=lambda export: len(export.key))
    return longest.value, member[len(longest.key) :]


class Linker:
    """Ports read from other modules, replaced by what those modules export."""

    def __init__(self, files: AbstractSet[str], facts_of: FactsOf) -> None:
        self.files = files
        self.facts_of = facts_of

    def target(self, importer: str, port: PortArg) -> str | None:
        return resolve(importer, port.module, self.files) if port.module is not None else None

    def link(self, importer: str, port: PortArg) -> PortArg:
        """``port`` as far as the modules it reads are known; unchanged otherwise."""
        module, member, here = port.module, port.member, importer
        for _ in range(_MAX_LINKS):
            target = resolve(here, module, self.files) if module is not None else None
            facts = self.facts_of(target) if target is not None else None
            found = _lookup(facts.exports, member) if facts is not None else None
            if target is None or found is None:
                return port
            value, rest = found
            if value.kind == "import" and value.module is not None:
                module, member, here = value.module, (*value.member, *rest), target
                continue
            if rest:
                return port
            return _combined(port, value, target)
        return port


def _combined(port: PortArg, value: PortArg, path: str) -> PortArg:
    """What the listen's ``port`` is, now that the module gave ``value``."""
    origin = value.origin
    if origin is not None and origin.path is None:
        origin = Origin(path, origin.line, origin.column)
    if port.kind == "env-default":  # `process.env.PORT || config.port`
        if value.kind != "literal":
            return port
        return port._replace(value=value.value, literal=value.literal, origin=origin)
    return value._replace(text=port.text, expr=port.expr, origin=origin)
