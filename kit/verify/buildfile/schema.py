"""The build file's JSON Schema (shipped in ``kit/data``), and its errors in plain words.

Every jsonschema error is rewritten in the kit's words, at the key it concerns, with
"did you mean" where a close match exists; all of them are reported in one run.
"""

import json
from collections.abc import Callable
from difflib import get_close_matches
from functools import cache
from importlib import resources
from typing import Any

from kit.platform.facts import NODE_VERSIONS, SERVICE_TYPES
from kit.platform.names import sanitize_service_name
from kit.verify.buildfile.collect import Collector, dotted
from kit.verify.buildfile.rules import (
    ENV_NAME,
    NODE_VERSION,
    PROCESS_AND_PROCESSES,
    SCHEMA,
    SERVICE_NAME,
    UNKNOWN_KEY,
    UNKNOWN_TYPE,
)

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


def schema_findings(data: Any, out: Collector) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        _explain_schema_error(error, data, out)


def _explain_schema_error(error: Any, data: Any, out: Collector) -> None:
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
    out.at(SCHEMA, path, f"{dotted(path)}: {error.message}", "check this value", value=True)


def _no_service(error: Any, path: list[str], out: Collector) -> None:
    out.at(
        SCHEMA,
        [],
        "the build file defines no service",
        "add one service, for example:\nwww:\n  type: nodejs",
    )


def _bad_name(error: Any, path: list[str], out: Collector) -> None:
    bad = _bad_property_name(error)
    where = dotted(path)
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
            f"'{bad}' in {where} is not a valid variable name",
            f"{why} (for example {fixed})",
        )
    elif path[-1] == "processes":
        out.at(
            SCHEMA,
            [*path, bad],
            f"{json.dumps(bad)} in {where} is not a valid program name",
            "use 1 to 64 letters, digits, _, . and -, not starting with . or - "
            "(supervisord's [program:NAME] and the log files are named after it)",
        )
    else:
        out.at(
            SCHEMA,
            [*path, bad],
            f"'{bad}' in {where} is not a valid name",
            "use lower-case letters, digits and _",
        )


def _unknown_keys(error: Any, path: list[str], out: Collector) -> None:
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


def _unknown_type(error: Any, path: list[str], out: Collector) -> None:
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


def _node_version(error: Any, path: list[str], out: Collector) -> None:
    close = get_close_matches(str(error.instance), NODE_VERSIONS, n=1, cutoff=0.3)
    hint = f"did you mean '{close[0]}'? " if close else ""
    out.at(
        NODE_VERSION,
        path,
        f"node_version '{error.instance}' is not offered by the nodejs service",
        f"{hint}use one of {', '.join(NODE_VERSIONS)}",
        value=True,
    )


def _port_kind(error: Any, path: list[str], out: Collector) -> None:
    out.at(
        SCHEMA,
        path,
        f"{dotted(path)} is '{error.instance}'; a port is http, tcp or udp",
        "write http, tcp or udp",
        value=True,
    )


def _both_processes(error: Any, path: list[str], out: Collector) -> None:
    out.at(
        PROCESS_AND_PROCESSES,
        [*path, "processes"],
        f"service '{path[0]}' sets both process and processes",
        "keep processes and move the process command into it",
    )


def _no_type(error: Any, path: list[str], out: Collector) -> None:
    out.at(
        SCHEMA, path, f"service '{path[0]}' has no type", "add a type, for example: type: nodejs"
    )


def _wrong_type(error: Any, path: list[str], out: Collector) -> None:
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
    out.at(SCHEMA, path, f"{dotted(path)} must be {wanted}, not {got}", fix, value=True)


def _too_small(error: Any, path: list[str], out: Collector) -> None:
    out.at(
        SCHEMA,
        path,
        f"{dotted(path)} is too small ({error.instance!r})",
        "instances must be at least 1; approot must not be empty",
        value=True,
    )


_Explain = Callable[[Any, list[str], Collector], None]
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
