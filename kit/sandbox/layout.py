"""Where each piece of sandbox state lives under ``$DOTKIT_HOME``, and its sockets.

Pure: paths only (:mod:`kit.sandbox.rundir` makes the folders, owner-only).
"""

import hashlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kit.errors import UsageError

APP_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,29}")


def check_app_name(name: str) -> str:
    if not APP_NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid application name: use 1 to 30 lower-case letters, "
            "digits, - and _, starting with a letter or digit"
        )
    return name


# Unix socket paths are limited to 107 bytes, and the sandbox's run as long as
# RUNTIME/<app>/c/<cid>/supervisor.sock: 34 bytes for RUNTIME (/run/user/UID/dotkit-
# and a digest) leave 73 for the rest (a 30-letter app with the container www.0-d1).
RUNTIME_MAX = 34


def _private_base(path: str, euid: int) -> bool:
    """Whether only ``euid`` (and root) can create entries in folder ``path``."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid in (euid, 0)
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def runtime_folder(
    home: Path, *, euid: int | None = None, private: Callable[[str, int], bool] = _private_base
) -> Path:
    """Where a sandbox's Unix sockets go: short (a socket's path has 107 bytes) and in
    a folder nobody else can create entries in, so that no other local user can make
    the sandbox's folder first and hijack its sockets (never a shared ``/tmp``).

    For root ``/run``; for a user the login's ``/run/user/UID`` (0700, theirs);
    else the home's own ``run`` folder (:func:`kit.sandbox.rundir.ensure_runtime`
    refuses it when it is too long for sockets). The choice depends on the user and
    the machine, never on a variable, so the CLI and the platform process agree.
    """
    euid = os.geteuid() if euid is None else euid
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:10]
    base = "/run" if euid == 0 else f"/run/user/{euid}"
    if private(base, euid):
        return Path(base) / f"dotkit-{digest}"
    return home.resolve() / "run"


class Layout(NamedTuple):
    home: Path

    @property
    def platform(self) -> Path:
        return self.home / "platform"

    @property
    def socket(self) -> Path:
        return self.platform / "platform.sock"

    @property
    def pidfile(self) -> Path:
        return self.platform / "platform.pid"

    @property
    def lockfile(self) -> Path:
        return self.platform / "platform.lock"

    @property
    def keeper_lock(self) -> Path:
        return self.platform / "keeper.lock"

    @property
    def daemon_log(self) -> Path:
        return self.platform / "platform.log"

    @property
    def apps(self) -> Path:
        return self.home / "apps"

    @property
    def runtime(self) -> Path:
        """The sandbox's socket folder (see :func:`runtime_folder`)."""
        return runtime_folder(self.home)

    @property
    def hidden(self) -> list[str]:
        """Host folders no container may see: the sandbox's state and its sockets."""
        return [str(self.home.resolve()), str(self.runtime)]

    def container_sockets(self, app: str, cid: str) -> Path:
        return self.runtime / app / "c" / cid

    def service_sockets(self, app: str) -> Path:
        """Router endpoints through which containers reach the app's services."""
        return self.runtime / app / "s"

    def app(self, name: str) -> "AppLayout":
        return AppLayout(self.apps / name, name)


class AppLayout(NamedTuple):
    root: Path
    name: str

    @property
    def meta(self) -> Path:
        return self.root / "app.json"

    @property
    def runtime(self) -> Path:
        """What the platform process runs for the app (written by it alone)."""
        return self.root / "runtime.json"

    @property
    def revisions(self) -> Path:
        return self.root / "revisions"

    def revision(self, rev: str) -> Path:
        return self.revisions / rev

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    def build_dir(self, service: str) -> Path:
        return self.builds / service

    @property
    def deployments(self) -> Path:
        return self.root / "deployments"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    def container(self, cid: str) -> Path:
        return self.containers / cid
