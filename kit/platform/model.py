"""The app and its services, as ``dotcloud.yml`` describes them: typed, read once.

:func:`service_from_body` turns one service's mapping (already checked against
the build file's schema by :mod:`kit.verify.buildfile`, which reports what it
cannot read) into a :class:`Service`. Everything the verifier, the sandbox and
repro need to know about a service is here, so nobody reads the YAML twice.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from kit.platform.envkeys import data_port_name
from kit.platform.facts import CODE_TYPES, NODE_VERSION_TYPES, PLATFORM_DEFAULT_NODE_VERSION


class Service(NamedTuple):
    """One service of ``dotcloud.yml``, as far as the build file could be read."""

    name: str
    type: str
    approot: str  # posix, relative to the app root; "." by default
    line: int | None  # of the service's key in dotcloud.yml
    instances: int
    ports: Mapping[str, str]  # port name -> http | tcp | udp
    environment: Mapping[str, str]
    process: str | None
    processes: Mapping[str, str]
    approot_ok: bool  # the approot exists inside the app
    config: Mapping[str, str] = {}  # config: scalars, as strings
    prebuild: str | None = None
    postbuild: str | None = None
    postinstall: str | None = None
    systempackages: tuple[str, ...] = ()

    @property
    def is_code(self) -> bool:
        return self.type in CODE_TYPES

    @property
    def tcp_ports(self) -> tuple[str, ...]:
        """Declared ports that are not HTTP (tcp, and udp, which the platform refuses)."""
        return tuple(name for name, kind in self.ports.items() if kind in ("tcp", "udp"))

    @property
    def port_names(self) -> tuple[str, ...]:
        """Every non-HTTP port: the declared ones, then a data service's own."""
        own = None if self.is_code else data_port_name(self.type)
        return (*self.tcp_ports, own) if own else self.tcp_ports

    @property
    def node_version(self) -> str | None:
        """The configured Node.js branch (``v0.8.x``...), the platform's default if
        unset; None for a service whose build takes no Node.js."""
        if self.type not in NODE_VERSION_TYPES:
            return None
        return self.config.get("node_version", PLATFORM_DEFAULT_NODE_VERSION)

    @property
    def hooks(self) -> dict[str, str]:
        """The build hooks that are set, by name (``prebuild``, ``postbuild``)."""
        return {
            name: command
            for name, command in (("prebuild", self.prebuild), ("postbuild", self.postbuild))
            if command is not None
        }


class App(NamedTuple):
    """An app on disk: its root, its files (posix, relative) and its services."""

    root: Path
    files: tuple[str, ...]
    services: tuple[Service, ...]

    @property
    def code_services(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.is_code)

    @property
    def data_services(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if not s.is_code)


def _scalars(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if not isinstance(v, dict | list)}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def service_from_body(
    name: str, body: Mapping[str, Any], *, approot: str, approot_ok: bool, line: int | None
) -> Service:
    """The :class:`Service` of one entry of the build file; values of the wrong
    type are left out (the build file's checks report them)."""
    instances = body.get("instances", 1)
    packages = body.get("systempackages")
    return Service(
        name=name,
        type=str(body["type"]),
        approot=approot,
        line=line,
        instances=instances if isinstance(instances, int) and instances > 0 else 1,
        ports=_scalars(body.get("ports")),
        environment=_scalars(body.get("environment")),
        process=_text(body.get("process")),
        processes=_scalars(body.get("processes")),
        approot_ok=approot_ok,
        config=_scalars(body.get("config")),
        prebuild=_text(body.get("prebuild")),
        postbuild=_text(body.get("postbuild")),
        postinstall=_text(body.get("postinstall")),
        systempackages=tuple(str(p) for p in packages) if isinstance(packages, list) else (),
    )
