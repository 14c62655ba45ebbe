"""Names on the platform: services and environment variables."""

import re
from typing import NamedTuple

SERVICE_NAME_MAX = 16
SERVICE_NAME = re.compile(r"[a-z0-9_]{1,16}")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
RESERVED_ENV_PREFIX = "DOTCLOUD_"


def sanitize_service_name(dirname: str) -> str:
    """Lower-case, anything outside ``[a-z0-9_]`` to ``_``, at most 16 characters."""
    lowered = dirname.lower()
    name = "".join(ch if ch in "abcdefghijklmnopqrstuvwxyz0123456789_" else "_" for ch in lowered)
    return name[:SERVICE_NAME_MAX] or "_"


class ServiceName(NamedTuple):
    dirname: str
    name: str
    sanitized: str  # what sanitising alone gave, before a collision was resolved

    @property
    def renamed(self) -> bool:
        return self.name != self.dirname

    @property
    def collided(self) -> bool:
        return self.name != self.sanitized


def assign_service_names(dirnames: list[str]) -> list[ServiceName]:
    """Sanitise each Gear directory name; later duplicates get ``_2``, ``_3``..."""
    taken: set[str] = set()
    out: list[ServiceName] = []
    for dirname in dirnames:
        base = sanitize_service_name(dirname)
        name = base
        n = 2
        while name in taken:
            suffix = f"_{n}"
            name = base[: SERVICE_NAME_MAX - len(suffix)] + suffix
            n += 1
        taken.add(name)
        out.append(ServiceName(dirname, name, base))
    return out


def normalize_env_key(key: str) -> str:
    """``mongo-host`` to ``MONGO_HOST``: upper-case, ``-`` and ``.`` to ``_``."""
    return key.upper().replace("-", "_").replace(".", "_")


def env_key_problem(normalized: str) -> str | None:
    """Why a normalised key cannot be an environment variable on the platform."""
    if not normalized:
        return "an empty name"
    if not ENV_NAME.fullmatch(normalized):
        bad = sorted(
            {ch for ch in normalized if not (ch.isascii() and (ch.isalnum() or ch == "_"))}
        )
        if bad:
            shown = " ".join(repr(ch) for ch in bad)
            return f"it holds characters a variable name cannot have: {shown}"
        return "a variable name cannot start with a digit"
    if normalized.startswith(RESERVED_ENV_PREFIX):
        return "names starting with DOTCLOUD_ are reserved for the platform"
    return None
