"""``python -m kit.sandbox.isolation.enter PLAN``: start one container, then become bubblewrap.

The host side of a container start, run as the platform's user (root here):

1. put itself in the container's control group (memory, process and CPU limits
   then hold for everything the container starts);
2. give the container's folders to the container's host user, without ever
   following a link the app could have planted;
3. (as root) in a mount namespace of its own, bind those folders under a
   staging tmpfs, because bubblewrap resolves every source path as the
   unprivileged user and the sandbox's state sits under folders only root can
   enter (``/root``, a 0700 ``$DOTKIT_HOME``);
4. put the generated files and the seccomp program in memory-backed files;
5. drop to the container's host user and exec bubblewrap with a clean
   environment. The process keeps its pid, so its parent still owns the
   container, and ``--die-with-parent`` still ties the two.

The plan is JSON made by :func:`kit.sandbox.isolation.plan.make` from the
platform's own state; nothing here reads a file the app can write.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

from kit.sandbox.isolation import cgroups, seccomp
from kit.sandbox.isolation.limits import Limits
from kit.sandbox.isolation.rootfs import (
    PIDFILE,
    Box,
    bwrap_args,
    data_files,
    host_binds,
    system_args,
)

STAGE = "/mnt"  # covered by a tmpfs in the launcher's own mount namespace only
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
KIT_ROOT = Path(__file__).resolve().parents[3]


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def give(path: Path, uid: int, gid: int, skip: frozenset[str] = frozenset()) -> None:
    """chown ``path`` and what it holds to uid:gid, never through a link.

    Folders below ``path`` already owned by ``uid`` are not entered: whatever is
    inside them was made by the container itself (what the platform writes as
    root is new, so its folder is root's and is walked). ``path`` itself is
    always entered: the platform adds to a home the container already owns (a
    build restored from its snapshot gets new code beside its node_modules).
    """
    _give(path, uid, gid, skip, top=True)


def _give(path: Path, uid: int, gid: int, skip: frozenset[str], *, top: bool) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if st.st_uid != uid or st.st_gid != gid:
        os.chown(path, uid, gid, follow_symlinks=False)
    elif not top and path.is_dir() and not path.is_symlink():
        return
    if not path.is_dir() or path.is_symlink():
        return
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.name in skip:
                continue
            if entry.is_dir(follow_symlinks=False):
                _give(Path(entry.path), uid, gid, frozenset(), top=False)
            else:
                st = entry.stat(follow_symlinks=False)
                if st.st_uid != uid or st.st_gid != gid:
                    os.chown(entry.path, uid, gid, follow_symlinks=False)


def _stage(box: Box) -> dict[str, str]:
    """Bind the box's folders under STAGE in a private mount namespace; inside path -> staged."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _check(libc.mount(b"tmpfs", STAGE.encode(), b"tmpfs", 0, b"mode=0755"), f"tmpfs on {STAGE}")
    staged: dict[str, str] = {}
    for index, (source, inside, _) in enumerate(host_binds(box)):
        target = f"{STAGE}/{index}"
        fd = os.open(source, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            Path(target).mkdir()
        else:
            Path(target).touch()
        try:
            via = f"/proc/self/fd/{fd}".encode()
            _check(libc.mount(via, target.encode(), None, MS_BIND | MS_REC, None), f"bind {source}")
        finally:
            os.close(fd)
        staged[inside] = target
    return staged


def _network() -> None:
    """A network namespace of its own, owned by root: loopback up, every port bindable.

    Made here rather than by bubblewrap so that it belongs to the host's user
    namespace: the container cannot reconfigure it, and its unprivileged user
    may still listen on port 80 (the platform's HTTP peers) like the platform's did.
    """
    import fcntl
    import socket
    import struct

    _check(_libc().unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))  # SIOCSIFFLAGS
    Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").write_text("0")


def _pidfiles(private: Path, sockets: Path) -> None:
    """supervisord's pidfile: a file of the container's, shown at ~/.dotkit/supervisord.pid."""
    for folder in (private, sockets):
        fd = os.open(
            folder / PIDFILE, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
        )
        os.close(fd)


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)  # inherited by bubblewrap, which reads it
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _system() -> list[str]:
    links = {}
    exists = set()
    for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if Path(path).is_symlink():
            links[path] = str(Path(path).readlink())
        elif Path(path).is_dir():
            exists.add(path)
    return system_args(exists, links)


def _drop(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def _die_with_parent() -> None:
    """A waiting launcher ends with whoever started it (bubblewrap then ends the box)."""
    import signal

    parent = os.getppid()
    _libc().prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(137)


def launch(plan: dict[str, Any]) -> int:
    """Start the box: exec bubblewrap, or (with ``wait``) run it and clean up after it."""
    if plan.get("wait"):
        _die_with_parent()
    box = Box(**plan["box"])
    uid, gid = int(plan["uid"]), int(plan["gid"])
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    group = None
    if plan.get("cgroup"):
        group = cgroups.Group(cgroups.discover(), Path(plan["cgroup"]["rel"]))
        group.create(Limits(*plan["cgroup"]["limits"]))
        if plan.get("wait"):
            group.sweep(f"-{box.kind}-")
    root = os.geteuid() == 0
    if box.private and box.sockets:
        _pidfiles(Path(box.private), Path(box.sockets))
    if root and uid != 0:
        give(Path(box.home), uid, gid, skip=frozenset({".dotkit"}))
        for path in (box.logs, box.sockets):
            if path:
                give(Path(path), uid, gid)
    staged = _stage(box) if root else {inside: src for src, inside, _ in host_binds(box)}
    if root and box.netns:
        _network()
    files = data_files(box, KIT_ROOT)
    fds = {inside: _memfd("dotkit-file", data) for inside, data in files.items()}
    filter_fd = _memfd("dotkit-seccomp", seccomp.program()) if plan.get("seccomp") else None
    args = bwrap_args(
        box,
        staged=staged,
        data_fds=fds,
        seccomp_fd=filter_fd,
        info_fd=plan.get("info_fd"),
        system=_system(),
        netns_ready=root,
    )
    if plan.get("wait") and group is not None:
        _watch_over(group)
    child = os.fork() if plan.get("wait") else 0
    if child == 0:
        if group is not None:
            group.attach(os.getpid())
        if root and uid != 0:
            _drop(uid, gid)
        os.execve(bwrap, [bwrap, *args], {})
    for fd in [*fds.values(), *([filter_fd] if filter_fd is not None else [])]:
        os.close(fd)
    status = _wait(child)
    if group is not None:
        group.remove()
    return status


def _watch_over(group: cgroups.Group) -> None:
    """Leave a watcher that removes ``group`` once this launcher is gone, however it ends.

    A launcher killed outright (a push stopped with SIGKILL, or Ctrl-C, which
    kills its whole process group) cannot clean up; its box then dies with it
    (``--die-with-parent``), and the watcher, in a session of its own, sees
    the end of a pipe only the launcher holds and removes the emptied group.
    """
    read_end, write_end = os.pipe()  # both close-on-exec: bubblewrap never holds them
    first = os.fork()
    if first == 0:
        os.close(write_end)
        os.setsid()
        if os.fork() != 0:  # detach: the launcher reaps the first child at once
            os._exit(0)
        with contextlib.suppress(OSError):
            os.read(read_end, 1)  # returns at EOF: the launcher has ended
        with contextlib.suppress(cgroups.CgroupError, OSError):
            group.remove(timeout=10.0)
        os._exit(0)
    os.close(read_end)
    os.waitpid(first, 0)
    # write_end stays open, unused, for as long as this process lives.


def _wait(pid: int) -> int:
    """Wait for the box, passing on SIGTERM and SIGINT; its exit status."""
    import signal

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kit.sandbox.isolation.enter PLAN_JSON", file=sys.stderr)
        return 2
    try:
        status = launch(json.loads(argv[0]))
    except (OSError, ValueError, KeyError, TypeError, seccomp.SeccompUnavailable) as exc:
        print(f"dotkit: cannot start the container: {exc}", file=sys.stderr)
        return 125
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
