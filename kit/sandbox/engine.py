"""Which container backend this machine gives the sandbox."""

from __future__ import annotations

import os

from kit.sandbox.backend import bwrap_path


def backend_name() -> str:
    """bubblewrap where it is installed; ``DOTKIT_BACKEND=process`` forces the fallback."""
    forced = os.environ.get("DOTKIT_BACKEND")
    if forced in ("bwrap", "process"):
        return forced
    return "bwrap" if bwrap_path() else "process"
