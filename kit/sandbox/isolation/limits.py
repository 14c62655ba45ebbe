"""The platform's per-container limits, as values: memory, processes, CPU share.

dotCloud reserved RAM per service (``dotcloud scale www:memory=512M``), in
steps of 32 MB from 32 MB to 64 GB (above 4 GB only on request); a deploy log
of the time shows ``Using limits for service "www": ram=64M``. Processes and
CPU were not sold separately; the sandbox caps them so that one fork bomb or
busy loop cannot take the machine from the other containers.
"""

import re
from typing import NamedTuple

from kit.errors import UsageError

MB = 1024 * 1024
STEP = 32 * MB
MIN_MEMORY = 32 * MB
MAX_MEMORY = 64 * 1024 * MB
# The platform showed ram=64M for a small service, sized for Node.js 0.8. The
# sandbox runs today's Node.js and a Python supervisord, which need more to
# start, so its default is larger; `scale SERVICE:memory=` sets it as there.
DEFAULT_MEMORY = 512 * MB
DEFAULT_PIDS = 512
DEFAULT_CPU_SHARES = 1024
# "Builds run on a separate build cluster with more memory."
BUILD_MEMORY = 2048 * MB
BUILD_PIDS = 1024

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", re.IGNORECASE)
_UNITS = {"": MB, "k": 1024, "m": MB, "g": 1024 * MB, "t": 1024 * 1024 * MB}


class Limits(NamedTuple):
    memory: int  # bytes
    pids: int  # processes and threads
    cpu_shares: int  # relative weight; 1024 is one ordinary container


SERVICE = Limits(DEFAULT_MEMORY, DEFAULT_PIDS, DEFAULT_CPU_SHARES)
BUILD = Limits(BUILD_MEMORY, BUILD_PIDS, DEFAULT_CPU_SHARES)


def parse_memory(text: str) -> int:
    """``512M``, ``1G``, ``1.5G`` or a number of megabytes, rounded up to 32 MB as the CLI did."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise UsageError(f"{text!r} is not a memory size; write it like 512M or 2G")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    rounded = -(-int(value) // STEP) * STEP
    if rounded < MIN_MEMORY or rounded > MAX_MEMORY:
        raise UsageError(
            f"memory must be between {format_size(MIN_MEMORY)} and {format_size(MAX_MEMORY)} "
            f"(got {text.strip()})"
        )
    return rounded


def format_size(size: int) -> str:
    """Bytes as the platform wrote them: ``64M``, ``512M``, ``2G``."""
    if size >= 1024 * MB and size % (1024 * MB) == 0:
        return f"{size // (1024 * MB)}G"
    return f"{-(-size // MB)}M"


def for_container(memory: int = 0, pids: int = 0, cpu_shares: int = 0) -> Limits:
    """A service container's limits; zero means the platform's default."""
    return Limits(memory or DEFAULT_MEMORY, pids or DEFAULT_PIDS, cpu_shares or DEFAULT_CPU_SHARES)
