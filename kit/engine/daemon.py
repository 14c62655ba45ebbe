"""A private Docker daemon: started for tests and benchmarks, and removed without a trace.

``dockerd`` runs with its own data root, exec root and socket under one folder,
so it never meets the machine's own daemon. On these machines it needs the
``vfs`` storage driver, no iptables rules, and no default bridge (two daemons
would fight over ``docker0``); user-defined networks still resolve names, and
Swarm mode works. :func:`stop_daemon` leaves nothing behind: containers,
Swarm state, networks, the daemon and its containerd, mounts and the folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

from kit.engine.docker import Engine, docker
from kit.engine.mounts import unmount_under
from kit.errors import OperationFailed
from kit.proc import run

_FLAGS = ("--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none")


class Daemon(NamedTuple):
    root: Path
    engine: Engine
    pid: int
    log: Path


def daemon_problem() -> str | None:
    """Why a private dockerd cannot be started here, or None."""
    if os.name != "posix" or not Path("/proc/self/mountinfo").exists():
        return "a private Docker daemon needs Linux"
    if os.geteuid() != 0:
        return "a private Docker daemon needs root (dockerd manages mounts and networks)"
    for program, package in (("dockerd", "docker.io"), ("docker", "docker.io")):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian package {package})"
    return None


def start_daemon(root: Path, *, timeout: float = 60.0) -> Daemon:
    """Start ``dockerd`` under ``root`` and wait until it answers."""
    problem = daemon_problem()
    if problem:
        raise OperationFailed(problem)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    sock = root / "docker.sock"
    log = root / "dockerd.log"
    argv = [
        shutil.which("dockerd") or "dockerd",
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "dockerd.pid"),
        "-H", f"unix://{sock}",
        *_FLAGS,
    ]  # fmt: skip
    with log.open("ab") as out:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    daemon = Daemon(root, Engine(f"unix://{sock}"), child.pid, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            break
        if sock.exists() and docker(daemon.engine, "info", check=False, timeout=10).returncode == 0:
            return daemon
        time.sleep(0.3)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
    stop_daemon(daemon)
    raise OperationFailed(f"dockerd did not start within {timeout:g} s:\n{tail}")


def _our_processes(root: Path) -> list[int]:
    """Processes whose command line names ``root``: the daemon, its containerd and shims."""
    found = []
    mark = str(root).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if mark in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _bridges(daemon: Daemon) -> list[str]:
    """The Linux bridges of the daemon's networks, to remove if it leaves them."""
    done = docker(
        daemon.engine, "network", "ls", "-q", "--filter", "driver=bridge", check=False, timeout=20
    )
    names = []
    for net in done.stdout.split():
        shown = docker(
            daemon.engine, "network", "inspect", "--format",
            '{{index .Options "com.docker.network.bridge.name"}}', net,
            check=False, timeout=20,
        )  # fmt: skip
        name = shown.stdout.strip()
        names.append(name if name and name != "<no value>" else f"br-{net[:12]}")
    return names


def _wind_down(daemon: Daemon) -> list[str]:
    """Remove everything the daemon runs, while it still answers; its bridges' names."""
    engine = daemon.engine
    if docker(engine, "info", check=False, timeout=10).returncode != 0:
        return []
    docker(engine, "swarm", "leave", "--force", check=False, timeout=60)
    ids = docker(engine, "ps", "-aq", check=False, timeout=30).stdout.split()
    if ids:
        docker(engine, "rm", "-f", "-v", *ids, check=False, timeout=120)
    bridges = _bridges(daemon)
    docker(engine, "network", "prune", "-f", check=False, timeout=60)
    return bridges


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_daemon(daemon: Daemon, *, remove: bool = True) -> None:
    """Stop the daemon and remove all it made; safe to call on a half-started one."""
    bridges = _wind_down(daemon)
    with contextlib.suppress(ProcessLookupError):
        os.kill(daemon.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(daemon.pid):
        time.sleep(0.2)
    _kill(_our_processes(daemon.root), signal.SIGKILL)
    for name in bridges:
        if Path("/sys/class/net", name).exists():
            run(["ip", "link", "delete", name], check=False, timeout=10)
    unmount_under(daemon.root)
    if remove:
        shutil.rmtree(daemon.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: ask the kernel
        return Path(f"/proc/{pid}").exists()
    return waited == 0


def init_swarm(daemon: Daemon) -> None:
    """Make the engine a one-node Swarm on the loopback address.

    Swarm's gateway bridge is made first under a name of this daemon's own, so
    two private daemons on one machine never share ``docker_gwbridge``.
    """
    bridge = f"dkgw{daemon.pid % 100000}"
    docker(
        daemon.engine, "network", "create",
        "-o", f"com.docker.network.bridge.name={bridge}",
        "-o", "com.docker.network.bridge.enable_icc=false",
        "docker_gwbridge",
    )  # fmt: skip
    # Ports of their own too: another Swarm on this machine may hold 2377 and 4789.
    manager, data = _free_port(socket.SOCK_STREAM), _free_port(socket.SOCK_DGRAM)
    docker(
        daemon.engine, "swarm", "init",
        "--advertise-addr", f"127.0.0.1:{manager}", "--listen-addr", f"127.0.0.1:{manager}",
        "--data-path-port", str(data),
        timeout=120,
    )  # fmt: skip


# Swarm takes its data-path (VXLAN) port only from the registered range, below the
# kernel's ephemeral ports: look for a free one there.
_SWARM_PORTS = range(40000, 49151)


def _free_port(kind: int) -> int:
    """A port free on the loopback address, in the range Swarm accepts."""
    start = secrets.randbelow(len(_SWARM_PORTS))
    for offset in range(len(_SWARM_PORTS)):
        port = _SWARM_PORTS[(start + offset) % len(_SWARM_PORTS)]
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OperationFailed("no free port between 40000 and 49151 for the Swarm")
