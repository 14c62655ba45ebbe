"""Reading a nodeSocket ``.torque`` file.

A ``.torque`` is a JSON object at the root of a Gear: ``start`` (the entry
script, required), ``route`` (the ``host:port`` nodeSocket's router sent traffic
to), ``env`` (an object of scalars) and ``parameters`` (a list of strings).
A UTF-8 byte-order mark, CRLF line endings, comments and trailing commas are
accepted with a warning; any other problem is an error with a line, a column
and a fix. Nothing here touches the disk.
"""

import posixpath
from typing import NamedTuple

from kit.findings import Finding
from kit.jsonpos import JNode, JsonProblems, Pos, parse

KNOWN_KEYS = ("start", "route", "env", "parameters")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class EnvVar(NamedTuple):
    """One ``env`` entry; ``value`` is the text to carry over, as written."""

    key: str
    value: str
    source_kind: str
    pos: Pos


class Torque(NamedTuple):
    path: str
    start: str
    route: str | None
    env: tuple[EnvVar, ...]
    parameters: tuple[str, ...]
    positions: dict[str, Pos]
    value_positions: dict[str, Pos]


class _Errors:
    """Collects findings for one file so every problem is reported in one run."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Finding] = []

    def error(self, rule: str, pos: Pos | None, message: str, fix: str) -> None:
        self.add(rule, "error", pos, message, fix)

    def warn(self, rule: str, pos: Pos | None, message: str, fix: str) -> None:
        self.add(rule, "warning", pos, message, fix)

    def add(self, rule: str, severity: str, pos: Pos | None, message: str, fix: str) -> None:
        self.items.append(
            Finding(
                rule=rule,
                severity=severity,  # type: ignore[arg-type]
                path=self.path,
                line=pos.line if pos else None,
                column=pos.column if pos else None,
                message=message,
                fix=fix,
            )
        )

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.items)


def offset_to_pos(data: bytes, offset: int) -> Pos:
    """1-based line and character column of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Pos(data.count(b"\n", 0, offset) + 1, column)


def decode(data: bytes, errors: _Errors) -> str | None:
    """Bytes to text, or ``None`` with an error finding when they are not UTF-8 text."""
    if data.startswith(_UTF16_BOMS):
        errors.error(
            "torque-encoding",
            Pos(1, 1),
            "the file is encoded as UTF-16",
            "save it as UTF-8 (most editors offer this under 'Save with encoding')",
        )
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        errors.error(
            "torque-encoding",
            offset_to_pos(data, nul),
            "the file holds binary data (a NUL byte), not JSON text",
            "replace it with the Gear's real .torque, a JSON object in UTF-8",
        )
        return None
    if data.startswith(_UTF8_BOM):
        errors.warn(
            "torque-tolerated",
            Pos(1, 1),
            "the file starts with a UTF-8 byte-order mark; it was ignored",
            "save the file as UTF-8 without a BOM",
        )
        data = data[len(_UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.error(
            "torque-encoding",
            offset_to_pos(data, exc.start),
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
            "save the file as UTF-8",
        )
        return None
    if "\r\n" in text:
        errors.warn(
            "torque-tolerated",
            Pos(1, text.index("\r\n") + 1),
            "the file has Windows (CRLF) line endings; they were accepted",
            "save the file with Unix (LF) line endings",
        )
    return text


def parse_torque(data: bytes, path: str) -> tuple[Torque | None, list[Finding]]:
    """Parse and check one ``.torque``; returns the model (or None) and every finding."""
    errors = _Errors(path)
    text = decode(data, errors)
    if text is None:
        return None, errors.items
    try:
        result = parse(text)
    except JsonProblems as exc:
        for problem in exc.problems:
            errors.error("torque-syntax", problem.pos, problem.message, problem.fix)
        return None, errors.items
    for slip in result.tolerated:
        what = "a comment" if slip.kind == "comment" else "a trailing comma"
        more = f" ({slip.occurrences} in all)" if slip.occurrences > 1 else ""
        errors.warn(
            "torque-tolerated",
            slip.pos,
            f"{what} is not JSON; it was accepted{more}",
            "remove it so other JSON tools can read the file"
            if slip.kind == "comment"
            else "remove the comma before the closing bracket",
        )
    torque = _read_object(result.root, path, errors)
    return (None if errors.failed else torque), errors.items


def _type_error(errors: _Errors, key: str, node: JNode, expected: str, example: str) -> None:
    errors.error(
        "torque-schema",
        node.pos,
        f'"{key}" must be {expected}, not {node.describe()}',
        f"write it as {example}",
    )


def _read_object(root: JNode, path: str, errors: _Errors) -> Torque | None:
    if root.kind != "object":
        errors.error(
            "torque-schema",
            root.pos,
            f"the file holds {root.describe()}; a .torque must be one JSON object",
            'write an object such as {"start": "server.js"}',
        )
        return None
    positions: dict[str, Pos] = {}
    nodes: dict[str, JNode] = {}
    for key, pos, node in root.members:
        positions[key] = pos
        nodes[key] = node
        if key not in KNOWN_KEYS:
            from difflib import get_close_matches

            close = get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.6)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            errors.warn(
                "torque-unknown-key",
                pos,
                f'unknown key "{key}" was not converted',
                f"{hint}the keys a .torque can hold are {', '.join(KNOWN_KEYS)}",
            )
    start = _read_start(nodes.get("start"), root.pos, errors)
    route = _read_route(nodes.get("route"), errors)
    env = _read_env(nodes.get("env"), errors)
    parameters = _read_parameters(nodes.get("parameters"), errors)
    if start is None or env is None or parameters is None:
        return None
    values = {key: node.pos for key, node in nodes.items()}
    return Torque(path, start, route, env, parameters, positions, values)


def _read_start(node: JNode | None, object_pos: Pos, errors: _Errors) -> str | None:
    if node is None:
        errors.error(
            "torque-schema",
            object_pos,
            '"start" is missing; it names the script nodeSocket ran',
            'add "start": "server.js" (the Gear\'s entry script)',
        )
        return None
    if node.kind != "string":
        _type_error(errors, "start", node, "a string", '"start": "server.js"')
        return None
    start: str = node.value
    if not start.strip():
        errors.error(
            "torque-schema",
            node.pos,
            '"start" is empty',
            'name the Gear\'s entry script, for example "start": "server.js"',
        )
        return None
    normal = posixpath.normpath(start.replace("\\", "/"))
    if posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        errors.error(
            "start-outside-gear",
            node.pos,
            f'"start" points outside the Gear: {start}',
            "on dotCloud a service only has its approot; move the script into the Gear "
            "and give its path relative to the Gear",
        )
        return None
    return normal


def _read_route(node: JNode | None, errors: _Errors) -> str | None:
    if node is None or node.kind == "null":
        return None
    if node.kind != "string":
        _type_error(errors, "route", node, "a string", '"route": "127.0.0.1:3535"')
        return None
    value: str = node.value
    return value


def _read_env(node: JNode | None, errors: _Errors) -> tuple[EnvVar, ...] | None:
    if node is None or node.kind == "null":
        return ()
    if node.kind != "object":
        _type_error(errors, "env", node, "an object", '"env": {"NAME": "value"}')
        return None
    out: list[EnvVar] = []
    ok = True
    for key, pos, value in node.members:
        if value.kind == "string":
            out.append(EnvVar(key, value.value, "string", pos))
        elif value.kind in ("number", "true", "false"):
            # The text as written, so 1.10 stays "1.10" and 0755 stays digits.
            out.append(EnvVar(key, value.raw, value.kind, pos))
        elif value.kind in ("object", "array"):
            ok = False
            errors.error(
                "torque-schema",
                value.pos,
                f'env "{key}" holds {value.describe()}; environment variables are plain values',
                "flatten it into separate keys, or store it as a JSON string",
            )
        else:
            ok = False
            errors.error(
                "torque-schema",
                value.pos,
                f'env "{key}" is null; an environment variable needs a value',
                'give it a value (use "" for an empty one) or remove the key',
            )
    return tuple(out) if ok else None


def _read_parameters(node: JNode | None, errors: _Errors) -> tuple[str, ...] | None:
    if node is None or node.kind == "null":
        return ()
    if node.kind != "array":
        _type_error(errors, "parameters", node, "a list of strings", '"parameters": ["--verbose"]')
        return None
    out: list[str] = []
    ok = True
    for index, item in enumerate(node.items, start=1):
        if item.kind != "string":
            ok = False
            example = f'"{item.raw}"' if item.raw else '"--flag"'
            errors.error(
                "torque-schema",
                item.pos,
                f'"parameters" item {index} is {item.describe()}; parameters are strings',
                f"put it in double quotes: {example}",
            )
        else:
            out.append(item.value)
    return tuple(out) if ok else None
