"""Rendering the dotCloud build file and supervisord.conf as text.

Renderers are pure: they return text (or :class:`OutFile` objects) and one
writer in :mod:`kit.appfs` puts them on disk. Escaping is done for the target
format: YAML values are always double-quoted, so YAML 1.1 never reads
``yes``, ``0755`` or ``1.10`` as anything but a string; supervisord commands
are quoted with :func:`shlex.join` and ``%`` is doubled, because supervisord
expands ``%(name)s`` in every value.
"""

import json
import re
import shlex
from typing import Any, NamedTuple

import yaml

from kit.platform.facts import CURRENT

SUPERVISOR_PROGRAM = "node"
_UNCARRIABLE = re.compile("[\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# supervisord's parser ends a value at ";" or "#" preceded by whitespace, even
# inside shell quotes; an empty '' between them keeps the argument whole.
_INLINE_COMMENT = re.compile(r"(\s)([;#])")

_SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ServicePlan(NamedTuple):
    """One dotCloud service, as it will be written to ``dotcloud.yml``."""

    name: str
    approot: str
    node_version: str
    environment: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, str], ...]
    argv: tuple[str, ...]
    secret_keys: frozenset[str] = frozenset()


class _Quoted(str):
    """A string that must be written double-quoted."""


class _Dumper(_SafeDumper):  # type: ignore[misc]
    """Safe dumper that knows :class:`_Quoted`, without touching yaml's globals."""


def _represent_quoted(dumper: Any, data: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"')


_Dumper.add_representer(_Quoted, _represent_quoted)


def build_file_data(services: list[ServicePlan], *, mask: bool = False) -> dict[str, Any]:
    """The build file as plain data (secrets masked when asked)."""
    from kit.secrets import MASK, shown_value

    data: dict[str, Any] = {}
    for svc in services:
        body: dict[str, Any] = {"type": "nodejs", "approot": svc.approot}
        body["config"] = {"node_version": svc.node_version}
        if svc.ports:
            body["ports"] = dict(svc.ports)
        if svc.environment:
            env: dict[str, Any] = {}
            for key, value in svc.environment:
                if mask:
                    value = MASK if key in svc.secret_keys else shown_value(key, value)
                env[key] = _Quoted(value)
            body["environment"] = env
        data[svc.name] = body
    return data


def one_line(name: str) -> str:
    """A folder's name as a comment can carry it: a line break or another unprintable
    character written as an escape, so a name can never start a line of its own (a
    ``[program:...]`` section, a YAML key)."""
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in name)


def render_build_file(services: list[ServicePlan], *, source: str, mask: bool = False) -> str:
    header = (
        f"# dotCloud build file, converted by dotkit from the nodeSocket app {one_line(source)}.\n"
        "# One service per Gear; indent with spaces, never tabs.\n"
    )
    body: str = yaml.dump(
        build_file_data(services, mask=mask),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
    )
    return header + body


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key in a YAML text, by key path."""
    root = yaml.compose(text, Loader=_SafeLoader)
    lines: dict[tuple[str, ...], int] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key_path = (*path, str(key_node.value))
                lines[key_path] = key_node.start_mark.line + 1
                stack.append((key_path, value_node))
    return lines


class UncarriableValue(ValueError):
    """A value that supervisord.conf cannot hold unchanged."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


def supervisor_command(argv: tuple[str, ...]) -> str:
    """The ``command =`` value: shell-quoted argv, safe from supervisord's parsing."""
    for arg in argv:
        bad = _UNCARRIABLE.search(arg)
        if bad:
            what = "a NUL character" if bad.group() == "\x00" else f"a line break ({bad.group()!r})"
            raise UncarriableValue(
                arg, f"it holds {what}, which a supervisord.conf value cannot carry"
            )
    joined = shlex.join(argv)
    joined = _INLINE_COMMENT.sub(r"\1''\2", joined)
    return joined.replace("%", "%%")


def render_supervisord(argv: tuple[str, ...], *, source: str) -> tuple[str, int]:
    """The Gear's supervisord.conf, and the 1-based line of its ``command``."""
    text = (
        f"; supervisord program for this service, converted by dotkit from {one_line(source)}.\n"
        f"[program:{SUPERVISOR_PROGRAM}]\n"
        f"command = {supervisor_command(argv)}\n"
        f"directory = {CURRENT}\n"
    )
    return text, 3
