"""The platform's naming rules: services, environment variables and ports."""

import re

from kit.platform.facts import SERVICE_NAME_MAX

SERVICE_NAME = re.compile(rf"[a-z0-9_]{{1,{SERVICE_NAME_MAX}}}")
PORT_NAME = re.compile(r"[a-z0-9_]+")
# A program's name under `processes:`: it becomes supervisord's [program:NAME] and
# the name of its log files, so never a ], a newline, a / or a space.
PROGRAM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
# What the platform accepts as a variable name (dotcloud.yml, `env set`); the
# converter writes the upper-case subset.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_ENV_PREFIX = "DOTCLOUD_"
_SERVICE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def sanitize_service_name(name: str) -> str:
    """Lower-case, anything outside ``[a-z0-9_]`` to ``_``, at most 16 characters."""
    cleaned = "".join(ch if ch in _SERVICE_CHARS else "_" for ch in name.lower())
    return cleaned[:SERVICE_NAME_MAX] or "_"


def normalize_env_key(key: str) -> str:
    """``mongo-host`` to ``MONGO_HOST``: upper-case, ``-`` and ``.`` to ``_``."""
    return key.upper().replace("-", "_").replace(".", "_")


def env_key_problem(name: str) -> str | None:
    """Why ``name`` cannot be an environment variable on the platform, or None."""
    if not name:
        return "an empty name"
    if not ENV_NAME.fullmatch(name):
        bad = sorted({ch for ch in name if not (ch.isascii() and (ch.isalnum() or ch == "_"))})
        if bad:
            shown = " ".join(repr(ch) for ch in bad)
            return f"it holds characters a variable name cannot have: {shown}"
        return "a variable name cannot start with a digit"
    if name.startswith(RESERVED_ENV_PREFIX):
        return "names starting with DOTCLOUD_ are reserved for the platform"
    return None
