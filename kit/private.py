"""Files that hold secrets: 0600, in folders only their owner can enter (0700).

Environment values, generated passwords and support bundles are written through
:func:`write_private`: a temporary file created with mode 0600 (never readable by
others, not even for a moment), then renamed into place, so a crash leaves the
old file or the new one, never half of one. The temporary file is created with
``O_EXCL | O_NOFOLLOW``: a link planted at its name is not followed.
"""

import contextlib
import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` and any missing parents made with mode 0700; an existing ``path`` of
    this user is narrowed to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    info = path.lstat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically, readable by its owner only."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
