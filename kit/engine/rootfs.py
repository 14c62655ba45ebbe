"""The platform image's Debian root file system, from the Debian package registry.

``debootstrap --variant=minbase`` from the mirror apt is configured with, plus
the packages a service container needs (supervisor, HAProxy for the router,
redis-server for the redis data service), the ``dotcloud`` user and its home,
and no package caches. The result is a tarball kept in a cache under a name
made from its inputs, so it is rebuilt only when they change.

A second root file system (:func:`sql_spec`) adds MariaDB and PostgreSQL,
servers and clients, for the apps that have a mysql or postgresql service:
only those pay for their size (on a ``vfs`` engine, every container copies
its image). The clusters the packages create on installation are removed: a
data service initialises its own in its ``~/data``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kit.engine.mounts import unmount_under
from kit.errors import OperationFailed
from kit.platform.facts import DATA, HOME, SUPERVISOR_LOG_DIR, SUPERVISOR_SOCKET, USER
from kit.proc import run

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("supervisor", "haproxy", "redis-server")
SQL_PACKAGES = ("mariadb-server", "postgresql")
# Where the SQL root file system has the servers and their initialisers (Debian 12:
# PostgreSQL 15); checked when it is built, so that a change of suite cannot go unseen.
SQL_PROGRAMS = {
    "mariadbd": "/usr/sbin/mariadbd",
    "mariadb-install-db": "/usr/bin/mariadb-install-db",
    "postgres": "/usr/lib/postgresql/15/bin/postgres",
    "initdb": "/usr/lib/postgresql/15/bin/initdb",
}
UID = 1000
# Bump when the steps below change, so cached root file systems are not reused.
RECIPE = "2"
_DROPPED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
            "var/cache/apt", "var/lib/apt/lists",
            # the clusters MariaDB's and PostgreSQL's packages make as they install
            "var/lib/mysql", "var/lib/postgresql/15/main", "etc/postgresql/15/main")  # fmt: skip
# PostgreSQL's JIT and the LLVM it loads: a third of the SQL root file system, for a
# speed-up of long analytic queries only. Without its provider PostgreSQL plans
# without JIT and says nothing (the jit_provider setting's documented behaviour).
_DROPPED_GLOBS = ("usr/lib/postgresql/*/lib/llvmjit*", "usr/lib/postgresql/*/lib/bitcode",
                  "usr/lib/*/libLLVM-*", "usr/lib/*/libz3.so*")  # fmt: skip
_URI = re.compile(r"^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", re.MULTILINE)


class RootfsSpec(NamedTuple):
    suite: str
    mirror: str
    packages: tuple[str, ...]

    @property
    def key(self) -> str:
        text = "\n".join([RECIPE, self.suite, self.mirror, *self.packages, HOME, USER, str(UID)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def apt_mirror(sources: list[str]) -> str:
    """The first Debian archive among apt's sources (``deb.debian.org`` if none)."""
    for text in sources:
        for uri in map(str, _URI.findall(text)):
            if uri.rstrip("/").endswith("/debian") and uri.startswith(("http://", "https://")):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def default_spec() -> RootfsSpec:
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return RootfsSpec(SUITE, apt_mirror(texts), PACKAGES)


def sql_spec(spec: RootfsSpec) -> RootfsSpec:
    """``spec`` with MariaDB and PostgreSQL (servers and clients)."""
    return spec._replace(packages=spec.packages + SQL_PACKAGES)


def missing_programs(spec: RootfsSpec, root: Path) -> list[str]:
    """The :data:`SQL_PROGRAMS` that a root file system with the SQL packages lacks."""
    if not set(SQL_PACKAGES) <= set(spec.packages):
        return []
    return [path for path in SQL_PROGRAMS.values() if not (root / path.lstrip("/")).is_file()]


def _setup_commands(root: Path) -> list[list[str]]:
    chroot = ["chroot", str(root)]
    owned = [SUPERVISOR_LOG_DIR, str(Path(SUPERVISOR_SOCKET).parent), DATA, f"{HOME}/.dotkit"]
    return [
        [*chroot, "useradd", "--create-home", "--home-dir", HOME, "--uid", str(UID),
         "--user-group", "--shell", "/bin/bash", USER],
        [*chroot, "mkdir", "-p", *owned],
        [*chroot, "chown", f"{USER}:{USER}", *owned],
    ]  # fmt: skip


def build_rootfs(spec: RootfsSpec, cache: Path, say: Callable[[str], None]) -> Path:
    """The tarball of the root file system for ``spec``, built unless cached."""
    tarball = cache / f"rootfs-{spec.key}.tar"
    if tarball.is_file():
        say(f"Debian {spec.suite} root file system: cached ({tarball.name})")
        return tarball
    if shutil.which("debootstrap") is None:
        raise OperationFailed("debootstrap is not installed (Debian package debootstrap)")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=cache))
    root = work / "root"
    try:
        say(f"debootstrap --variant=minbase {spec.suite} from {spec.mirror} (about a minute)")
        run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(spec.packages)}",
             spec.suite, str(root), spec.mirror],
            timeout=900,
        )  # fmt: skip
        for argv in _setup_commands(root):
            run(argv, timeout=60)
        if missing := missing_programs(spec, root):
            raise OperationFailed(
                f"Debian {spec.suite}'s MariaDB and PostgreSQL packages did not install "
                f"{', '.join(missing)}; the kit's SQL_PROGRAMS (kit/engine/rootfs.py) "
                "must follow the suite"
            )
        for rel in _DROPPED:
            shutil.rmtree(root / rel, ignore_errors=True)
        for pattern in _DROPPED_GLOBS:
            for path in root.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        (root / "var/cache/apt").mkdir(parents=True, exist_ok=True)
        (root / "var/lib/apt/lists").mkdir(parents=True, exist_ok=True)
        partial = work / "rootfs.tar"
        run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], timeout=600)
        partial.rename(tarball)
    finally:
        unmount_under(work)  # debootstrap mounts /proc and /sys while it works
        shutil.rmtree(work, ignore_errors=True)
    say(f"Debian {spec.suite} root file system: built ({tarball.name})")
    return tarball
