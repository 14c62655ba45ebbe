"""environment.json for one instance, with the platform's key names.

Pure: from the build file's services, the ports the sandbox assigned and the
instance, compute the flat mapping the platform wrote to
``/home/dotcloud/environment.json`` (and ``environment.yml``) and exported to
the processes.

A declared TCP port has two numbers, as on the platform: ``PORT_<NAME>`` is the
one the service binds inside its container, and ``DOTCLOUD_<SVC>_<NAME>_PORT``
the public one clients connect to (here, on this machine and in every
container). TCP is never balanced: each instance of a scaled service has public
ports of its own, given with the suffix ``_N``, and the unsuffixed keys are
those of instance 0.
"""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from kit.platform import envkeys
from kit.platform.facts import ENVIRONMENT_NAME, SSH_PORT
from kit.platform.model import Service


def service_host(service: str, app: str) -> str:
    """The host name the app's containers reach ``service`` at."""
    return f"{service}.{app}.sandbox"


def service_ip(index: int) -> str:
    """The loopback address of the ``index``-th service (from 0) inside containers.

    127.0.10.0/24 belongs to the sandbox's relays: the readiness probe never takes
    a listener there for the app's own.
    """
    return f"127.0.10.{index + 2}"


class Endpoint(NamedTuple):
    """A service port another container can connect to."""

    service: str
    name: str  # "http", a declared port's name, or a data service's port name ("redis")
    host: str
    ip: str  # the loopback address the host name maps to inside containers
    port: int  # the port clients connect to (80 for http, the public number otherwise)
    instance: int | None = None  # which instance a TCP endpoint reaches (None for http)

    @property
    def route(self) -> str:
        """The router's name for this endpoint (and its socket's file name, minus .sock)."""
        base = f"{self.service}.{self.name}"
        return base if self.instance is None else f"{base}.{self.instance}"


def port_names(service: Service) -> list[str]:
    """The non-HTTP ports of a service: declared ones, or a data service's own."""
    return list(service.port_names)


def public_keys(services: Sequence[Service], counts: Mapping[str, int]) -> list[str]:
    """``svc.port.N`` for every instance of every TCP port: what gets a public number."""
    return [
        f"{svc.name}.{name}.{n}"
        for svc in services
        for name in port_names(svc)
        for n in range(counts.get(svc.name, 1) if svc.is_code else 1)
    ]


def endpoints(
    app: str,
    services: Sequence[Service],
    public_ports: Mapping[str, int],
    counts: Mapping[str, int] | None = None,
) -> list[Endpoint]:
    """Every endpoint of the app: each service's HTTP front, and each instance's TCP ports."""
    out = []
    for index, svc in enumerate(services):
        host, ip = service_host(svc.name, app), service_ip(index)
        if svc.is_code:
            out.append(Endpoint(svc.name, "http", host, ip, 80))
        count = (counts or {}).get(svc.name, 1) if svc.is_code else 1
        for name in port_names(svc):
            for n in range(count):
                port = public_ports.get(f"{svc.name}.{name}.{n}")
                if port is not None:
                    out.append(Endpoint(svc.name, name, host, ip, port, n))
    return out


def _tcp_keys(ep: Endpoint, service_type: str, password: str | None, suffix: str) -> dict[str, str]:
    prefix = f"DOTCLOUD_{ep.service.upper()}_{ep.name.upper()}"
    keys = {f"{prefix}_HOST{suffix}": ep.host, f"{prefix}_PORT{suffix}": str(ep.port)}
    if password is not None:
        keys[f"{prefix}_LOGIN{suffix}"] = envkeys.DATA_LOGIN
        keys[f"{prefix}_PASSWORD{suffix}"] = password
        keys[f"{prefix}_URL{suffix}"] = envkeys.data_url(service_type, ep.host, ep.port, password)
    else:
        keys[f"{prefix}_URL{suffix}"] = f"tcp://{ep.host}:{ep.port}"
    return keys


def _ssh_keys(svc: Service, app: str) -> dict[str, str]:
    prefix = f"DOTCLOUD_{svc.name.upper()}_{envkeys.SSH_PORT_NAME.upper()}"
    host = service_host(svc.name, app)
    user = envkeys.CODE_SSH_USER if svc.is_code else svc.type
    return {
        f"{prefix}_HOST": host,
        f"{prefix}_PORT": str(SSH_PORT),
        f"{prefix}_URL": f"ssh://{user}@{host}:{SSH_PORT}",
    }


def environment(
    *,
    app: str,
    services: Sequence[Service],
    service: Service,
    instance: int,
    tcp_ports: Mapping[str, int],
    public_ports: Mapping[str, int] | None = None,
    app_env: Mapping[str, str] | None = None,
    passwords: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The flat environment of ``service`` instance ``instance``.

    ``tcp_ports`` gives what each port binds (``svc.port``), ``public_ports`` where
    each instance of it is reached (``svc.port.N``).
    """
    passwords = passwords or {}
    counts = counts or {}
    by_name = {s.name: s for s in services}
    env: dict[str, str] = {
        envkeys.PROJECT: app,
        envkeys.ENVIRONMENT: ENVIRONMENT_NAME,
        envkeys.SERVICE_NAME: service.name,
        envkeys.SERVICE_ID: str(instance),
    }
    for svc in services:
        env.update(_ssh_keys(svc, app))
    for ep in endpoints(app, services, public_ports or {}, counts):
        if ep.instance is None:
            env[f"DOTCLOUD_{ep.service.upper()}_HTTP_HOST"] = ep.host
            env[f"DOTCLOUD_{ep.service.upper()}_HTTP_URL"] = f"http://{ep.host}/"
            continue
        svc = by_name[ep.service]
        password = passwords.get(ep.service)
        scaled = svc.is_code and counts.get(svc.name, 1) > 1
        if ep.instance == 0:
            env.update(_tcp_keys(ep, svc.type, password, ""))
        if scaled:
            env.update(_tcp_keys(ep, svc.type, password, f"_{ep.instance}"))
    env[envkeys.port_var("ssh")] = str(SSH_PORT)
    count = counts.get(service.name, 1)
    for name in port_names(service):
        port = str(tcp_ports[f"{service.name}.{name}"])
        env[envkeys.port_var(name)] = port
        if count > 1:
            for n in range(count):
                env[f"{envkeys.port_var(name)}_{n}"] = port
    env.update(service.environment)
    env.update(app_env or {})
    return env


def environment_json(env: Mapping[str, str]) -> str:
    import json

    return json.dumps(envkeys.json_values(env), indent=4, sort_keys=True) + "\n"


def environment_yml(env: Mapping[str, str]) -> str:
    import yaml

    data = envkeys.json_values(env)
    text: str = yaml.safe_dump(data, default_flow_style=False, allow_unicode=True)
    return text
