"""Data services: a real server in a container of its own, created once, kept across pushes.

The platform never rebuilt a data service on push: once created, its container
(and so its data) stayed until ``dotcloud destroy SERVICE``. The sandbox does the
same, with the server's own binary; only ``redis`` is run here, and the other
database types fail the push with a message saying what is missing.
"""

import shutil
from typing import NamedTuple

SERVERS = {
    "redis": "redis-server",
    "mysql": "mysqld",
    "mysql-masterslave": "mysqld",
    "postgresql": "postgres",
    "postgis": "postgres",
    "mongodb": "mongod",
}


class DataService(NamedTuple):
    name: str
    type: str
    port_name: str


def problem(service_type: str) -> str | None:
    """Why this sandbox cannot run a data service of ``service_type``, or None."""
    server = SERVERS.get(service_type)
    if server is None:
        return f"the sandbox does not run {service_type} services"
    if shutil.which(server) is None:
        package = {"redis-server": "redis-server"}.get(server, server)
        return (
            f"{service_type} needs {server}, which is not installed here "
            f"(the Debian package {package}); install it, or remove the service "
            "from dotcloud.yml"
        )
    if service_type != "redis":
        return f"{server} is installed, but the sandbox only runs redis as a data service so far"
    return None


def command(service_type: str, port: int, password: str, data_dir: str) -> str:
    """The supervisord command that runs the server in the foreground."""
    if service_type != "redis":
        raise ValueError(service_type)
    server = shutil.which("redis-server") or "redis-server"
    return (
        f"{server} --port {port} --bind 127.0.0.1 --requirepass {password} "
        f"--dir {data_dir} --appendonly yes --daemonize no --save 60 1"
    )
