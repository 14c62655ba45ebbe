"""A container's home, ``/home/dotcloud``: computed as files, then written once.

The platform gave every new container the build's result (``code/``, ``current``),
``environment.json`` and ``environment.yml``; the sandbox adds, under ``.dotkit/``,
what it needs to start the container (its supervisord.conf, hosts file, the
first process's config, the spec). What goes in a home is computed by pure
functions (:func:`code_home`, :func:`store_home`); :func:`write_new` and
:func:`write_over` are the only code that writes homes. A code container's home is
assembled beside its final place and renamed into it, so a container never
starts from half a home; a data service's home keeps its ``data/`` and has each
file replaced whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.platform.facts import HTTP_PORT, SUPERVISORD_FILE
from kit.platform.model import Service
from kit.sandbox import dataservices, datastores, envfile, supconf
from kit.sandbox.backend import ContainerSpec, Peer, hosts_file, inside, process_env
from kit.sandbox.push.context import Context, Plan
from kit.sandbox.seams import Runner

# The build's npm cache and its bookkeeping stay behind: a container gets the
# build's result, not the builder's tools.
NOT_COPIED = frozenset({".npm", ".dotkit"})


class File(NamedTuple):
    path: str  # relative to the home
    content: str


class Home(NamedTuple):
    spec: ContainerSpec
    files: tuple[File, ...]


def _spec(
    ctx: Context,
    svc: Service,
    cid: str,
    index: int,
    *,
    env: dict[str, str],
    http: bool,
    tcp_ports: dict[str, int],
    peers: list[Peer],
) -> ContainerSpec:
    layout, app = ctx.layout, ctx.app.name
    return ContainerSpec(
        cid=cid,
        app=app,
        service=svc.name,
        instance=index,
        home=str(ctx.app.container(cid)),
        sockets=str(layout.container_sockets(app, cid)),
        services=str(layout.service_sockets(app)),
        env=env,
        http=http,
        tcp_ports=tcp_ports,
        peers=peers,
        hidden=layout.hidden,
        backend=ctx.backend,
        engine=ctx.docker.engine if ctx.docker else "",
        image=ctx.docker.image if ctx.docker else "",
    )


def _files(spec: ContainerSpec, supervisord: str, relays: Sequence[str]) -> tuple[File, ...]:
    where = inside(spec)
    cinit = {
        "netns": where.netns,
        "relays": list(relays),
        "env": process_env(spec),
        "home": where.home,
        "supervisord": f"{where.home}/.dotkit/supervisord.conf",
    }
    return (
        File("environment.json", envfile.environment_json(spec.env)),
        File("environment.yml", envfile.environment_yml(spec.env)),
        File(".dotkit/hosts", hosts_file(spec)),
        File(".dotkit/supervisord.conf", supervisord),
        File(".dotkit/cinit.json", json.dumps(cinit, indent=2)),
        File(".dotkit/spec.json", spec.to_json()),
    )


def code_home(
    ctx: Context, plan: Plan, svc: Service, index: int, snapshot: Path, node: str | None = None
) -> Home:
    """Instance ``index`` of the code service ``svc``, from its build ``snapshot``;
    ``node``: the host folder of the Node.js build it runs (None: the machine's)."""
    services, name, ports = plan.app.services, ctx.app.name, plan.tcp_ports
    env = envfile.environment(
        app=name,
        services=services,
        service=svc,
        instance=index,
        tcp_ports=ports,
        public_ports=plan.record.public_ports,
        app_env=plan.record.env,
        passwords=plan.record.passwords,
        counts=plan.counts,
    )
    # Every endpoint of the app, its own service's included: a container reaches its
    # own service's public ports (and its siblings') through the router, as on the platform.
    peers = [
        Peer(ep.host, ep.ip, ep.port, f"{ep.route}.sock")
        for ep in envfile.endpoints(name, services, plan.record.public_ports, plan.counts)
    ]
    tcp_ports = {p: ports[f"{svc.name}.{p}"] for p in svc.tcp_ports}
    cid = f"{svc.name}.{index}-{ctx.dep_id}"
    spec = _spec(ctx, svc, cid, index, env=env, http=True, tcp_ports=tcp_ports, peers=peers)
    spec = spec._replace(memory=plan.record.memory.get(svc.name, 0), node=node or "")
    where = inside(spec)
    supervisord = supconf.render(
        where,
        include_app_conf=(snapshot / "current" / SUPERVISORD_FILE).is_file(),
        process=svc.process,
        processes=dict(svc.processes),
        service=svc.name,
        app_conf_path=f"{where.home}/current/{SUPERVISORD_FILE}",
    )
    relays = [f"unix:{where.sockets}/http.sock=tcp:127.0.0.1:{HTTP_PORT}"]
    relays += [
        f"unix:{where.sockets}/tcp-{n}.sock=tcp:127.0.0.1:{p}" for n, p in spec.tcp_ports.items()
    ]
    if where.netns:
        relays += [f"tcp:{p.ip}:{p.port}=unix:{where.services}/{p.socket}" for p in peers]
    return Home(spec, _files(spec, supervisord, relays))


def store_cid(svc: Service) -> str:
    return f"{svc.name}.0-data"


def store_home(ctx: Context, plan: Plan, svc: Service, port_name: str) -> Home:
    """The one container of the data service ``svc``, serving on its port ``port_name``."""
    port = plan.tcp_ports[f"{svc.name}.{port_name}"]
    env = envfile.environment(
        app=ctx.app.name,
        services=plan.app.services,
        service=svc,
        instance=0,
        tcp_ports=plan.tcp_ports,
        public_ports=plan.record.public_ports,
        passwords=plan.record.passwords,
    )
    spec = _spec(
        ctx, svc, store_cid(svc), 0, env=env, http=False, tcp_ports={port_name: port}, peers=[]
    )
    spec = spec._replace(memory=plan.record.memory.get(svc.name, 0))
    where = inside(spec)
    password = plan.record.passwords[svc.name]
    server = dataservices.command(
        svc.type, port, password, f"{where.home}/data", f"{where.home}/run", _programs(spec)
    )
    supervisord = supconf.render(
        where,
        include_app_conf=False,
        process=None,
        processes={svc.type: server},
        service=svc.name,
        directory=where.home,
        stopsignals={svc.type: datastores.STOP_SIGNAL.get(svc.type, "TERM")},
    )
    return Home(spec, _files(spec, supervisord, []))


def store_setup(plan: Plan, svc: Service, spec: ContainerSpec) -> list[datastores.Step]:
    """What a MySQL or PostgreSQL service runs once, before its first start (none for
    redis, or once its ``data/`` is initialised)."""
    if svc.type not in datastores.KINDS:
        return []
    if datastores.initialised(svc.type, Path(spec.home) / "data"):
        return []
    home = inside(spec).home
    store = dataservices.store(
        svc.type,
        data_dir=f"{home}/data",
        run_dir=f"{home}/run",
        port=spec.tcp_ports[svc.port_names[-1]],
        password=plan.record.passwords[svc.name],
        programs=_programs(spec),
    )
    return datastores.init_steps(store)


def _programs(spec: ContainerSpec) -> Mapping[str, str] | None:
    """Where a data service's container has its server: the platform image's paths on
    the docker backend, this machine's (None) on the others."""
    if spec.backend != "docker":
        return None
    from kit.engine.rootfs import SQL_PROGRAMS

    return SQL_PROGRAMS


def _write(path: Path, content: str) -> None:
    """Replace one file whole: written beside it, then renamed over it. Whatever stood at
    ``path`` (a link a build hook left at ``environment.json``...) is replaced, never
    written through."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    tmp.replace(path)


def _sockets(spec: ContainerSpec, *, fresh: bool) -> None:
    sockets = Path(spec.sockets)
    if fresh and sockets.exists():
        shutil.rmtree(sockets)
    sockets.mkdir(parents=True, exist_ok=True)
    Path(spec.services).mkdir(parents=True, exist_ok=True)


def write_new(home: Home, snapshot: Path, runner: Runner) -> None:
    """A new code container's home: the snapshot's files and ``home.files``, renamed into place."""
    final = Path(home.spec.home)
    work = final.with_name(f".{final.name}.new")
    for path in (work, final):
        if path.exists():
            shutil.rmtree(path)
    work.mkdir(parents=True)
    entries = [str(e) for e in snapshot.iterdir() if e.name not in NOT_COPIED]
    if entries:
        runner.run(["cp", "-a", *entries, str(work)], timeout=600)
    (work / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
    for file in home.files:
        _write(work / file.path, file.content)
    work.rename(final)
    _sockets(home.spec, fresh=True)


def write_over(home: Home, *, make_data: bool = True) -> bool:
    """A data service's home, its ``data/`` kept; whether the data is new. With
    ``make_data`` False, ``data/`` is left for the server's initialisation to make."""
    root = Path(home.spec.home)
    fresh = not (root / "data").is_dir()
    if make_data:
        (root / "data").mkdir(parents=True, exist_ok=True)
    (root / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
    for file in home.files:
        _write(root / file.path, file.content)
    _sockets(home.spec, fresh=False)
    return fresh
