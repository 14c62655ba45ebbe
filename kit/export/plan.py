"""What an export will make of an app, decided once for every target.

Pure: from the app's typed services (:mod:`kit.platform.model`) and the options,
decide each code service's image, Node.js branch and ports, each data service's
image (redis on the platform image, mysql and postgresql on its SQL variant),
port and secret, and what the router publishes. The renderers
(:mod:`kit.export.compose`, :mod:`kit.export.swarm`, :mod:`kit.export.kubernetes`)
only lay the plan out in their engine's words; :mod:`kit.export.report` says
what was carried over and what was not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from kit.errors import UsageError
from kit.platform.envkeys import data_port_name
from kit.platform.facts import FIRST_CUSTOM_PORT, HTTP_PORT
from kit.platform.model import Service

TARGETS = ("compose", "swarm", "kubernetes")
# Data services the platform image runs, and the port each listens on inside its container.
DATA_SERVERS = {"redis": 6379, "mysql": 3306, "postgresql": 5432}
# Those that run on the SQL image (MariaDB and PostgreSQL), not on the runtime image.
SQL_SERVICES = frozenset({"mysql", "postgresql"})
ROUTER = "router"
ROUTER_LISTEN_BASE = 8000  # the router's own ports inside its container
_APP_CHARS = re.compile(r"[^a-z0-9]+")


class Image(NamedTuple):
    """The platform image the export builds on (see :mod:`kit.engine.image`)."""

    runtime: str
    build: str
    branches: tuple[str, ...]  # node_version branches it carries
    sql: str  # the runtime with MariaDB and PostgreSQL


class Options(NamedTuple):
    app: str  # DOTCLOUD_PROJECT, and the stack / project name
    target: str
    image: Image
    port_base: int = 8000  # first host port the router publishes
    domain: str = "localhost"  # Kubernetes Ingress hosts: <service>.<app>.<domain>


class Route(NamedTuple):
    """A port the router publishes on the host, balanced over a service's instances."""

    service: str
    port: int  # the service's port inside its containers
    mode: str  # http | tcp
    listen: int  # the router's port inside its container
    published: int  # the host's port
    slots: int  # most instances the router looks up


class CodePlan(NamedTuple):
    service: Service
    branch: str  # the Node.js branch it runs with
    tcp: tuple[tuple[str, int], ...]  # declared port name -> its number in the container
    replicas: int


class DataPlan(NamedTuple):
    service: Service
    port_name: str  # "redis", "mysql", "sql"
    port: int
    secret: str  # the secret's name: its password
    image: str  # the platform image its server runs on


class Skipped(NamedTuple):
    service: Service
    reason: str


class Plan(NamedTuple):
    options: Options
    code: tuple[CodePlan, ...]
    data: tuple[DataPlan, ...]
    skipped: tuple[Skipped, ...]
    routes: tuple[Route, ...]
    router: str  # the router's service name (one the app does not use)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(d.secret for d in self.data)

    @property
    def needs_sql_image(self) -> bool:
        return any(d.service.type in SQL_SERVICES for d in self.data)


def app_name(raw: str) -> str:
    """An app name every engine accepts: lower-case letters, digits and ``-``."""
    name = _APP_CHARS.sub("-", raw.lower()).strip("-")[:40].strip("-")
    if not name or not name[0].isalpha():
        raise UsageError(
            f"{raw!r} cannot name the exported app: give --name with a name that "
            "starts with a letter (letters, digits and - only)"
        )
    return name


def secret_name(service: str) -> str:
    return f"{service}_password"


def _branch(service: Service, image: Image) -> str:
    wanted = service.node_version or ""
    if wanted in image.branches:
        return wanted
    return image.branches[-1]  # the newest the image has


def _data(service: Service, image: Image) -> DataPlan | Skipped:
    port_name = data_port_name(service.type)
    port = DATA_SERVERS.get(service.type)
    if port is None or port_name is None:
        return Skipped(service, skip_reason(service.type))
    runs_on = image.sql if service.type in SQL_SERVICES else image.runtime
    return DataPlan(service, port_name, port, secret_name(service.name), runs_on)


def skip_reason(service_type: str) -> str:
    if service_type == "mongodb":
        return "MongoDB is not packaged by Debian, so the platform image cannot run it"
    if service_type == "mysql-masterslave":
        return (
            "master/slave replication is not exported (nor run by the sandbox); "
            "a mysql service is: one MariaDB server"
        )
    if service_type == "postgis":
        return (
            "the platform image's PostgreSQL has no PostGIS (nor has the sandbox's); "
            "a postgresql service is exported"
        )
    return f"the platform image has no {service_type} service"


def _routes(code: Sequence[CodePlan], port_base: int) -> tuple[Route, ...]:
    wanted: list[tuple[str, int, str, int]] = []
    for plan in code:
        slots = max(10, plan.replicas)
        wanted.append((plan.service.name, HTTP_PORT, "http", slots))
    for plan in code:
        for _, number in plan.tcp:
            wanted.append((plan.service.name, number, "tcp", max(10, plan.replicas)))
    return tuple(
        Route(svc, port, mode, ROUTER_LISTEN_BASE + i, port_base + i, slots)
        for i, (svc, port, mode, slots) in enumerate(wanted)
    )


def make_plan(services: Sequence[Service], options: Options) -> Plan:
    """Decide the export of ``services`` (the build file's, in its order)."""
    if options.target not in TARGETS:
        raise UsageError(f"--to must be one of {', '.join(TARGETS)}")
    if not 1024 <= options.port_base <= 65535 - len(services) * 8:
        raise UsageError("--port-base must leave room for the published ports (1024-65000)")
    code: list[CodePlan] = []
    data: list[DataPlan] = []
    skipped: list[Skipped] = []
    for service in services:
        if service.is_code:
            if service.type != "nodejs":
                skipped.append(Skipped(service, f"{service.type} services are not exported"))
                continue
            names = [n for n, kind in service.ports.items() if kind == "tcp"]
            tcp = tuple((name, FIRST_CUSTOM_PORT + i) for i, name in enumerate(names))
            code.append(CodePlan(service, _branch(service, options.image), tcp, service.instances))
        else:
            found = _data(service, options.image)
            (data if isinstance(found, DataPlan) else skipped).append(found)  # type: ignore[arg-type]
    if not code and not data:
        raise UsageError("the app has no service the export can run")
    routes = _routes(code, options.port_base)
    return Plan(options, tuple(code), tuple(data), tuple(skipped), routes, router_name(services))


def router_name(services: Sequence[Service]) -> str:
    taken = {s.name for s in services}
    return next(n for n in (ROUTER, "dotkit_router", "dotkit_router_0") if n not in taken)
