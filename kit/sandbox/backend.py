"""How a container is started: bubblewrap namespaces, or plain processes as a fallback.

A container is a folder on the host (its ``/home/dotcloud``), a folder of Unix
sockets (``/run/dotkit/self`` inside), and a process tree started by
:mod:`kit.sandbox.cinit`. With bubblewrap each container gets its own network,
PID and mount namespaces: every instance can listen on 8080, ``localhost`` is
the container itself, and the sandbox's state (other containers' homes and
sockets) is hidden behind empty tmpfs mounts.
"""

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

HOME = "/home/dotcloud"
SELF_SOCKETS = "/run/dotkit/self"
SERVICE_SOCKETS = "/run/dotkit/services"
LOG_DIR = "/var/log/supervisor"


class Peer(NamedTuple):
    """Another service's endpoint, as this container reaches it."""

    host: str
    ip: str
    port: int
    socket: str  # file name in the app's service-sockets folder


class ContainerSpec(NamedTuple):
    cid: str
    app: str
    service: str
    instance: int
    home: str  # host path of the container's /home/dotcloud
    sockets: str  # host path of its socket folder
    services: str  # host path of the app's service endpoints folder
    env: dict[str, str]
    http: bool
    tcp_ports: dict[str, int]
    peers: list[Peer]
    hidden: list[str]  # host folders the container must not see
    backend: str  # "bwrap" or "process"

    def to_json(self) -> str:
        return json.dumps(self._asdict())

    @classmethod
    def from_json(cls, text: str) -> "ContainerSpec":
        data = json.loads(text)
        data["peers"] = [Peer(*p) for p in data["peers"]]
        return cls(**data)


class Inside(NamedTuple):
    """Paths as the processes inside the container see them."""

    home: str
    sockets: str
    services: str
    logs: str
    netns: bool


def inside(spec: ContainerSpec) -> Inside:
    if spec.backend == "bwrap":
        return Inside(HOME, SELF_SOCKETS, SERVICE_SOCKETS, LOG_DIR, True)
    return Inside(spec.home, spec.sockets, spec.services, f"{spec.home}/.dotkit/log", False)


def die_with_parent() -> None:
    """In a child before exec: be sent SIGTERM when the parent dies (PR_SET_PDEATHSIG).

    bubblewrap does this for its containers; the plain-process backend and the
    relays need it too, so that nothing outlives the process that owns it.
    """
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _exposed() -> list[str]:
    """Host folders the container needs even when they sit under a hidden one."""
    kit_root = Path(__file__).resolve().parents[2]
    paths = {sys.prefix, sys.base_prefix, str(kit_root)}
    for tool in ("node", "npm"):
        found = shutil.which(tool)
        if found:
            paths.add(str(Path(found).resolve().parent.parent))
    return sorted(paths)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def bwrap_argv(spec: ContainerSpec, command: Sequence[str], *, netns: bool = True) -> list[str]:
    """bubblewrap arguments running ``command`` inside ``spec``'s container."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise FileNotFoundError("bwrap")
    hidden = ["/home", "/run", "/var/log", *spec.hidden]
    argv = [bwrap, "--dev-bind", "/", "/"]
    for path in hidden:
        if Path(path).is_dir():
            argv += ["--tmpfs", path]
    for path in _exposed():
        if _under(path, hidden):
            argv += ["--ro-bind", path, path]
    hosts = Path(spec.home) / ".dotkit" / "hosts"
    argv += [
        "--bind", spec.home, HOME,
        "--bind", spec.sockets, SELF_SOCKETS,
        "--bind", spec.services, SERVICE_SOCKETS,
        "--bind", f"{spec.home}/.dotkit/log", LOG_DIR,
    ]  # fmt: skip
    if hosts.exists():
        argv += ["--ro-bind", str(hosts), "/etc/hosts"]
    if netns:
        argv += ["--unshare-net", "--cap-add", "CAP_NET_ADMIN"]
    # A procfs of the container's own PID namespace: `ps` inside shows only its processes.
    argv += ["--unshare-pid", "--proc", "/proc", "--die-with-parent", "--chdir", HOME]
    argv += ["--setenv", "HOME", HOME]
    return [*argv, "--", *command]


def hosts_file(spec: ContainerSpec) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{p.ip}\t{p.host}" for p in {p.host: p for p in spec.peers}.values()]
    if spec.app:  # the service's own name is the container itself
        lines.append(f"127.0.0.1\t{spec.service}.{spec.app}.sandbox")
    return "\n".join(lines) + "\n"


def cinit_command(spec: ContainerSpec) -> list[str]:
    config = f"{inside(spec).home}/.dotkit/cinit.json"
    return [sys.executable, "-m", "kit.sandbox.cinit", config]


def container_argv(spec: ContainerSpec) -> list[str]:
    """The full command that starts the container's process tree."""
    command = cinit_command(spec)
    if spec.backend == "bwrap":
        return bwrap_argv(spec, command)
    return command


def process_env(spec: ContainerSpec, extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment the container's processes start with."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TERM", "TZ")}
    base.setdefault("PATH", os.defpath)
    home = inside(spec).home
    return {**base, **spec.env, "HOME": home, "USER": "dotcloud", **extra}
