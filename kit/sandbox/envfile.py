"""environment.json for one instance, with the platform's key names.

Pure: from the build file's services, the ports the sandbox assigned and the
instance, compute the flat mapping the platform wrote to
``/home/dotcloud/environment.json`` (and ``environment.yml``) and exported to
the processes.
"""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from kit.platform import envkeys
from kit.platform.facts import ENVIRONMENT_NAME
from kit.platform.model import Service


def service_host(service: str, app: str) -> str:
    """The host name other containers reach ``service`` at."""
    return f"{service}.{app}.sandbox"


class Endpoint(NamedTuple):
    """A service port another container can connect to."""

    service: str
    name: str  # "http", a declared port's name, or a data service's port name ("redis")
    host: str
    ip: str  # the loopback address the host name maps to inside other containers
    port: int  # the port clients connect to (80 for http)
    instance: int | None = None  # set for the per-instance endpoints of a scaled service

    @property
    def route(self) -> str:
        """The router's name for this endpoint (and its socket's file name, minus .sock)."""
        base = f"{self.service}.{self.name}"
        return base if self.instance is None else f"{base}.{self.instance}"


def port_names(service: Service) -> list[str]:
    """The non-HTTP ports of a service: declared ones, or a data service's own."""
    return list(service.port_names)


def endpoints(
    app: str,
    services: Sequence[Service],
    tcp_ports: Mapping[str, int],
    counts: Mapping[str, int] | None = None,
) -> list[Endpoint]:
    """Every endpoint of the app, with a fixed loopback address per service.

    TCP ports are not balanced across instances: a scaled service also gets one
    endpoint per instance (``SERVICE-N.APP.sandbox``), as the platform gave each
    instance its own ports.
    """
    out = []
    for index, svc in enumerate(services, start=2):
        host = service_host(svc.name, app)
        ip = f"127.0.10.{index}"
        if svc.is_code:
            out.append(Endpoint(svc.name, "http", host, ip, 80))
        count = (counts or {}).get(svc.name, 1)
        for name in port_names(svc):
            key = f"{svc.name}.{name}"
            if key not in tcp_ports:
                continue
            out.append(Endpoint(svc.name, name, host, ip, tcp_ports[key]))
            if count > 1:
                for n in range(count):
                    out.append(
                        Endpoint(
                            svc.name,
                            name,
                            service_host(f"{svc.name}-{n}", app),
                            f"127.0.{11 + n}.{index}",
                            tcp_ports[key],
                            n,
                        )
                    )
    return out


def environment(
    *,
    app: str,
    services: Sequence[Service],
    service: Service,
    instance: int,
    tcp_ports: Mapping[str, int],
    app_env: Mapping[str, str] | None = None,
    passwords: Mapping[str, str] | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The flat environment of ``service`` instance ``instance``.

    For a scaled service with TCP ports, each instance's endpoint also appears
    with the suffix ``_N``; the unsuffixed keys keep pointing at the balanced one.
    """
    passwords = passwords or {}
    types = {s.name: s.type for s in services}
    env: dict[str, str] = {
        envkeys.PROJECT: app,
        envkeys.ENVIRONMENT: ENVIRONMENT_NAME,
        envkeys.SERVICE_NAME: service.name,
        envkeys.SERVICE_ID: str(instance),
    }
    for ep in endpoints(app, services, tcp_ports, counts):
        prefix = f"DOTCLOUD_{ep.service.upper()}_{ep.name.upper()}"
        if ep.instance is not None:
            env[f"{prefix}_HOST_{ep.instance}"] = ep.host
            env[f"{prefix}_PORT_{ep.instance}"] = str(ep.port)
            env[f"{prefix}_URL_{ep.instance}"] = f"tcp://{ep.host}:{ep.port}"
            continue
        env[f"{prefix}_HOST"] = ep.host
        if ep.name == "http":
            env[f"{prefix}_URL"] = f"http://{ep.host}/"
            continue
        env[f"{prefix}_PORT"] = str(ep.port)
        if ep.service in passwords:
            env[f"{prefix}_LOGIN"] = envkeys.DATA_LOGIN
            env[f"{prefix}_PASSWORD"] = passwords[ep.service]
            env[f"{prefix}_URL"] = envkeys.data_url(
                types[ep.service], ep.host, ep.port, passwords[ep.service]
            )
        else:
            env[f"{prefix}_URL"] = f"tcp://{ep.host}:{ep.port}"
    count = (counts or {}).get(service.name, 1)
    for name in port_names(service):
        port = str(tcp_ports[f"{service.name}.{name}"])
        env[envkeys.port_var(name)] = port
        if count > 1:
            for n in range(count):
                env[f"{envkeys.port_var(name)}_{n}"] = port
    env.update(service.environment)
    env.update(app_env or {})
    return env


def environment_yml(env: Mapping[str, str]) -> str:
    import yaml

    text: str = yaml.safe_dump(dict(env), default_flow_style=False, allow_unicode=True)
    return text
