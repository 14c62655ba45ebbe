"""Where the kit keeps its state: ``$DOTKIT_HOME``, else the XDG data folder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def home_path() -> str:
    """``$DOTKIT_HOME``, else ``$XDG_DATA_HOME/dotkit``, else ``~/.local/share/dotkit``.

    A string, so the verify client can ask without importing pathlib.
    """
    explicit = os.environ.get("DOTKIT_HOME")
    if explicit:
        return explicit
    base = os.environ.get("XDG_DATA_HOME") or f"{os.path.expanduser('~')}/.local/share"  # noqa: PTH111
    return f"{base}/dotkit"


def dotkit_home() -> Path:
    from pathlib import Path

    return Path(home_path())


def cache_dir() -> Path:
    return dotkit_home() / "cache"
