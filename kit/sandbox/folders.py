"""Connected folders: ``.dotcloud/config``, as the real CLI (0.9.8) wrote and read it.

A folder is connected to an application when it, or a folder above it, has this
file; commands run there act on that application. It is the real CLI's file, with
the real CLI's keys (its ``version`` is the CLI's), so it carries no ``format``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.platform.facts import CLI_VERSION, CONFIG_DIR
from kit.sandbox.fields import Fields
from kit.sandbox.records import APP
from kit.sandbox.state import read_record, write_json

MAX_PARENTS = 256


@dataclass(frozen=True)
class FolderConfig:
    """A connected folder's ``.dotcloud/config``, as the real CLI wrote it."""

    application: str
    version: str
    push_protocol: str = "rsync"
    push_branch: str | None = None

    def to_data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_data(cls, data: object, where: str, hint: str) -> FolderConfig:
        f = Fields(data, where, hint)
        return cls(
            application=f.text("application", pattern=APP),
            version=f.text("version", ""),
            push_protocol=f.text("push_protocol", "rsync"),
            push_branch=f.optional_text("push_branch"),
        )


def connected_folder(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` with a ``.dotcloud/config``, as the real
    CLI looks (the file is not read)."""
    here = start.resolve()
    for folder in [here, *here.parents][:MAX_PARENTS]:
        if (folder / CONFIG_DIR / "config").is_file():
            return folder
    return None


def find_connected(start: Path) -> tuple[Path, FolderConfig] | None:
    """The nearest connected folder and its config."""
    folder = connected_folder(start)
    if folder is None:
        return None
    config = folder / CONFIG_DIR / "config"
    return folder, read_record(config, FolderConfig.from_data, "run dotkit connect again")


def connect_folder(folder: Path, app: str, protocol: str = "rsync") -> Path:
    config = folder / CONFIG_DIR / "config"
    write_json(config, FolderConfig(app, CLI_VERSION, protocol, None).to_data())
    return config


def disconnect_folder(folder: Path) -> bool:
    config = folder / CONFIG_DIR / "config"
    if not config.exists():
        return False
    config.unlink()
    with contextlib.suppress(OSError):
        config.parent.rmdir()  # only when nothing else is in it
    return True
