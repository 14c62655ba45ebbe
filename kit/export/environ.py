"""The platform's environment keys, with values for an engine's service discovery.

Every container gets ``DOTCLOUD_PROJECT``, ``DOTCLOUD_ENVIRONMENT``,
``DOTCLOUD_SERVICE_NAME``, every service's ``DOTCLOUD_<SVC>_<PORT>_*`` keys and
its own ``PORT_<NAME>``, as on the platform; hosts are the names the engine's
DNS answers for (a Compose or Swarm service, a Kubernetes Service). Values that
hold a generated password are not in the files: each is a reference to a
secret file, which :mod:`kit.engine.start` reads when the container starts
(``DOTKIT_SECRETS``). ``DOTCLOUD_SERVICE_ID`` is set there too, per instance.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from kit.export.plan import CodePlan, DataPlan, Plan
from kit.platform import envkeys
from kit.platform.facts import ENVIRONMENT_NAME, HTTP_PORT
from kit.platform.model import Service

SECRETS_DIR = "/run/secrets"
SECRET_SLOT = "{secret}"


class SecretRef(NamedTuple):
    secret: str
    format: str  # the value, with {secret} where the password goes


def k8s_name(service: str) -> str:
    """A service name as a Kubernetes object name and DNS label (``_`` is not allowed)."""
    name = service.replace("_", "-").strip("-")
    return name if name[:1].isalpha() else f"s-{name}"


def host(plan: Plan, service: str) -> str:
    return k8s_name(service) if plan.options.target == "kubernetes" else service


def _http_url(plan: Plan, service: str) -> str:
    if plan.options.target == "kubernetes":  # its Service answers on 80, as the platform's router
        return f"http://{host(plan, service)}/"
    return f"http://{host(plan, service)}:{HTTP_PORT}/"


def _code_keys(plan: Plan, code: CodePlan) -> dict[str, str]:
    name = code.service.name
    env = {
        envkeys.service_var(name, "http", "host"): host(plan, name),
        envkeys.service_var(name, "http", "url"): _http_url(plan, name),
    }
    for port_name, number in code.tcp:
        env[envkeys.service_var(name, port_name, "host")] = host(plan, name)
        env[envkeys.service_var(name, port_name, "port")] = str(number)
        env[envkeys.service_var(name, port_name, "url")] = f"tcp://{host(plan, name)}:{number}"
    return env


def _data_keys(plan: Plan, data: DataPlan) -> tuple[dict[str, str], dict[str, SecretRef]]:
    name, where = data.service.name, host(plan, data.service.name)
    plain = {
        envkeys.service_var(name, data.port_name, "host"): where,
        envkeys.service_var(name, data.port_name, "port"): str(data.port),
        envkeys.service_var(name, data.port_name, "login"): envkeys.DATA_LOGIN,
    }
    url = envkeys.data_url(data.service.type, where, data.port, SECRET_SLOT)
    secret = {
        envkeys.service_var(name, data.port_name, "password"): SecretRef(data.secret, SECRET_SLOT),
        envkeys.service_var(name, data.port_name, "url"): SecretRef(data.secret, url),
    }
    return plain, secret


def environment(plan: Plan, service: Service) -> tuple[dict[str, str], dict[str, SecretRef]]:
    """The plain keys of ``service``'s containers, and the keys that hold a secret."""
    plain = {
        envkeys.PROJECT: plan.options.app,
        envkeys.ENVIRONMENT: ENVIRONMENT_NAME,
        envkeys.SERVICE_NAME: service.name,
    }
    secret: dict[str, SecretRef] = {}
    for code in plan.code:
        plain.update(_code_keys(plan, code))
    for data in plan.data:
        more_plain, more_secret = _data_keys(plan, data)
        plain.update(more_plain)
        secret.update(more_secret)
    for code in plan.code:
        if code.service.name == service.name:
            plain.update({envkeys.port_var(n): str(p) for n, p in code.tcp})
    plain.update(service.environment)
    for key in service.environment:  # the user's own value wins, as on the platform
        secret.pop(key, None)
    return plain, secret


def secrets_var(secret: dict[str, SecretRef]) -> str:
    """``DOTKIT_SECRETS``: where each secret-holding key's value comes from (no values)."""
    return json.dumps(
        {
            key: {"file": f"{SECRETS_DIR}/{ref.secret}", "format": ref.format}
            for key, ref in sorted(secret.items())
        },
        sort_keys=True,
    )


def used_secrets(secret: dict[str, SecretRef]) -> list[str]:
    return sorted({ref.secret for ref in secret.values()})
