"""The platform image's Debian root file system, from the Debian package registry.

``debootstrap --variant=minbase`` from the mirror apt is configured with, plus
the packages a service container needs (supervisor, HAProxy for the router,
redis-server for the redis data service), the ``dotcloud`` user and its home,
and no package caches. The result is a tarball kept in a cache under a name
made from its inputs, so it is rebuilt only when they change.
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
UID = 1000
# Bump when the steps below change, so cached root file systems are not reused.
RECIPE = "1"
_DROPPED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
            "var/cache/apt", "var/lib/apt/lists")  # fmt: skip
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
        for rel in _DROPPED:
            shutil.rmtree(root / rel, ignore_errors=True)
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
