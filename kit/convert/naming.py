"""Service names for a nodeSocket app's Gears: sanitised, collisions resolved."""

from typing import NamedTuple

from kit.platform.facts import SERVICE_NAME_MAX
from kit.platform.names import sanitize_service_name


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
