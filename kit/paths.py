"""Where the kit keeps its state: ``$DOTKIT_HOME``, else the XDG data folder."""

import os
from pathlib import Path


def dotkit_home() -> Path:
    """``$DOTKIT_HOME``, else ``$XDG_DATA_HOME/dotkit``, else ``~/.local/share/dotkit``."""
    explicit = os.environ.get("DOTKIT_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "dotkit"


def cache_dir() -> Path:
    return dotkit_home() / "cache"
