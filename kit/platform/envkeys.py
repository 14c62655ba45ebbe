"""The names of the environment keys the platform sets in every container.

Every instance gets ``DOTCLOUD_PROJECT``, ``DOTCLOUD_ENVIRONMENT``,
``DOTCLOUD_SERVICE_NAME`` and ``DOTCLOUD_SERVICE_ID``; for each port of each
service of the app, ``DOTCLOUD_<SERVICE>_<PORT>_{HOST,PORT,URL}`` (and
``_LOGIN``/``_PASSWORD`` for data services); for its own declared ports,
``PORT_<NAME>``. A data service's port is named after its type (``redis``,
``mysql``; ``sql`` for PostgreSQL).
"""

from collections.abc import Mapping

PROJECT = "DOTCLOUD_PROJECT"
ENVIRONMENT = "DOTCLOUD_ENVIRONMENT"
SERVICE_NAME = "DOTCLOUD_SERVICE_NAME"
SERVICE_ID = "DOTCLOUD_SERVICE_ID"

# A data service's own port name, by service type.
DATA_PORT_NAMES = {
    "redis": "redis",
    "mysql": "mysql",
    "mysql-masterslave": "mysql",
    "postgresql": "sql",
    "postgis": "sql",
    "mongodb": "mongodb",
    "rabbitmq": "amqp",
    "smtp": "smtp",
}
# URL schemes of DOTCLOUD_<SVC>_<PORT>_URL, by port name.
URL_SCHEMES = {"redis": "redis", "mysql": "mysql", "sql": "pgsql", "mongodb": "mongodb"}
DATA_LOGIN = "root"  # the login of every data service the sandbox runs
SSH_PORT_NAME = "ssh"  # every service's SSH endpoint: DOTCLOUD_<SVC>_SSH_{HOST,PORT,URL}
CODE_SSH_USER = "dotcloud"  # a data service's SSH user is its type ("redis")
# Keys environment.json holds as numbers, not strings (a real file: "PORT_SSH": 22).
INTEGER_KEYS = frozenset({"PORT_SSH", "PORT_HTTP"})


def json_values(env: Mapping[str, str]) -> dict[str, str | int]:
    """``env`` as environment.json spells it: the few numeric keys as numbers."""
    return {
        key: int(value) if key in INTEGER_KEYS and value.isdigit() else value
        for key, value in env.items()
    }


def data_port_name(service_type: str) -> str | None:
    """The port name a data service of ``service_type`` is reached at, if known."""
    return DATA_PORT_NAMES.get(service_type)


def port_var(port_name: str) -> str:
    """``PORT_<NAME>``: the number a declared port got, in its own service."""
    return f"PORT_{port_name.upper()}"


def service_var(service: str, port_name: str, field: str) -> str:
    """``DOTCLOUD_<SERVICE>_<PORT>_<FIELD>``, e.g. ``DOTCLOUD_DB_REDIS_URL``."""
    return f"DOTCLOUD_{service.upper()}_{port_name.upper()}_{field.upper()}"


def data_url(service_type: str, host: str, port: int, password: str) -> str:
    """The URL of a data service, with its login and password."""
    port_name = DATA_PORT_NAMES.get(service_type, "")
    scheme = URL_SCHEMES.get(port_name, service_type)
    return f"{scheme}://{DATA_LOGIN}:{password}@{host}:{port}"
