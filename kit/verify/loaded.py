"""The code node loads, and whether the service's Node.js can run it.

A nodejs service runs the scripts its ``supervisord.conf`` (or ``process`` /
``processes``) starts with node. From those entry scripts the checks follow
every ``require`` of a file of the app (:func:`kit.js.link.loaded_files`), and
judge each file reached against the service's ``config: node_version``
(:func:`kit.platform.judge.judge_features`). Only these files: a browser script
under ``public/`` or a test never runs on the platform's node, whatever syntax it
uses. The same module facts let a port read from another module
(``require('./config').port``) be followed to the number (:class:`kit.js.link.Linker`).
"""

import configparser
import contextlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence

from kit.findings import Finding
from kit.js.link import Linker, loaded_files
from kit.js.packages import entry_of_start, package_start
from kit.platform.facts import CURRENT, SUPERVISORD_FILE
from kit.platform.judge import API_RULE, PARSE_RULE, SEVERITIES, SYNTAX_RULE, judge_features
from kit.platform.model import Service
from kit.verify.fast.modcache import ModuleStore
from kit.verify.model import Rule, Target, disk_of

NODE_VERSION_SYNTAX = Rule(
    SYNTAX_RULE,
    SEVERITIES[SYNTAX_RULE],
    "code",
    "Code node loads uses syntax the service's Node.js cannot parse.",
    "dotCloud's nodejs service offers Node.js 0.4, 0.6 and 0.8 (config: node_version), whose "
    "V8 knows ES5. A file with an arrow function, a class, a template literal, let, "
    "destructuring or async/await is a SyntaxError there, and the service never starts. "
    "(const is the exception worth knowing: outside strict mode the V8 of the time accepted "
    "it.) Only the files node loads are checked: the entry scripts of supervisord.conf and "
    "every app file they require, so browser code and tests are left alone. Write those "
    "files in ES5, compile them to ES5 before pushing, or run a newer Node.js in a custom "
    "service.",
    bad="www/server.js:\nvar app = require('express')();\n"
    "app.get('/', (req, res) => res.send('hi'));\napp.listen(8080);",
    good="www/server.js:\nvar app = require('express')();\n"
    "app.get('/', function (req, res) { res.send('hi'); });\napp.listen(8080);",
)
NODE_VERSION_API = Rule(
    API_RULE,
    SEVERITIES[API_RULE],
    "code",
    "Code node loads uses a global that the service's Node.js does not have.",
    "Promise, Map, Set, Symbol, Object.assign, Array.from, Buffer.from and the like came "
    "after Node.js 0.8. The code parses, starts, and fails with a TypeError or "
    "ReferenceError when it first gets there. A polyfill (es6-promise, bluebird, "
    "object-assign) loaded before it makes the name exist; a file that requires or declares "
    "the name itself is not reported.",
    bad="www/server.js:\nvar app = require('express')();\n"
    "app.get('/', function (req, res) { Promise.resolve(1).then(res.send); });\n"
    "app.listen(8080);",
    good="www/server.js:\nvar Promise = require('bluebird');\nvar app = require('express')();\n"
    "app.get('/', function (req, res) { Promise.resolve(1).then(res.send); });\n"
    "app.listen(8080);",
)
JS_SYNTAX_ERROR = Rule(
    PARSE_RULE,
    SEVERITIES[PARSE_RULE],
    "code",
    "A file node loads could not be parsed, or was not analysed.",
    "The kit parses JavaScript with tree-sitter. When a file node loads does not parse, "
    "either it has a syntax error (and node stops on it too, so the service does not "
    "start) or it uses syntax the parser does not know; either way the kit's other checks "
    "may miss what follows the error. A binary file named .js, or one past 16 MB, is not "
    "analysed at all.",
    bad="www/server.js:\nvar app = require('express')();\napp.listen(8080;",
    good="www/server.js:\nvar app = require('express')();\napp.listen(8080);",
)
RULES: tuple[Rule, ...] = (NODE_VERSION_SYNTAX, NODE_VERSION_API, JS_SYNTAX_ERROR)
# When nothing names the script node runs: the first of these that exists.
CONVENTIONAL_ENTRIES = ("server.js", "app.js", "index.js")


def _rel(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def supervisor_commands(text: str) -> list[str]:
    """The ``command`` of each ``[program:x]`` of a supervisord.conf; [] if unreadable.

    Read with the stdlib's INI parser set as supervisor reads its files (``;`` and
    ``#`` start comments after whitespace, no interpolation): only the commands
    are wanted here, and the supervisor rules report what is wrong with the file."""
    parser = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";", "#"))
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    commands = []
    for section in parser.sections():
        if section.startswith("program:") and parser.has_option(section, "command"):
            commands.append(parser.get(section, "command").replace("%%", "%"))
    return commands


def _script(command: str, approot: str, package_start: str | None) -> str | None:
    words = command.split()
    if words[:2] == ["npm", "start"] and package_start:
        command = package_start
    entry = entry_of_start(command)
    if entry is None:
        return None
    for prefix in (CURRENT + "/", "~/current/", "./"):
        entry = entry.removeprefix(prefix)
    if entry.startswith("/"):
        return None
    return posixpath.normpath(_rel(approot, entry))


def entry_scripts(app: Target, service: Service, files: frozenset[str] | None = None) -> list[str]:
    """The scripts node starts for ``service``, relative to the app root (``files``:
    the app's files as a set, when the caller has one)."""
    disk = disk_of(app)
    commands = [c for c in (service.process, *service.processes.values()) if c]
    conf = _rel(service.approot, SUPERVISORD_FILE)
    if conf in app.files:
        with contextlib.suppress(OSError):
            commands += supervisor_commands(disk.read(conf).decode("utf-8", "replace"))
    package_json = _rel(service.approot, "package.json")
    start, main = None, None
    if package_json in app.files:
        with contextlib.suppress(OSError):
            start, main = package_start(disk.read(package_json))
    found = [_script(c, service.approot, start) for c in commands]
    if not commands:  # nothing says: npm's own default
        found.append(_script(start, service.approot, None) if start else None)
        if main:
            found.append(posixpath.normpath(_rel(service.approot, main)))
    files = files if files is not None else frozenset(app.files)
    if not any(found):  # nothing names a script: the names apps of the time used
        found = [_rel(service.approot, name) for name in CONVENTIONAL_ENTRIES]
        found = [next((f for f in found if f in files), None)]
    entries = []
    for entry in found:
        if entry is None:
            continue
        for candidate in (entry, entry + ".js"):
            if candidate in files and candidate not in entries:
                entries.append(candidate)
                break
    return entries


def check_loaded(
    services: Iterable[Service],
    entries: Mapping[str, list[str]],
    store: ModuleStore,
    files: Sequence[str],
) -> list[Finding]:
    """Node.js version findings for the files each service's node loads, from its
    ``entries`` (by service name); ``files`` is the app's sorted file list."""
    findings: list[Finding] = []
    judged: set[tuple[str, str]] = set()
    present = frozenset(files)
    for service in services:
        version = service.node_version
        if version is None:
            continue
        for item in loaded_files(entries.get(service.name, []), files, store.facts, present):
            if (item.path, version) in judged:
                continue
            judged.add((item.path, version))
            facts = store.facts(item.path)
            if facts is None or item.path.endswith(".json"):
                continue
            by = f"{item.by}:{item.line}" if item.by is not None else None
            findings += judge_features(item.path, facts, version, by)
    return findings


def linker(app: Target, store: ModuleStore) -> Linker:
    return Linker(frozenset(app.files), store.facts)
