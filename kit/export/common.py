"""What the Compose and Swarm files share: the same services, two engines' words."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kit.export.environ import environment, secrets_var, used_secrets
from kit.export.plan import DataPlan, Plan
from kit.platform.facts import DATA
from kit.platform.model import Service

SECRETS_FOLDER = "secrets"


def data_volume(service: str) -> str:
    return f"{service}-data"


def service_env(plan: Plan, service: Service) -> tuple[dict[str, str], list[str]]:
    """A service's container environment (no secret values) and the secrets it mounts."""
    plain, secret = environment(plan, service)
    env = dict(plain)
    if secret:
        env["DOTKIT_SECRETS"] = secrets_var(secret)
    return env, used_secrets(secret)


def data_env(plan: Plan, data: DataPlan) -> tuple[dict[str, str], list[str]]:
    env, secrets = service_env(plan, data.service)
    env["DOTKIT_PASSWORD_FILE"] = f"/run/secrets/{data.secret}"
    env["DOTKIT_PORT"] = str(data.port)
    return env, sorted({*secrets, data.secret})


def router_env(plan: Plan) -> dict[str, str]:
    routes = [
        {
            "service": r.service,
            "host": r.service,
            "port": r.port,
            "mode": r.mode,
            "listen": r.listen,
            "slots": r.slots,
        }
        for r in plan.routes
    ]
    return {"DOTKIT_ROUTES": json.dumps(routes, sort_keys=True)}


def data_mount(service: str) -> str:
    return f"{data_volume(service)}:{DATA}"


def secret_files(plan: Plan) -> dict[str, Any]:
    return {name: {"file": f"./{SECRETS_FOLDER}/{name}"} for name in plan.secrets}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # no &anchors: the files are read by people and by other tools


def dump(document: dict[str, Any], header: str) -> bytes:
    body = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000
    )
    return (header + body).encode()
