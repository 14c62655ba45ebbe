"""How a container is started: bubblewrap namespaces, or plain processes as a fallback.

A container is a folder on the host (its ``/home/dotcloud``), a folder of Unix
sockets (``/run/dotkit/self`` inside), and a process tree started by
:mod:`kit.sandbox.cinit`. With bubblewrap each container is a boundary (see
:mod:`kit.sandbox.isolation`): its own user (an unprivileged ``dotcloud``),
network, PID, mount, UTS and IPC namespaces, no capabilities, a seccomp
filter, a root made of read-only system folders plus its own home, and
memory, process and CPU limits. Every instance can listen on 8080 and
``localhost`` is the container itself.
"""

import json
import os
import secrets
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from kit.sandbox.isolation.limits import Limits
    from kit.sandbox.isolation.rootfs import Box

HOME = "/home/dotcloud"
SELF_SOCKETS = "/run/dotkit/self"
SERVICE_SOCKETS = "/run/dotkit/services"
LOG_DIR = "/var/log/supervisor"
# The Python inside containers: Debian's, with Debian's supervisor package.
PYTHON = "/usr/bin/python3"


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
    backend: str  # "bwrap", "docker" or "process"
    # Limits (0: the platform's default) and more host folders to show read-only.
    memory: int = 0  # bytes, as set by `scale SERVICE:memory=`
    pids: int = 0
    cpu_shares: int = 0
    ro_binds: tuple[str, ...] = ()
    # The host folder of the Node.js build the container runs, shown read-only at
    # /opt/node and first on PATH ("": the machine's own node).
    node: str = ""
    # The docker backend's engine (DOCKER_HOST) and platform image ("": other backends).
    engine: str = ""
    image: str = ""

    def to_json(self) -> str:
        return json.dumps(self._asdict())

    @classmethod
    def from_json(cls, text: str) -> "ContainerSpec":
        data = json.loads(text)
        data["peers"] = [Peer(*p) for p in data["peers"]]
        data["ro_binds"] = tuple(data.get("ro_binds", ()))
        return cls(**data)


class Inside(NamedTuple):
    """Paths as the processes inside the container see them."""

    home: str
    sockets: str
    services: str
    logs: str
    netns: bool


BOXED = ("bwrap", "docker")  # the backends whose containers are boundaries


def boxed(backend: str) -> bool:
    """Whether ``backend`` runs containers (own root, user and network), not host processes."""
    return backend in BOXED


def inside(spec: ContainerSpec) -> Inside:
    if boxed(spec.backend):
        return Inside(HOME, SELF_SOCKETS, SERVICE_SOCKETS, LOG_DIR, True)
    return Inside(spec.home, spec.sockets, spec.services, f"{spec.home}/.dotkit/log", False)


def die_with_parent() -> None:
    """In a child before exec: be sent SIGTERM when the parent dies (PR_SET_PDEATHSIG).

    bubblewrap does this for its containers; the plain-process backend and the
    relays need it too, so that nothing outlives the process that owns it.
    """
    from kit.sandbox.pipe import die_with_parent as prctl_pdeathsig

    prctl_pdeathsig()


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _tool_prefixes() -> list[str]:
    """Where node and npm live, when that is outside /usr (shown read-only)."""
    paths = set()
    for tool in ("node", "npm"):
        found = shutil.which(tool)
        if found:
            prefix = str(Path(found).resolve().parent.parent)
            if not _under(prefix, ["/usr"]):
                paths.add(prefix)
    return sorted(paths)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def sandbox_key(spec: ContainerSpec) -> str:
    """What tells one sandbox ($DOTKIT_HOME) from another: its hidden state folders."""
    return "\0".join(spec.hidden) or "default"


def limits_of(spec: ContainerSpec, kind: str) -> "Limits":
    from kit.sandbox.isolation import limits

    if kind == "build":
        return limits.BUILD
    return limits.for_container(spec.memory, spec.pids, spec.cpu_shares)


def group_of(spec: ContainerSpec, kind: str = "service") -> tuple[str, str]:
    """(app, group name) of the container's control group.

    A build or hook gets a group of its own run (its launcher removes it at the
    end), so two at once never share one.
    """
    if kind == "service":
        return spec.app, spec.cid
    return spec.app, f"{spec.cid}-{kind}-{secrets.token_hex(4)}"


def _box(spec: ContainerSpec, command: Sequence[str], kind: str, env: Mapping[str, str]) -> "Box":
    from kit.sandbox.isolation.rootfs import LIB, Box, hostname

    private = Path(spec.home) / ".dotkit"
    service = kind != "build" and private.is_dir() and not private.is_symlink()
    runtime = {"PYTHONPATH": LIB, "PYTHONDONTWRITEBYTECODE": "1"}
    return Box(
        kind=kind,
        home=spec.home,
        private=str(private) if service else None,
        logs=str(private / "log") if service else None,
        sockets=spec.sockets if kind == "service" else None,
        services=spec.services if kind == "service" else None,
        hostname=hostname(spec.service, spec.instance) if spec.service else "build",
        netns=kind != "build",
        hosts=hosts_file(spec),
        env={**runtime, **env},
        extra_ro=sorted({*spec.ro_binds, *_tool_prefixes()}),
        command=list(command),
        node=spec.node or None,
    )


def _bwrap_argv(
    spec: ContainerSpec, inner: list[str], kind: str, env: Mapping[str, str], info_fd: int | None
) -> list[str]:
    from kit.sandbox.isolation import plan

    if bwrap_path() is None:
        raise FileNotFoundError("bwrap")
    box = _box(spec, inner, kind, env)
    app, cid = group_of(spec, kind)
    made = plan.make(
        box,
        sandbox=sandbox_key(spec),
        app=app or "-",
        cid=cid,
        limits=limits_of(spec, kind),
        info_fd=info_fd,
        wait=kind != "service",
    )
    return plan.launcher_argv(made)


def _docker_argv(
    spec: ContainerSpec, inner: list[str], kind: str, env: Mapping[str, str], info_fd: int | None
) -> list[str]:
    """The same container on the Docker engine ``spec.engine`` names."""
    from kit.engine.image import build_ref
    from kit.sandbox import dockerbox
    from kit.sandbox.isolation.plan import host_user

    if not spec.engine or not spec.image:
        raise ValueError(f"container {spec.cid} names no Docker engine and image")
    uid, gid = host_user(sandbox_key(spec))
    plan = dockerbox.DockerPlan(
        box=_box(spec, inner, kind, env),
        name=dockerbox.container_name(sandbox_key(spec), spec.app, spec.cid, kind),
        image=build_ref(spec.image) if kind == "build" else spec.image,
        engine=spec.engine,
        uid=uid,
        gid=gid,
        limits=limits_of(spec, kind),
        sandbox=dockerbox.sandbox_label(sandbox_key(spec)),
        info_fd=info_fd,
    )
    return dockerbox.launcher_argv(plan)


def isolated_argv(
    spec: ContainerSpec,
    command: Sequence[str],
    *,
    netns: bool = True,
    kind: str | None = None,
    env: Mapping[str, str] = {},
    app_env: bool = False,
    info_fd: int | None = None,
) -> list[str]:
    """The host command that runs ``command`` in ``spec``'s container, isolated, on its
    backend: bubblewrap (:mod:`kit.sandbox.isolation`) or a Docker engine
    (:mod:`kit.sandbox.dockerbox`).

    ``kind`` is "service" (the container's long-running tree), "build"
    (``netns=False``: the host's network, for npm) or "hook" (postinstall,
    in a fresh instance of the service's container). ``env`` is what the
    command starts with; ``app_env`` adds the app's environment, read *inside*
    the container from the platform's ``~/.dotkit/cinit.json``. Start the
    command with :func:`host_env` as its environment, never the app's.
    """
    from kit.sandbox.isolation.rootfs import PRIVATE

    kind = kind or ("hook" if netns else "build")
    inner = list(command)
    if app_env:
        inner = [PYTHON, "-m", "kit.sandbox.cinit", "--exec", f"{PRIVATE}/cinit.json", "--", *inner]
    start = _docker_argv if spec.backend == "docker" else _bwrap_argv
    return start(spec, inner, kind, env, info_fd)


def discard(spec: ContainerSpec) -> None:
    """Remove a stopped container's remains: on the docker backend, the engine's
    container (its launcher removes it, unless the launcher was killed first)."""
    if spec.backend != "docker":
        return
    from kit.sandbox import dockerbox

    name = dockerbox.container_name(sandbox_key(spec), spec.app, spec.cid)
    dockerbox.remove(spec.engine, name)


def host_env(spec: ContainerSpec | None = None) -> dict[str, str]:
    """The environment of the host processes that start ``spec``'s containers."""
    from kit.sandbox.isolation.plan import launcher_env

    env = launcher_env()
    if spec is not None and spec.backend == "docker":
        env["DOCKER_HOST"] = spec.engine
    return env


def hosts_file(spec: ContainerSpec) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    named = {p.host: p for p in spec.peers}
    lines += [f"{p.ip}\t{p.host}" for p in named.values()]
    own = f"{spec.service}.{spec.app}.sandbox"
    if spec.app and own not in named:  # the service's own name is the container itself
        lines.append(f"127.0.0.1\t{own}")
    return "\n".join(lines) + "\n"


def cinit_command(spec: ContainerSpec) -> list[str]:
    config = f"{inside(spec).home}/.dotkit/cinit.json"
    python = PYTHON if boxed(spec.backend) else sys.executable
    return [python, "-m", "kit.sandbox.cinit", config]


def container_argv(spec: ContainerSpec, info_fd: int | None = None) -> list[str]:
    """The full command that starts the container's process tree."""
    command = cinit_command(spec)
    if boxed(spec.backend):
        return isolated_argv(spec, command, kind="service", info_fd=info_fd)
    return command


def process_env(spec: ContainerSpec, extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment the container's processes start with (Node.js's build first on
    PATH when the container runs one)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TERM", "TZ")}
    base.setdefault("PATH", os.defpath)
    if spec.node and boxed(spec.backend):
        from kit.sandbox.isolation.rootfs import NODE_BIN

        base["PATH"] = f"{NODE_BIN}:{base['PATH']}"
    home = inside(spec).home
    return {**base, **spec.env, "HOME": home, "USER": "dotcloud", **extra}
