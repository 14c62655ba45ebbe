"""What a container sees: its root assembled from read-only binds, and the bubblewrap flags.

Pure functions of a :class:`Box`, the description of one container (a
service, a build, or a hook run in a service's container). The root holds the
system directories read-only (``/usr`` and the few ``/etc`` files programs
read), a generated ``/etc/passwd`` and ``/etc/group`` with the ``dotcloud``
user, ``/etc/hosts`` and a host name, a private ``/tmp``, the container's own
home read-write with the platform's files (``~/.dotkit``) read-only over it,
and the handful of kit modules its first process runs. Nothing else of the
host: no other home, no ``/root``, no ``/work``, no ``$DOTKIT_HOME``.
"""

import re
from pathlib import Path
from typing import NamedTuple

UID = 1000  # the dotcloud user inside every container, as on the platform
GID = 1000
HOME = "/home/dotcloud"
PRIVATE = f"{HOME}/.dotkit"
SELF_SOCKETS = "/run/dotkit/self"
SERVICE_SOCKETS = "/run/dotkit/services"
LOG_DIR = "/var/log/supervisor"
PIDFILE = "supervisord.pid"
LIB = "/opt/dotkit/lib"  # where the kit's runtime modules appear inside
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NODE_DIR = "/opt/node"  # the Node.js build a service runs, when it runs one
NODE_BIN = f"{NODE_DIR}/bin"
# Where supervisorctl finds the container's supervisord, as on the platform.
SUPERVISOR_SOCKET_DIR = "/var/dotcloud"

# Top-level links or folders of a merged-/usr Debian, shown as they are on the host.
TOP = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs read from /etc; everything else there stays hidden.
ETC = (
    "/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/ca-certificates.conf",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
    "/etc/timezone", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
    "/etc/protocols", "/etc/services", "/etc/mime.types", "/etc/profile", "/etc/profile.d",
    "/etc/bash.bashrc", "/etc/shells", "/etc/inputrc", "/etc/terminfo", "/etc/os-release",
    "/etc/debian_version", "/etc/login.defs", "/etc/environment",
)  # fmt: skip
BUILD_ETC = ("/etc/resolv.conf",)  # only builds reach the network, for npm
# The kit modules a container's first process needs (cinit, relays) and a data service's
# one-time steps (kit.sandbox.steps), nothing more.
RUNTIME = (
    "kit/__init__.py",
    "kit/sandbox/__init__.py",
    "kit/sandbox/cinit.py",
    "kit/sandbox/steps.py",
    "kit/sandbox/relay.py",
    "kit/sandbox/pipe.py",
)
_HOSTNAME = re.compile(r"[^a-z0-9-]+")


class Box(NamedTuple):
    """One container, in host paths."""

    kind: str  # "service" (long-running), "build" or "hook"
    home: str  # shown read-write at /home/dotcloud
    private: str | None  # the platform's files, shown read-only at ~/.dotkit
    logs: str | None  # shown read-write at /var/log/supervisor
    sockets: str | None  # the container's own sockets (router, supervisord), read-write
    services: str | None  # the app's service endpoints, read-only
    hostname: str
    netns: bool  # own network namespace (services); builds share the host's
    hosts: str  # the content of /etc/hosts
    env: dict[str, str]  # the environment the command starts with (no secrets)
    extra_ro: list[str]  # more host folders shown read-only at the same path
    command: list[str]
    node: str | None = None  # a Node.js build, shown read-only at /opt/node


# Names in a home that the platform writes after the build, as root on the host.
RESERVED = ("environment.json", "environment.yml", ".dotkit")


def scrub_reserved(home: Path) -> list[str]:
    """Remove what a build left at the platform's own names in ``home``; the names removed.

    A hook could leave ``~/environment.json`` as a link to a host file, which
    the deploy would then write through. Links are removed, never followed.
    """
    import shutil

    removed = []
    for name in RESERVED:
        path = home / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            continue
        removed.append(name)
    return removed


def hostname(service: str, instance: int | None) -> str:
    """``www-0`` for instance 0 of www; letters, digits and dashes only."""
    base = _HOSTNAME.sub("-", service.lower()).strip("-")[:40] or "dotcloud"
    return base if instance is None else f"{base}-{instance}"


def passwd() -> str:
    return (
        "root:x:0:0:root:/root:/bin/sh\n"
        f"dotcloud:x:{UID}:{GID}:dotCloud:{HOME}:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )


def group() -> str:
    return f"root:x:0:\ndotcloud:x:{GID}:\nnogroup:x:65534:\n"


def host_binds(box: Box) -> list[tuple[str, str, bool]]:
    """(host folder, path inside, writable) of the box's own folders, in mount order."""
    binds = [(box.home, HOME, True)]
    if box.private:
        binds.append((box.private, PRIVATE, False))
        if box.sockets:  # supervisord's pidfile, the one writable file under ~/.dotkit
            binds.append((f"{box.sockets}/{PIDFILE}", f"{PRIVATE}/{PIDFILE}", True))
    if box.logs:
        binds.append((box.logs, LOG_DIR, True))
    if box.sockets:
        binds.append((box.sockets, SELF_SOCKETS, True))
    if box.services:
        binds.append((box.services, SERVICE_SOCKETS, False))
    binds += [(path, path, False) for path in box.extra_ro]
    if box.node:
        binds.append((box.node, NODE_DIR, False))
    return binds


def profile(box: Box) -> str:
    """``/etc/profile`` for a box that runs a Node.js build: login shells (hooks,
    ``process:`` lines, ``dotkit run``) find that node first."""
    return (
        "# /etc/profile, written by dotkit: Node.js from /opt/node comes first.\n"
        f'PATH="{NODE_BIN}:{PATH}"\n'
        "export PATH\n"
        "if [ -d /etc/profile.d ]; then\n"
        '  for i in /etc/profile.d/*.sh; do [ -r "$i" ] && . "$i"; done\n'
        "  unset i\n"
        "fi\n"
        'if [ "${PS1-}" ] && [ "${BASH-}" ] && [ "$BASH" != /bin/sh ] '
        "&& [ -f /etc/bash.bashrc ]; then\n"
        "  . /etc/bash.bashrc\n"
        "fi\n"
    )


def supervisorctl_conf() -> str:
    """``/etc/supervisord.conf``: where a bare ``supervisorctl`` finds the container's
    supervisord (the platform's socket was /var/dotcloud/supervisor.sock)."""
    return (
        "; written by dotkit: supervisorctl talks to this container's supervisord\n"
        "[supervisorctl]\n"
        f"serverurl = unix://{SUPERVISOR_SOCKET_DIR}/supervisor.sock\n"
    )


def data_files(box: Box, kit_root: Path) -> dict[str, bytes]:
    """Files made for the box, by their path inside: identity, names, the kit's runtime."""
    files = {
        "/etc/passwd": passwd().encode(),
        "/etc/group": group().encode(),
        "/etc/hosts": box.hosts.encode(),
        "/etc/hostname": f"{box.hostname}\n".encode(),
    }
    if box.kind != "build":
        files["/etc/supervisord.conf"] = supervisorctl_conf().encode()
    if box.node:
        files["/etc/profile"] = profile(box).encode()
    for rel in RUNTIME:
        files[f"{LIB}/{rel}"] = (kit_root / rel).read_bytes()
    return files


def system_args(exists: set[str] | None = None, links: dict[str, str] | None = None) -> list[str]:
    """The read-only system part of the root (links as links, missing paths skipped)."""
    links = links or {}
    args = ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/usr", "/usr"]
    for path in TOP:
        if path in links:
            args += ["--symlink", links[path], path]
        elif exists is None or path in exists:
            args += ["--ro-bind-try", path, path]
    for path in ETC:
        args += ["--ro-bind-try", path, path]
    return args


def bwrap_args(
    box: Box,
    *,
    staged: dict[str, str],
    data_fds: dict[str, int],
    seccomp_fd: int | None,
    info_fd: int | None,
    system: list[str],
    netns_ready: bool = False,
) -> list[str]:
    """bubblewrap's arguments (without the program name) for ``box``.

    ``staged`` maps each path inside to the host path bubblewrap binds from;
    ``data_fds`` the descriptors holding each generated file. ``netns_ready``:
    the launcher already made the box's network namespace (as root, so that
    the container has no power over it and may bind ports below 1024).
    """
    args = ["--unshare-user", "--uid", str(UID), "--gid", str(GID)]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    args += ["--hostname", box.hostname]
    if box.netns and not netns_ready:
        args.append("--unshare-net")  # bubblewrap brings its loopback up
    args += ["--cap-drop", "ALL", "--die-with-parent", "--new-session"]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += system
    if box.kind == "build":
        for path in BUILD_ETC:
            args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"]
    # A private /tmp, sticky and open to all as on any Unix (the container's user owns it).
    args += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp"]
    args += ["--tmpfs", "/run", "--dir", "/home"]
    for _, inside, writable in host_binds(box):
        args += ["--bind" if writable else "--ro-bind", staged[inside], inside]
    if box.sockets:  # the platform's path to supervisord's socket
        args += ["--symlink", SELF_SOCKETS, SUPERVISOR_SOCKET_DIR]
    for inside, fd in sorted(data_fds.items()):
        args += ["--perms", "0444", "--ro-bind-data", str(fd), inside]
    args += ["--clearenv"]
    path = f"{NODE_BIN}:{PATH}" if box.node else PATH
    env = {"HOME": HOME, "USER": "dotcloud", "LOGNAME": "dotcloud", "PATH": path}
    env.update(LANG="C.UTF-8", **box.env)
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    args += ["--chdir", HOME]
    return [*args, "--", *box.command]
