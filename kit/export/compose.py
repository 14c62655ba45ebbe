"""``compose.yaml``: the app on one Docker engine, with ``docker compose`` (or ``docker-compose``).

Each code service is built from its context and run with ``deploy.replicas``
instances; each data service runs the platform image's server (redis-server;
MariaDB or PostgreSQL on the image's SQL variant) with a named volume and its
password as a Compose secret; the router publishes every HTTP
service and TCP port on the host and balances them over the instances.
"""

from __future__ import annotations

from typing import Any

from kit.export.common import (
    data_env,
    data_mount,
    data_volume,
    dump,
    router_env,
    secret_files,
    service_env,
)
from kit.export.contexts import dockerfile_path
from kit.export.plan import Plan
from kit.files import OutFile

FILE = "compose.yaml"


def _code(plan: Plan, refs: dict[str, str]) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for code in plan.code:
        env, secrets = service_env(plan, code.service)
        body: dict[str, Any] = {
            "build": {"context": ".", "dockerfile": dockerfile_path(code), "network": "host"},
            "image": refs[code.service.name],
            "environment": env,
            "volumes": [data_mount(code.service.name)],
            "restart": "unless-stopped",
        }
        if secrets:
            body["secrets"] = secrets
        if code.replicas > 1:
            body["deploy"] = {"replicas": code.replicas}
        services[code.service.name] = body
    return services


def render(plan: Plan, refs: dict[str, str]) -> OutFile:
    services = _code(plan, refs)
    for data in plan.data:
        env, secrets = data_env(plan, data)
        services[data.service.name] = {
            "image": data.image,
            "command": [data.service.type],
            "environment": env,
            "secrets": secrets,
            "volumes": [data_mount(data.service.name)],
            "restart": "unless-stopped",
        }
    if plan.routes:
        services[plan.router] = {
            "image": plan.options.image.runtime,
            "command": ["router"],
            "environment": router_env(plan),
            "ports": [f"{r.published}:{r.listen}" for r in plan.routes],
            "depends_on": sorted({r.service for r in plan.routes}),
            "restart": "unless-stopped",
        }
    volumes = [c.service.name for c in plan.code] + [d.service.name for d in plan.data]
    document: dict[str, Any] = {"services": services}
    if plan.secrets:
        document["secrets"] = secret_files(plan)
    document["volumes"] = {data_volume(name): {} for name in volumes}
    header = (
        f"# {plan.options.app} on Docker Compose, written by dotkit export.\n"
        f"# docker-compose -p {plan.options.app} --compatibility up -d --build\n"
    )
    return OutFile(FILE, dump(document, header))
