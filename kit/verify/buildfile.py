"""Checking ``dotcloud.yml``: syntax, shape (a JSON Schema shipped in the package), names.

A fixed pipeline over in-memory data: read the YAML with positions, validate it
against the schema, rewrite every schema error in plain words at the key it
concerns, then the checks a schema cannot express (approot on disk). Every
problem is reported in one run. :func:`check_build_file` also returns the
services it could read, for the checks that follow.
"""

import json
import posixpath
from collections.abc import Callable, Sequence
from difflib import get_close_matches
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.findings import Finding
from kit.platform.facts import BUILD_FILE, NODE_VERSIONS, SERVICE_TYPES
from kit.platform.model import Service, service_from_body
from kit.platform.names import sanitize_service_name
from kit.verify.disk import Disk
from kit.verify.model import Rule

if TYPE_CHECKING:
    from kit.verify.yamlpos import YamlDoc

_CAT = "build file"

BUILD_FILE_MISSING = Rule(
    "build-file-missing",
    "error",
    _CAT,
    "The app has no dotcloud.yml at its root.",
    "The platform reads one dotcloud.yml at the root of the pushed folder to learn which "
    "services to build and run. Without it nothing is deployed. Create it (dotkit convert "
    "writes one from a nodeSocket app) or push from the folder that holds it.",
    "(no dotcloud.yml)",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
YAML_SYNTAX = Rule(
    "yaml-syntax",
    "error",
    _CAT,
    "dotcloud.yml is not valid YAML.",
    "A build file the platform cannot read stops the push before anything is built. The most "
    "common cause is indentation: every key of a service must start in the same column, and "
    "a key indented deeper than the one above it becomes part of that key's value.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n    approot: web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
YAML_TAB = Rule(
    "yaml-tab",
    "error",
    _CAT,
    "A tab character is used for indentation.",
    "YAML forbids tabs in indentation, and the platform's reader rejects the whole file. "
    "Editors often insert them silently. Indent with spaces only.",
    "dotcloud.yml:\nwww:\n\ttype: nodejs\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
YAML_ALIASES = Rule(
    "yaml-aliases",
    "error",
    _CAT,
    "YAML aliases expand to an unreasonable size.",
    "Anchors and aliases (&a, *a) let one value be reused. Nested many times they expand "
    "exponentially (the 'billion laughs' file) and exhaust the memory of any reader. The kit "
    "refuses such a file at once rather than trying to expand it.",
    'dotcloud.yml:\na: &a ["x", "x", "x"]\nb: &b [*a, *a, *a]\n# ...nested ten times\n',
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
DUPLICATE_KEY = Rule(
    "duplicate-key",
    "error",
    _CAT,
    "A key appears twice in the same mapping.",
    "YAML readers keep only the last of two equal keys, silently, so half of what you wrote "
    "is ignored. Keep one of them.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  type: python\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
SCHEMA = Rule(
    "build-file-schema",
    "error",
    _CAT,
    "A value has the wrong shape or type.",
    "The build file maps service names to mappings of known keys, each with a type: strings "
    "for commands and approot, mappings for config, ports, environment and processes, lists "
    "for systempackages, a number for instances. A wrong shape makes the push fail.",
    "dotcloud.yml:\nwww: nodejs\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
UNKNOWN_KEY = Rule(
    "unknown-key",
    "warning",
    _CAT,
    "A key the platform does not know.",
    "The platform silently ignores keys it does not know, so a misspelt key (aproot, "
    "enviroment) is simply lost. Check the spelling; the finding suggests the closest key.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  aproot: web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
UNKNOWN_TYPE = Rule(
    "unknown-service-type",
    "error",
    _CAT,
    "The service type is not one the platform offers.",
    "Each service needs a type the platform knows (nodejs, python, redis, mysql...). An "
    "unknown type stops the push.",
    "dotcloud.yml:\nwww:\n  type: node\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
SERVICE_NAME = Rule(
    "invalid-service-name",
    "error",
    _CAT,
    "A service name breaks the naming rule.",
    "Service names are 1 to 16 characters of lower-case letters, digits and underscores. "
    "They appear in host names and environment variable names (DOTCLOUD_WWW_...).",
    "dotcloud.yml:\nMy-Web:\n  type: nodejs\n",
    "dotcloud.yml:\nmy_web:\n  type: nodejs\n",
)
APPROOT_MISSING = Rule(
    "approot-missing",
    "error",
    _CAT,
    "The approot folder does not exist.",
    "approot names the folder, relative to dotcloud.yml, that holds the service's code; "
    "inside the container ~/current points at it. A missing folder leaves the service empty.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: Web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
APPROOT_OUTSIDE = Rule(
    "approot-outside-app",
    "error",
    _CAT,
    "The approot points outside the app.",
    "Only the pushed folder is uploaded, so an approot that is absolute or climbs out with "
    "'..' names code the platform never receives.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: ../shared\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: shared\n",
)
PROCESS_AND_PROCESSES = Rule(
    "process-and-processes",
    "error",
    _CAT,
    "Both process and processes are set.",
    "process (one command) and processes (a mapping of commands) are two ways of saying what "
    "supervisord runs; the platform accepts only one of them in a service.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  process: node a.js\n  processes:\n    b: node b.js\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  processes:\n    a: node a.js\n    b: node b.js\n",
)
NODE_VERSION = Rule(
    "node-version-unsupported",
    "error",
    _CAT,
    "config: node_version is not one on offer.",
    "The nodejs service offers node v0.4.x, v0.6.x and v0.8.x, chosen with config: "
    "node_version. Any other value makes the deploy fail.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  config:\n    node_version: v0.10.x\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  config:\n    node_version: v0.8.x\n",
)
ENV_NAME = Rule(
    "env-name-invalid",
    "error",
    _CAT,
    "An environment variable name is not allowed.",
    "Variable names are letters, digits and underscores, not starting with a digit, and "
    "names starting with DOTCLOUD_ belong to the platform.",
    'dotcloud.yml:\nwww:\n  type: nodejs\n  environment:\n    mongo-host: "db"\n',
    'dotcloud.yml:\nwww:\n  type: nodejs\n  environment:\n    MONGO_HOST: "db"\n',
)

RULES: tuple[Rule, ...] = (
    BUILD_FILE_MISSING,
    YAML_SYNTAX,
    YAML_TAB,
    YAML_ALIASES,
    DUPLICATE_KEY,
    SCHEMA,
    UNKNOWN_KEY,
    UNKNOWN_TYPE,
    SERVICE_NAME,
    APPROOT_MISSING,
    APPROOT_OUTSIDE,
    PROCESS_AND_PROCESSES,
    NODE_VERSION,
    ENV_NAME,
)
_BY_KIND = {
    "syntax": YAML_SYNTAX,
    "encoding": YAML_SYNTAX,
    "tab": YAML_TAB,
    "aliases": YAML_ALIASES,
    "duplicate": DUPLICATE_KEY,
}
_TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


@cache
def schema() -> dict[str, Any]:
    """The build file's JSON Schema, shipped in the package (``kit/data``)."""
    text = resources.files("kit").joinpath("data/dotcloud-yml.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    return "a string"


class _Findings:
    def __init__(self, doc: "YamlDoc | None") -> None:
        self.items: list[Finding] = []
        self.doc = doc

    def at(
        self, rule: Rule, path: Sequence[str], message: str, fix: str, *, value: bool = False
    ) -> None:
        where = None
        if self.doc is not None:
            marks = self.doc.value_marks if value else self.doc.marks
            where = marks.get(tuple(path))
            if where is None and value:
                where = self.doc.marks.get(tuple(path))
            probe = list(path)
            while where is None and probe:
                probe.pop()
                where = self.doc.marks.get(tuple(probe))
        line, column = where if where else (1, 1)
        self.items.append(rule.finding(BUILD_FILE, line, column, message, fix))


def _dotted(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path) or "the file"


def _schema_findings(data: Any, out: _Findings) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        _explain_schema_error(error, data, out)


def _explain_schema_error(error: Any, data: Any, out: _Findings) -> None:
    """One jsonschema error, in the kit's words, at the key it concerns."""
    path = [str(p) for p in error.absolute_path]
    kind = error.validator
    if kind in ("allOf", "if", "then", "$ref"):
        for sub in error.context or ():
            _explain_schema_error(sub, data, out)
        return
    if kind == "propertyNames" or "propertyNames" in error.schema_path:
        _bad_name(error, path, out)
        return
    for handles, explain in _EXPLAINERS:
        if handles(kind, path):
            explain(error, path, out)
            return
    out.at(SCHEMA, path, f"{_dotted(path)}: {error.message}", "check this value", value=True)


def _no_service(error: Any, path: list[str], out: _Findings) -> None:
    out.at(
        SCHEMA,
        [],
        "the build file defines no service",
        "add one service, for example:\nwww:\n  type: nodejs",
    )


def _bad_name(error: Any, path: list[str], out: _Findings) -> None:
    bad = _bad_property_name(error)
    dotted = _dotted(path)
    if not path:
        out.at(
            SERVICE_NAME,
            [bad],
            f"service name '{bad}' is not 1 to 16 characters of a-z, 0-9 and _",
            f"rename it, for example to '{sanitize_service_name(bad)}'",
        )
    elif path[-1] == "environment":
        why = (
            "names starting with DOTCLOUD_ are reserved for the platform"
            if bad.startswith("DOTCLOUD_")
            else "use letters, digits and _, not starting with a digit"
        )
        fixed = "".join(c if c.isalnum() or c == "_" else "_" for c in bad.upper())
        out.at(
            ENV_NAME,
            [*path, bad],
            f"'{bad}' in {dotted} is not a valid variable name",
            f"{why} (for example {fixed})",
        )
    else:
        out.at(
            SCHEMA,
            [*path, bad],
            f"'{bad}' in {dotted} is not a valid name",
            "use lower-case letters, digits and _",
        )


def _unknown_keys(error: Any, path: list[str], out: _Findings) -> None:
    if isinstance(error.instance, dict) and error.instance.get("type") == "custom":
        return  # a custom service's build script gets every key, as SERVICE_<KEY>
    known = sorted(schema()["$defs"]["service"]["properties"])
    for key in sorted(set(error.instance) - set(known)):
        close = get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        if key == "node_version":
            hint = "node_version belongs under config: (config:\n    node_version: v0.8.x). "
        out.at(
            UNKNOWN_KEY,
            [*path, key],
            f"'{key}' is not a key the platform knows in service '{path[0]}'; it is ignored",
            f"{hint}known keys: {', '.join(known)}",
        )


def _unknown_type(error: Any, path: list[str], out: _Findings) -> None:
    got = error.instance
    close = get_close_matches(str(got), sorted(SERVICE_TYPES), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    out.at(
        UNKNOWN_TYPE,
        path,
        f"'{got}' is not a service type the platform offers",
        f"{hint}types: {', '.join(sorted(SERVICE_TYPES))}",
        value=True,
    )


def _node_version(error: Any, path: list[str], out: _Findings) -> None:
    close = get_close_matches(str(error.instance), NODE_VERSIONS, n=1, cutoff=0.3)
    hint = f"did you mean '{close[0]}'? " if close else ""
    out.at(
        NODE_VERSION,
        path,
        f"node_version '{error.instance}' is not offered by the nodejs service",
        f"{hint}use one of {', '.join(NODE_VERSIONS)}",
        value=True,
    )


def _port_kind(error: Any, path: list[str], out: _Findings) -> None:
    out.at(
        SCHEMA,
        path,
        f"{_dotted(path)} is '{error.instance}'; a port is http, tcp or udp",
        "write http, tcp or udp",
        value=True,
    )


def _both_processes(error: Any, path: list[str], out: _Findings) -> None:
    out.at(
        PROCESS_AND_PROCESSES,
        [*path, "processes"],
        f"service '{path[0]}' sets both process and processes",
        "keep processes and move the process command into it",
    )


def _no_type(error: Any, path: list[str], out: _Findings) -> None:
    out.at(
        SCHEMA, path, f"service '{path[0]}' has no type", "add a type, for example: type: nodejs"
    )


def _wrong_type(error: Any, path: list[str], out: _Findings) -> None:
    expected = error.validator_value
    wanted = (
        " or ".join(str(_TYPE_NAMES.get(t, t)) for t in expected)
        if isinstance(expected, list)
        else _TYPE_NAMES.get(expected, expected)
    )
    got = _describe(error.instance)
    if not path:
        out.at(
            SCHEMA,
            [],
            f"the build file holds {got}; it must map service names to their definitions",
            "start with a service name, for example:\nwww:\n  type: nodejs",
        )
        return
    fix = "indent the service's keys under its name" if len(path) == 1 else f"write {wanted}"
    if len(path) == 1 and isinstance(error.instance, str):
        fix = f"write it as a mapping:\n{path[0]}:\n  type: {error.instance}"
    out.at(SCHEMA, path, f"{_dotted(path)} must be {wanted}, not {got}", fix, value=True)


def _too_small(error: Any, path: list[str], out: _Findings) -> None:
    out.at(
        SCHEMA,
        path,
        f"{_dotted(path)} is too small ({error.instance!r})",
        "instances must be at least 1; approot must not be empty",
        value=True,
    )


_Explain = Callable[[Any, list[str], _Findings], None]
# (does it handle this validator at this path?, how to say it), tried in order.
_EXPLAINERS: tuple[tuple[Callable[[str, list[str]], bool], _Explain], ...] = (
    (lambda kind, path: kind == "minProperties" and not path, _no_service),
    (lambda kind, path: kind == "additionalProperties" and len(path) == 1, _unknown_keys),
    (lambda kind, path: kind == "enum" and len(path) == 2 and path[-1] == "type", _unknown_type),
    (lambda kind, path: kind == "enum" and path[-2:] == ["config", "node_version"], _node_version),
    (lambda kind, path: kind == "enum" and len(path) == 3 and path[1] == "ports", _port_kind),
    (lambda kind, path: kind == "not" and len(path) == 1, _both_processes),
    (lambda kind, path: kind == "required" and len(path) == 1, _no_type),
    (lambda kind, path: kind == "type", _wrong_type),
    (lambda kind, path: kind in ("minimum", "minLength"), _too_small),
)


def _bad_property_name(error: Any) -> str:
    # jsonschema reports propertyNames failures with the offending name as the instance
    # of the sub-error; fall back to its message.
    for sub in error.context or ():
        if isinstance(sub.instance, str):
            return sub.instance
    if isinstance(error.instance, str):
        return error.instance
    text: str = error.message
    return text.split("'")[1] if "'" in text else text


def _approot(name: str, body: dict[str, Any], disk: Disk, out: _Findings) -> tuple[str, bool]:
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


def _services(data: Any, disk: Disk, out: _Findings) -> tuple[Service, ...]:
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
    out = _Findings(doc)
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
    _schema_findings(doc.data, out)
    return _services(doc.data, disk, out), out.items
