"""``stack.yml``: the app as a stack on Docker Swarm (``docker stack deploy``).

Services sit on an attachable overlay network and are found by DNS round robin
(``endpoint_mode: dnsrr``): a service's virtual IP needs IPVS, which engines
without iptables lack. Each instance keeps its own ``~/data`` in a volume named
after its task slot, and knows its number (``DOTCLOUD_SERVICE_ID``) from that
slot. Updates replace one instance at a time; the router (published in
``host`` mode) keeps serving from the others. Images are built beforehand
(``build-images.sh``): a stack does not build.
"""

from __future__ import annotations

from typing import Any

from kit.export.common import data_env, data_volume, dump, router_env, secret_files, service_env
from kit.export.plan import Plan
from kit.files import OutFile
from kit.platform.facts import DATA

FILE = "stack.yml"
NETWORK = "app"
SLOT = "{{.Task.Slot}}"


def _mount(service: str) -> dict[str, str]:
    return {"type": "volume", "source": data_volume(service), "target": DATA}


def _code(plan: Plan, refs: dict[str, str]) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for code in plan.code:
        env, secrets = service_env(plan, code.service)
        env["DOTKIT_INSTANCE"] = SLOT
        body: dict[str, Any] = {
            "image": refs[code.service.name],
            "environment": env,
            "volumes": [_mount(code.service.name)],
            "networks": [NETWORK],
            "deploy": {
                "replicas": code.replicas,
                "endpoint_mode": "dnsrr",
                "update_config": {"parallelism": 1, "order": "stop-first"},
                "restart_policy": {"condition": "any"},
            },
        }
        if secrets:
            body["secrets"] = secrets
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
            "volumes": [_mount(data.service.name)],
            "networks": [NETWORK],
            "deploy": {"replicas": 1, "endpoint_mode": "dnsrr"},
        }
    if plan.routes:
        services[plan.router] = {
            "image": plan.options.image.runtime,
            "command": ["router"],
            "environment": router_env(plan),
            "ports": [
                {"target": r.listen, "published": r.published, "protocol": "tcp", "mode": "host"}
                for r in plan.routes
            ],
            "networks": [NETWORK],
            "deploy": {"replicas": 1, "endpoint_mode": "dnsrr"},
        }
    app = plan.options.app
    volumes: dict[str, Any] = {
        # One volume per instance: the slot is filled in by Swarm for each task.
        data_volume(c.service.name): {"name": f"{app}_{data_volume(c.service.name)}-{SLOT}"}
        for c in plan.code
    }
    volumes.update({data_volume(d.service.name): {} for d in plan.data})
    document: dict[str, Any] = {"version": "3.8", "services": services}
    if plan.secrets:
        document["secrets"] = secret_files(plan)
    document["networks"] = {NETWORK: {"driver": "overlay", "attachable": True}}
    document["volumes"] = volumes
    header = (
        f"# {app} as a Docker Swarm stack, written by dotkit export.\n"
        f"# ./build-images.sh && docker stack deploy -c {FILE} {app}\n"
    )
    return OutFile(FILE, dump(document, header))
