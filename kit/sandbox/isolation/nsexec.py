"""``dotkit run`` and ``ssh``: a command inside a running container, as its ``dotcloud`` user.

The host computes nothing from the container's files. It joins the
container's control group, then ``nsenter`` enters the container's user,
mount, network, PID, UTS and IPC namespaces as uid 1000 (no capabilities),
``setpriv`` clears the bounding set, and the kit's in-container helper
(``cinit --exec``, on the container's own Python) loads the seccomp filter
and reads the app's environment *inside* before it becomes the command. An
``LD_PRELOAD`` or ``PATH`` that the app wrote into ``environment.json`` can
only ever reach processes inside its own container.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from kit.sandbox.isolation import cgroups, seccomp
from kit.sandbox.isolation.rootfs import GID, LIB, PATH, PRIVATE, UID

PYTHON = "/usr/bin/python3"


def inner_argv(command: list[str], seccomp_fd: int | None) -> list[str]:
    """What runs inside, after nsenter: privileges dropped, then the app's environment."""
    helper = [PYTHON, "-m", "kit.sandbox.cinit", "--exec", f"{PRIVATE}/cinit.json"]
    if seccomp_fd is not None:
        helper += ["--seccomp-fd", str(seccomp_fd)]
    setpriv = ["/usr/bin/setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    return [*setpriv, "--", *helper, "--", *command]


def nsenter_argv(nsenter: str, pid: int, command: list[str], seccomp_fd: int | None) -> list[str]:
    namespaces = ["--user", "--mount", "--net", "--pid", "--uts", "--ipc"]
    who = ["--setuid", str(UID), "--setgid", str(GID)]
    target = ["--target", str(pid)]
    return [nsenter, *target, *namespaces, *who, "--", *inner_argv(command, seccomp_fd)]


def inner_env(term: str | None) -> dict[str, str]:
    """The environment nsenter starts with: fixed values, none from the container."""
    env = {"PATH": PATH, "PYTHONPATH": LIB, "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    if term:
        env["TERM"] = term
    return env


def enter(plan: dict[str, Any]) -> None:
    """Join the container's group, then become nsenter (never returns)."""
    if plan.get("cgroup"):
        group = cgroups.Group(cgroups.discover(), Path(plan["cgroup"]))
        if group.enabled:
            group.attach(os.getpid())
    fd = None
    if plan.get("seccomp", True):
        fd = os.memfd_create("dotkit-seccomp", 0)  # inherited through nsenter and setpriv
        os.write(fd, seccomp.program())
        os.lseek(fd, 0, os.SEEK_SET)
    nsenter = shutil.which("nsenter") or "/usr/bin/nsenter"
    argv = nsenter_argv(nsenter, int(plan["pid"]), list(plan["command"]), fd)
    os.execve(nsenter, argv, inner_env(plan.get("term")))


def command_argv(
    pid: int, command: list[str], *, cgroup: str | None, term: str | None
) -> list[str]:
    plan = {"pid": pid, "command": command, "cgroup": cgroup, "term": term, "seccomp": True}
    return [sys.executable, "-m", "kit.sandbox.isolation.nsexec", json.dumps(plan)]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kit.sandbox.isolation.nsexec PLAN_JSON", file=sys.stderr)
        return 2
    try:
        enter(json.loads(argv[0]))
    except (OSError, ValueError, KeyError, TypeError, seccomp.SeccompUnavailable) as exc:
        print(f"dotkit: cannot enter the container: {exc}", file=sys.stderr)
        return 125
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
