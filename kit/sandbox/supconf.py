"""The container's own supervisord.conf: the platform's part, then the app's.

The platform ran one supervisord per container that included the approot's
``supervisord.conf``, or programs generated from ``process``/``processes``.
A ``process`` line is a shell command line: it runs as ``/bin/sh -lc "exec LINE"``,
and that argv is written with :func:`shlex.join` (supervisord splits ``command``
with :mod:`shlex`), then ``%`` doubled (supervisord expands ``%(...)s``), so the
line reaches the shell exactly as dotcloud.yml wrote it. A program's name becomes a
section header and log file names, so it must be of :data:`PROGRAM_NAME`'s form.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from kit.platform.facts import CURRENT, SUPERVISORD_FILE
from kit.platform.names import PROGRAM_NAME
from kit.sandbox.backend import Inside


def _escape(value: str) -> str:
    return value.replace("%", "%%")


# supervisord's INI reader takes " ;" and " #" as the start of a comment, even inside
# quotes. shlex.join puts every argument holding whitespace, ";" or "#" in single
# quotes, so such a pair is always inside quotes, where '' (close, reopen) splits it.
_COMMENT_START = re.compile(r"(\s)(?=[;#])")


def program_command(line: str) -> str:
    """The ``command =`` value that runs the shell command ``line`` (one line)."""
    if "\n" in line or "\r" in line:
        raise ValueError("a command must be one line")
    quoted = shlex.join(["/bin/sh", "-lc", f"exec {line}"])
    return _escape(_COMMENT_START.sub(r"\1''", quoted))


def render(
    inside: Inside,
    *,
    include_app_conf: bool,
    process: str | None,
    processes: Mapping[str, str],
    service: str,
    app_conf_path: str | None = None,
    directory: str | None = None,
    stopsignals: Mapping[str, str] | None = None,
) -> str:
    lines = [
        "; supervisord for this container, written by the dotkit sandbox.",
        "[unix_http_server]",
        f"file = {inside.sockets}/supervisor.sock",
        "",
        "[supervisord]",
        "nodaemon = true",
        f"logfile = {inside.logs}/supervisord.log",
        f"pidfile = {inside.home}/.dotkit/supervisord.pid",
        f"childlogdir = {inside.logs}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl = unix://{inside.sockets}/supervisor.sock",
        "",
    ]
    signals = dict(stopsignals or {})
    commands = dict(processes)
    if process:
        commands[service] = process
    for name, command in commands.items():
        if not PROGRAM_NAME.fullmatch(name):  # dotcloud.yml's schema refuses it first
            raise ValueError(f"{name!r} cannot name a program")
        lines += [
            f"[program:{name}]",
            f"command = {program_command(command)}",
            f"directory = {directory or inside.home + '/current'}",
            f"stdout_logfile = {inside.logs}/{name}.log",
            f"stderr_logfile = {inside.logs}/{name}_error.log",
            *([f"stopsignal = {signals[name]}"] if name in signals else []),
            "",
        ]
    if include_app_conf:
        path = app_conf_path or f"{CURRENT}/{SUPERVISORD_FILE}"
        lines += ["[include]", f"files = {path}", ""]
    return "\n".join(lines)
