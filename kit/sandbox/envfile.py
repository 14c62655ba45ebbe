"""environment.json for one instance, with the platform's key names.

Pure: from the build file's services, the ports the sandbox assigned and the
instance, compute the flat mapping the platform wrote to
``/home/dotcloud/environment.json`` (and ``environment.yml``) and exported to
the processes.
"""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from kit.verify.model import Service

ENVIRONMENT = "default"


def service_host(service: str, app: str) -> str:
    """The host name other containers reach ``service`` at."""
    return f"{service}.{app}.sandbox"


class Endpoint(NamedTuple):
    """A service port another container can connect to."""

    service: str
    name: str  # "http" or the declared port's name
    host: str
    ip: str  # the loopback address the host name maps to inside other containers
    port: int  # the port clients connect to (80 for http)


def endpoints(
    app: str, services: Sequence[Service], tcp_ports: Mapping[str, int]
) -> list[Endpoint]:
    """Every endpoint of the app, with a fixed loopback address per service."""
    out = []
    for index, svc in enumerate(services, start=2):
        host = service_host(svc.name, app)
        ip = f"127.0.10.{index}"
        if svc.is_code:
            out.append(Endpoint(svc.name, "http", host, ip, 80))
        for port_name in svc.tcp_ports:
            out.append(
                Endpoint(svc.name, port_name, host, ip, tcp_ports[f"{svc.name}.{port_name}"])
            )
    return out


def environment(
    *,
    app: str,
    services: Sequence[Service],
    service: Service,
    instance: int,
    tcp_ports: Mapping[str, int],
    app_env: Mapping[str, str] = {},
) -> dict[str, str]:
    """The flat environment of ``service`` instance ``instance``."""
    env: dict[str, str] = {
        "DOTCLOUD_PROJECT": app,
        "DOTCLOUD_ENVIRONMENT": ENVIRONMENT,
        "DOTCLOUD_SERVICE_NAME": service.name,
        "DOTCLOUD_SERVICE_ID": str(instance),
    }
    for ep in endpoints(app, services, tcp_ports):
        prefix = f"DOTCLOUD_{ep.service.upper()}_{ep.name.upper()}"
        env[f"{prefix}_HOST"] = ep.host
        if ep.name == "http":
            env[f"{prefix}_URL"] = f"http://{ep.host}/"
        else:
            env[f"{prefix}_PORT"] = str(ep.port)
            env[f"{prefix}_URL"] = f"tcp://{ep.host}:{ep.port}"
    for port_name in service.tcp_ports:
        env[f"PORT_{port_name.upper()}"] = str(tcp_ports[f"{service.name}.{port_name}"])
    env.update(service.environment)
    env.update(app_env)
    return env


def environment_yml(env: Mapping[str, str]) -> str:
    import yaml

    text: str = yaml.safe_dump(dict(env), default_flow_style=False, allow_unicode=True)
    return text
