"""Data services: a real server in a container of its own, created once, kept across pushes.

The platform never rebuilt a data service on push: once created, its container
(and so its data) stayed until ``dotcloud destroy SERVICE``. The sandbox does the
same, with the server's own binary: ``redis`` (redis-server), ``mysql``
(MariaDB) and ``postgresql``, all from Debian. MySQL and PostgreSQL need a
one-time initialisation before their first start (:mod:`kit.sandbox.datastores`).
Other types fail the push with a message saying why.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from typing import NamedTuple

from kit.platform.envkeys import DATA_LOGIN
from kit.sandbox import datastores

# The types a push runs (mysql and postgresql are initialised on their first start,
# kit.sandbox.push.stores).
RUNS = frozenset({"redis", "mysql", "postgresql"})
CAN_RUN = RUNS


class DataService(NamedTuple):
    name: str
    type: str
    port_name: str


def problem(service_type: str, runs: frozenset[str] = RUNS, backend: str = "bwrap") -> str | None:
    """Why this sandbox cannot run a data service of ``service_type``, or None."""
    if service_type == "mongodb":
        return (
            "the sandbox cannot run mongodb services: MongoDB is not packaged by Debian 12, "
            "so there is no server to run here. Point the app at a MongoDB server of your "
            "own, or remove the service from dotcloud.yml"
        )
    if service_type not in CAN_RUN:
        return f"the sandbox does not run {service_type} services"
    if backend == "docker":
        pass  # the platform image's servers, not this machine's
    elif service_type == "redis":
        if shutil.which("redis-server") is None:
            return (
                "redis needs redis-server, which is not installed here (the Debian package "
                "redis-server); install it, or remove the service from dotcloud.yml"
            )
    elif found := datastores.problem(service_type):
        return found
    elif backend != "bwrap" and os.geteuid() == 0:
        return (
            f"{service_type} runs as the container's unprivileged user, and the plain-process "
            "backend has no containers: as root here, the server would run as root, which "
            "it refuses. Install bubblewrap (the Debian package bubblewrap)"
        )
    if service_type not in runs:
        return f"the sandbox does not run {service_type} services in a push yet"
    return None


def store(
    service_type: str,
    *,
    data_dir: str,
    run_dir: str,
    port: int,
    password: str,
    uid: int | None = None,
    gid: int | None = None,
    programs: Mapping[str, str] | None = None,
) -> datastores.Store:
    """The MySQL or PostgreSQL server of a data service, with the platform's login;
    ``programs``: where the container has the server and its initialiser (default:
    where this machine has them)."""
    return datastores.Store(
        kind=service_type, login=DATA_LOGIN, data_dir=data_dir, run_dir=run_dir,
        port=port, password=password, uid=uid, gid=gid, programs=programs,
    )  # fmt: skip


def command(
    service_type: str,
    port: int,
    password: str,
    data_dir: str,
    run_dir: str | None = None,
    programs: Mapping[str, str] | None = None,
) -> str:
    """The supervisord command that runs the server in the foreground.

    For mysql and postgresql, ``data_dir`` must already be initialised
    (:func:`kit.sandbox.datastores.init_steps`); sockets go to ``run_dir``
    (default: ``run`` beside ``data_dir``, in the container's home).
    """
    if service_type in datastores.KINDS:
        run_dir = run_dir or f"{data_dir.rstrip('/').rsplit('/', 1)[0]}/run"
        server = store(
            service_type,
            data_dir=data_dir,
            run_dir=run_dir,
            port=port,
            password=password,
            programs=programs,
        )
        return shlex.join(datastores.server_argv(server))
    if service_type != "redis":
        raise ValueError(service_type)
    server_path = shutil.which("redis-server") or "redis-server"
    return (
        f"{server_path} --port {port} --bind 127.0.0.1 --requirepass {password} "
        f"--dir {data_dir} --appendonly yes --daemonize no --save 60 1"
    )
