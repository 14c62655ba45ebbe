"""The sandbox's state as typed values: an application and its deployments.

Pure: each record is read from the JSON of its file (through :class:`Fields`, so a
damaged file names itself) and turned back into JSON-shaped data; getters never
write. :mod:`kit.sandbox.state` puts them on disk; what the platform process runs is
:mod:`kit.sandbox.runtime`, a connected folder's config :mod:`kit.sandbox.folders`.

Files carry ``"format": 2``; a file without the key is format 1 (what dotkit wrote
before the key existed: the same fields, read the same way), so sandboxes made by
an earlier dotkit keep working. A file from a newer dotkit is refused by name.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kit.platform.facts import FIRST_CUSTOM_PORT, HTTP_PORT, SSH_PORT
from kit.platform.model import Service
from kit.platform.names import PORT_NAME, SERVICE_NAME
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.fields import Fields, Form, StateError
from kit.sandbox.layout import APP_NAME

# The numbers assigned inside containers to custom ports (kept clear of public ones).
CUSTOM_PORTS = range(FIRST_CUSTOM_PORT, FIRST_CUSTOM_PORT + 1000)

FORMAT = 2
BACKENDS = ("bwrap", "docker", "process")
BACKEND = Form(re.compile("|".join(BACKENDS)), "bwrap, docker or process")
ENGINE = Form(
    re.compile(r"unix:///[A-Za-z0-9_./-]{1,200}|tcp://[A-Za-z0-9.-]{1,253}:[0-9]{1,5}"),
    "a Docker engine address, unix:///PATH or tcp://HOST:PORT",
)
IMAGE = Form(
    re.compile(r"dotkit/platform(?:-sql)?:[0-9a-f]{16}"),
    "a platform image, dotkit/platform:KEY or dotkit/platform-sql:KEY",
)
# Public ports are drawn from the machine's free ports, but never one a container
# binds inside (an app's PORT_<NAME>, 8080, the HTTP peers' 80, ssh's 22): a public
# port is also where other containers' relays listen for it.
PORT_DRAWS = 200
CID = Form(
    re.compile(r"[a-z0-9_]{1,16}\.[0-9]{1,4}-(?:d[0-9]{1,9}|data)"), "a container id like www.0-d3"
)
DEPLOYMENT_ID = Form(re.compile(r"d[0-9]{1,9}"), "a deployment id like d3")
REVISION = Form(
    re.compile(r"rsync-[0-9]{1,20}|git-[0-9a-f]{4,40}"),
    "a revision like rsync-1700000000000 or git-1a2b3c4",
)
APP = Form(APP_NAME, "an application name")
SERVICE = Form(SERVICE_NAME, "a service name")
PORT_KEY = Form(
    re.compile(rf"{SERVICE_NAME.pattern}\.{PORT_NAME.pattern}"), "SERVICE.PORT, like chat.irc"
)
INSTANCE_PORT = Form(
    re.compile(rf"{SERVICE_NAME.pattern}\.{PORT_NAME.pattern}\.[0-9]{{1,4}}"),
    "SERVICE.PORT.N, like chat.irc.0",
)
ROUTE = Form(
    re.compile(rf"{SERVICE_NAME.pattern}\.{PORT_NAME.pattern}(?:\.[0-9]{{1,4}})?"),
    "a route like www.http or chat.irc.1",
)
Status = Literal["running", "deployed", "failed"]
STATUSES: tuple[Status, ...] = ("running", "deployed", "failed")


def url_of(port: int) -> str:
    """Where the sandbox's router serves an HTTP service on this machine."""
    return f"http://127.0.0.1:{port}/"


def check_format(f: Fields) -> None:
    found = f.integer("format", 1)
    if not 1 <= found <= FORMAT:
        raise StateError(
            f"{f.where} is in format {found}, which this dotkit cannot read (it reads "
            f"formats 1 to {FORMAT}); was it written by a newer dotkit?"
        )


# -- the application --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployedService:
    """What the app record keeps of a deployed service (from its dotcloud.yml)."""

    name: str
    type: str
    approot: str
    ports: Mapping[str, str]
    instances: int
    config: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, service: Service) -> DeployedService:
        return cls(
            service.name,
            service.type,
            service.approot,
            dict(service.ports),
            service.instances,
            dict(service.config),
        )


@dataclass(frozen=True)
class AppRecord:
    """``apps/NAME/app.json``: the application and what is deployed of it."""

    name: str
    created: float
    http_ports: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # "svc.port" -> the number the service binds inside its containers (PORT_<NAME>)
    tcp_ports: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # "svc.port.N" -> the public number instance N of that port is reached at
    public_ports: Mapping[str, int] = dataclasses.field(default_factory=dict)
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    scale: Mapping[str, int] = dataclasses.field(default_factory=dict)
    current: str | None = None  # the deployment serving, "dN"
    revision: str | None = None  # the revision serving
    services: tuple[DeployedService, ...] = ()
    containers: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    passwords: Mapping[str, str] = dataclasses.field(default_factory=dict)
    next_deployment: int = 1
    memory: Mapping[str, int] = dataclasses.field(default_factory=dict)  # bytes, by service
    backend: str | None = None  # "docker" (create --backend), else the machine's (None)

    def service(self, name: str) -> DeployedService | None:
        return next((s for s in self.services if s.name == name), None)

    def instances(self, service: Service) -> int:
        """How many instances run: the app's scale setting, else dotcloud.yml's."""
        return int(self.scale.get(service.name) or service.instances)

    def urls(self) -> dict[str, str]:
        """The URL of each HTTP service that has containers."""
        ports = sorted(self.http_ports.items())
        return {svc: url_of(port) for svc, port in ports if svc in self.containers}

    def with_tcp_ports(self, keys: Iterable[str]) -> AppRecord:
        """Every ``svc.port`` key given a number; numbers already assigned never change."""
        ports = dict(self.tcp_ports)
        for key in keys:
            if key not in ports:
                ports[key] = FIRST_CUSTOM_PORT + len(ports)
        return dataclasses.replace(self, tcp_ports=ports)

    def with_public_ports(self, keys: Iterable[str], free_port: Callable[[], int]) -> AppRecord:
        """Every ``svc.port.N`` key given a public number; numbers given never change."""
        ports = dict(self.public_ports)
        reserved = {HTTP_PORT, 80, SSH_PORT, *self.tcp_ports.values(), *ports.values()}
        for key in keys:
            if key in ports:
                continue
            for _ in range(PORT_DRAWS):
                port = free_port()
                if port not in reserved and port not in CUSTOM_PORTS:
                    break
            else:
                raise StateError(f"no free port for {key} after {PORT_DRAWS} tries")
            ports[key] = port
            reserved.add(port)
        return dataclasses.replace(self, public_ports=ports)

    def public_port(self, service: str, port: str, instance: int = 0) -> int | None:
        return self.public_ports.get(f"{service}.{port}.{instance}")

    def with_http_port(self, service: str, free_port: Callable[[], int]) -> AppRecord:
        if service in self.http_ports:
            return self
        return dataclasses.replace(self, http_ports={**self.http_ports, service: free_port()})

    def with_passwords(self, services: Iterable[str], make: Callable[[], str]) -> AppRecord:
        made = {name: make() for name in services if name not in self.passwords}
        return dataclasses.replace(self, passwords={**self.passwords, **made}) if made else self

    def to_data(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["containers"] = {k: list(v) for k, v in self.containers.items()}
        return {"format": FORMAT, **data}

    @classmethod
    def from_data(cls, data: object, where: str, hint: str) -> AppRecord:
        f = Fields(data, where, hint)
        check_format(f)
        return cls(
            name=f.text("name", pattern=APP),
            created=f.number("created", 0.0),
            http_ports=f.integers("http_ports", names=SERVICE),
            tcp_ports=f.integers("tcp_ports", names=PORT_KEY),
            public_ports=f.integers("public_ports", names=INSTANCE_PORT),
            env=f.texts("env"),
            scale=f.integers("scale", names=SERVICE),
            current=f.optional_text("current", pattern=DEPLOYMENT_ID),
            revision=f.optional_text("revision", pattern=REVISION),
            services=tuple(_service(s) for s in f.object_list("services")),
            containers=f.text_lists("containers", names=SERVICE, pattern=CID),
            passwords=f.texts("passwords", names=SERVICE),
            next_deployment=f.integer("next_deployment", 1),
            memory=f.integers("memory", names=SERVICE),
            backend=f.optional_text("backend", pattern=BACKEND),
        )


def _service(f: Fields) -> DeployedService:
    instances = f.data.get("instances", 1)
    return DeployedService(
        name=f.text("name", pattern=SERVICE),
        type=f.text("type"),
        approot=f.text("approot", "."),
        ports=f.texts("ports"),
        instances=instances if isinstance(instances, int) and instances > 0 else 1,
        config=f.texts("config"),
    )


# -- deployments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceReady:
    cid: str
    ready_at: float  # wall clock, when the sandbox declared it responsive
    ready_seconds: float  # from its start to responsive


@dataclass(frozen=True)
class Move:
    """``~/data`` taken from an old container into a new one (undone if the push fails)."""

    old: str
    new: str
    spec: ContainerSpec | None  # the old container's, to start it again


@dataclass(frozen=True)
class Deployment:
    """``apps/NAME/deployments/dN.json``: one push or deploy, and its journal.

    The journal (``new_containers``, ``moves``, ``switched``) is written before each
    step acts, so whoever finds the deployment still "running" after a crash knows
    what to undo.
    """

    id: str
    number: int
    started: float
    backend: str
    clean: bool = False
    status: Status = "running"
    revision: str | None = None
    finished: float | None = None
    error: str | None = None
    urls: Mapping[str, str] = dataclasses.field(default_factory=dict)
    instances: Mapping[str, InstanceReady] = dataclasses.field(default_factory=dict)
    failed_requests: int | None = None
    downtime: Mapping[str, float] = dataclasses.field(default_factory=dict)
    new_containers: tuple[str, ...] = ()
    moves: tuple[Move, ...] = ()
    switched: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["instances"] = {k: dataclasses.asdict(v) for k, v in self.instances.items()}
        data["moves"] = [
            {"old": m.old, "new": m.new, "spec": m.spec._asdict() if m.spec else None}
            for m in self.moves
        ]
        return {"format": FORMAT, **json.loads(json.dumps(data))}

    def public(self) -> dict[str, Any]:
        """The keys ``push --format json`` prints (see :mod:`kit.commands.push`)."""
        data = self.to_data()
        keys = ("id", "number", "revision", "status", "started", "finished", "clean", "backend",
                "error", "urls", "instances", "failed_requests", "downtime")  # fmt: skip
        return {key: data[key] for key in keys}

    @classmethod
    def from_data(cls, data: object, where: str, hint: str) -> Deployment:
        f = Fields(data, where, hint)
        check_format(f)
        status = f.text("status")
        if status not in STATUSES:
            raise f.fail("status", " or ".join(STATUSES))
        return cls(
            id=f.text("id", pattern=DEPLOYMENT_ID),
            number=f.integer("number"),
            started=f.number("started"),
            backend=f.text("backend", "process"),
            clean=f.flag("clean"),
            status=status,  # type: ignore[arg-type]  # checked against STATUSES above
            revision=f.optional_text("revision", pattern=REVISION),
            finished=f.optional_number("finished"),
            error=f.optional_text("error"),
            urls=f.texts("urls", names=SERVICE),
            instances={name: _ready(i) for name, i in f.objects("instances").items()},
            failed_requests=f.optional_integer("failed_requests"),
            downtime=f.numbers("downtime"),
            new_containers=f.text_list("new_containers", pattern=CID),
            moves=tuple(_move(m) for m in f.object_list("moves")),
            switched=f.text_list("switched", pattern=SERVICE),
        )


def _ready(f: Fields) -> InstanceReady:
    return InstanceReady(
        f.text("cid", pattern=CID), f.number("ready_at"), f.number("ready_seconds")
    )


def _move(f: Fields) -> Move:
    spec = f.data.get("spec")
    return Move(
        f.text("old", pattern=CID),
        f.text("new", pattern=CID),
        None if spec is None else container_spec(Fields(spec, f.where, f.hint, f"{f.path}.spec")),
    )


# -- container specs, as deployments and the platform process keep them ---------------------


def container_spec(f: Fields) -> ContainerSpec:
    """A container's spec, its fields checked before anything is started from it."""
    f.text("cid", pattern=CID)
    f.text("app", pattern=APP)
    f.text("service", pattern=SERVICE)
    f.integer("instance")
    for key in ("home", "sockets", "services"):
        f.text(key)
    f.texts("env")
    f.flag("http")
    f.integers("tcp_ports")
    f.text_list("hidden")
    if f.data.get("backend") not in BACKENDS:
        raise f.fail("backend", '"bwrap", "docker" or "process"')
    if f.data["backend"] == "docker":
        f.text("engine", pattern=ENGINE)
        f.text("image", pattern=IMAGE)
    elif f.data.get("engine") or f.data.get("image"):
        raise f.fail("engine", "empty: an engine and an image are for the docker backend")
    peers = f.data.get("peers")
    if not isinstance(peers, list) or not all(_is_peer(p) for p in peers):
        raise f.fail("peers", "a list of [host, ip, port, socket]")
    try:
        return ContainerSpec.from_json(json.dumps(f.data))
    except (TypeError, KeyError, ValueError) as exc:
        raise StateError(
            f"{f.where}: {f.path or 'a container'} is not a container spec ({exc}); {f.hint}"
        ) from None


def _is_peer(value: object) -> bool:
    if not isinstance(value, list) or len(value) != 4:
        return False
    host, ip, port, socket = value
    return (
        isinstance(host, str)
        and isinstance(ip, str)
        and isinstance(socket, str)
        and (isinstance(port, int) and not isinstance(port, bool))
    )
