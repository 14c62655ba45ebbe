"""The sandbox's private folders: ``$DOTKIT_HOME`` and its socket folder, owner-only.

Everything of a sandbox sits in two folders only its owner can enter (mode
0700): ``$DOTKIT_HOME`` (state, passwords, environments, the platform socket,
the containers' homes) and the short socket folder of
:func:`kit.sandbox.layout.runtime_folder` (the relays and supervisord sockets).
A folder that already exists is used only when it is a real folder (not a link)
of this user; anything else means another user made it first, and the sandbox
refuses to put anything in it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kit.errors import KitError
from kit.sandbox.layout import RUNTIME_MAX, Layout

DIR_MODE = 0o700


class UnsafeFolder(KitError):
    """A folder the sandbox must own alone is someone else's, or cannot be used."""


def own_folder(path: Path) -> Path:
    """``path`` as a folder only this user can enter: made with mode 0700 when missing;
    an existing one must be a folder (not a link) of this user, and is narrowed to 0700."""
    try:
        path.mkdir(DIR_MODE)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UnsafeFolder(f"cannot make the folder {path}: {exc.strerror}") from None
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolder(
            f"{path} should be a folder of the sandbox, and is a link or a file; "
            "remove it (nothing of the sandbox is in it)"
        )
    if info.st_uid != os.geteuid():
        raise UnsafeFolder(
            f"{path} belongs to another user (uid {info.st_uid}); the sandbox keeps its "
            "sockets and secrets only in folders of its own. Remove it, or choose another "
            "DOTKIT_HOME"
        )
    if stat.S_IMODE(info.st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE, follow_symlinks=False)
    return path


def ensure_home(layout: Layout) -> Layout:
    """``$DOTKIT_HOME`` and its ``platform`` folder, owner-only (their parents as they are)."""
    home = layout.home
    try:
        home.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnsafeFolder(f"cannot make the folder {home.parent}: {exc.strerror}") from None
    own_folder(home)
    own_folder(layout.platform)
    return layout


def ensure_runtime(layout: Layout, runtime: Path | None = None) -> Path:
    """The sandbox's socket folder (``layout.runtime`` unless told), made owner-only;
    refused when it is too long to hold Unix sockets (paths of at most 107 bytes)."""
    runtime = layout.runtime if runtime is None else runtime
    if len(str(runtime)) > RUNTIME_MAX:
        raise UnsafeFolder(
            f"the sandbox's socket folder {runtime} is too long for Unix sockets "
            f"(at most {RUNTIME_MAX} characters here): log in with a session that has "
            f"/run/user/{os.geteuid()}, or set DOTKIT_HOME to a shorter path"
        )
    if runtime.parent == layout.home.resolve():
        ensure_home(layout)
    return own_folder(runtime)
