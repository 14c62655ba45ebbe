"""Where each piece of sandbox state lives under ``$DOTKIT_HOME``."""

import hashlib
import re
import tempfile
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
    def daemon_log(self) -> Path:
        return self.platform / "platform.log"

    @property
    def apps(self) -> Path:
        return self.home / "apps"

    @property
    def runtime(self) -> Path:
        """A short folder for Unix sockets, whose paths are limited to 107 bytes."""
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"dotkit-{digest}"

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
