"""Reading what the sandbox kept of a reproduction: the push, its logs, the environments,
and the versions of the tools that ran it. Nothing here is masked yet."""

from __future__ import annotations

import json
import platform
import shutil
from collections.abc import Sequence
from typing import Any

from kit.platform.model import Service
from kit.proc import CommandFailed, run
from kit.repro.model import InstanceEnv, LogTail
from kit.safeio import read_beneath, regular_files, regular_folders, tail_beneath
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.records import AppRecord

LOG_TAIL_LINES = 200
LOG_DIR = (".dotkit", "log")  # in a container's home
ENV_LIMIT = 4 * 1024 * 1024
BUILD_START = "Building the application..."
BUILD_END = "Application build is done"


def versions() -> dict[str, str]:
    """The kit, the tools the sandbox ran the app with, and the backend."""
    from kit import __version__
    from kit.sandbox.engine import backend_name

    backend = backend_name()
    found = {
        "dotkit": __version__,
        "python": platform.python_version(),
        "node": _tool_version("node", "--version"),
        "npm": _tool_version("npm", "--version"),
        "supervisord": _supervisor_version(),
        "backend": backend,
        "os": platform.platform(),
    }
    if backend == "bwrap":
        found["bubblewrap"] = _tool_version("bwrap", "--version")
    return found


def _tool_version(program: str, flag: str) -> str:
    if shutil.which(program) is None:
        return "missing"
    try:
        done = run([program, flag], timeout=30, check=False)
    except CommandFailed as exc:
        return f"unknown ({exc})"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else f"unknown (exit code {done.returncode})"


def _supervisor_version() -> str:
    try:
        from supervisor.options import VERSION
    except ImportError:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("supervisor")
        except PackageNotFoundError:
            return "missing"
    return str(VERSION)


def last_deployment(app: AppLayout) -> tuple[dict[str, Any], str]:
    """The latest deployment's record (its public keys) and its whole log ({} and ""
    when there is none)."""
    from kit.sandbox.state import deployment_log, list_deployments

    records = list_deployments(app)
    if not records:
        return {}, ""
    record = records[-1]
    path = deployment_log(app, record.id)
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return record.public(), text


def build_part(log: str) -> str:
    """The build's lines of a deployment log (to its end, if the build failed)."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.endswith(BUILD_START)), None)
    if start is None:
        return ""
    end = next((i for i in range(start, len(lines)) if lines[i].endswith(BUILD_END)), None)
    kept = lines[start : (end + 1 if end is not None else len(lines))]
    return "\n".join(kept) + "\n"


def instance_of(cid: str) -> str:
    """``www.0`` for the container ``www.0-d3`` (service names hold no ``-``)."""
    return cid.split("-", 1)[0]


def log_tails(app: AppLayout, lines: int = LOG_TAIL_LINES) -> list[LogTail]:
    """The last lines of every log of every container the app still has.

    A container writes its own logs: a link it leaves there is not followed (a log
    named ``web.log`` pointing at a host file would put that file in the bundle), a
    FIFO not waited on, and only the end of a huge log is read.
    """
    out: list[LogTail] = []
    for cid in regular_folders(app.containers):
        home = app.container(cid)
        for name in regular_files(home, *LOG_DIR, suffix=".log"):
            text, _ = tail_beneath(home, *LOG_DIR, name, lines=lines)
            out.append(LogTail(instance_of(cid), name, "\n".join(text) + "\n"))
    return out


def environments(
    layout: Layout, app_name: str, services: Sequence[Service], record: AppRecord
) -> list[InstanceEnv]:
    """Each container's environment.json; for a code service none of whose containers
    survived (a failed push), the one the push wrote, computed the same way."""
    from kit.sandbox.envfile import environment, port_names

    app = layout.app(app_name)
    out: list[InstanceEnv] = []
    seen: set[str] = set()
    for cid in regular_folders(app.containers):
        # The container's own copy: it may have replaced it (by a link, a FIFO, not JSON).
        try:
            env = json.loads(read_beneath(app.container(cid), "environment.json", limit=ENV_LIMIT))
        except (OSError, ValueError):
            continue
        if not isinstance(env, dict):
            continue
        out.append(InstanceEnv(instance_of(cid), {str(k): str(v) for k, v in env.items()}, False))
        seen.add(instance_of(cid).split(".")[0])
    tcp_ports = record.tcp_ports
    for svc in services:
        if not svc.is_code or svc.name in seen:
            continue
        if any(f"{s.name}.{p}" not in tcp_ports for s in services for p in port_names(s)):
            continue  # the push failed before it assigned the ports: nothing to compute from
        for index in range(record.instances(svc)):
            env = environment(
                app=app_name,
                services=services,
                service=svc,
                instance=index,
                tcp_ports=tcp_ports,
                public_ports=record.public_ports,
                app_env=record.env,
                passwords=record.passwords,
            )
            out.append(InstanceEnv(f"{svc.name}.{index}", env, True))
    return out
