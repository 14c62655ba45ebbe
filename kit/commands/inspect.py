"""url, open, info, status, logs, dlist, dlogs: looking at a deployed application."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from kit.commands._sandbox import chosen_app, layout, service_and_instance
from kit.errors import OperationFailed, UsageError

_TRUST_HINT = "(HTTPS is signed by the sandbox's own CA: dotkit url --trust says how to trust it)"


def _gateway_lines(names: list[str], app: str) -> list[str]:
    """Each service's URLs at the shared gateway (by host name, HTTP and HTTPS)."""
    from kit.sandbox.gateway import names as gateway_names
    from kit.sandbox.gateway.server import read_ports

    ports = read_ports(layout().home)
    if ports is None or not names:
        return []
    lines = []
    for name in names:
        lines.append(f"{name} (by name): {gateway_names.url('http', app, name, ports.http)}")
        lines.append(f"{name} (HTTPS): {gateway_names.url('https', app, name, ports.https)}")
    lines.append(_TRUST_HINT)
    return lines


@click.command("url")
@click.argument("service", required=False)
@click.option("--trust", is_flag=True, help="Say how to trust the sandbox's HTTPS certificates.")
@click.pass_context
def url_command(ctx: click.Context, service: str | None, trust: bool) -> int:
    """Print the URL of each HTTP service (or of SERVICE): its own port, then its names
    at the sandbox's gateway over HTTP and HTTPS."""
    from kit.sandbox.state import load_app

    if trust:
        from kit.sandbox.gateway.server import ca_path
        from kit.sandbox.gateway.trust import trust_help

        click.echo(trust_help(ca_path(layout().home)))
        return 0
    app = chosen_app(ctx)
    urls = load_app(layout(), app).urls()
    if service:
        if service not in urls:
            raise UsageError(
                f"{service!r} has no URL yet (is it pushed? dotkit info lists services)"
            )
        click.echo(urls[service])
        return 0
    if not urls:
        click.echo("Nothing is deployed yet: dotkit push")
    for name, url in urls.items():
        click.echo(f"{name}: {url}")
    for line in _gateway_lines(list(urls), app):
        click.echo(line)
    return 0


@click.command("open")
@click.argument("service", required=False)
@click.pass_context
def open_command(ctx: click.Context, service: str | None) -> int:
    """Open the application's URL in a browser (or print it where there is none)."""
    import webbrowser

    from kit.sandbox.state import load_app

    urls = load_app(layout(), chosen_app(ctx)).urls()
    url = urls.get(service) if service else next(iter(urls.values()), None)
    if url is None:
        raise UsageError("nothing to open: the service has no URL yet (dotkit push first)")
    if not webbrowser.open(url):
        click.echo(url)
    return 0


def _status(name: str) -> dict[str, Any]:
    """The platform's view of ``name``; restarts the platform if the app should be running."""
    from kit.sandbox.client import connect
    from kit.sandbox.push.recover import recover
    from kit.sandbox.state import load_app

    lay = layout()
    recover(lay, name)
    should_run = bool(load_app(lay, name).containers)
    client = connect(lay, start=should_run)
    if client is None:
        return {"containers": {}, "routes": {}}
    with client:
        return client.call("status", app=name)


@click.command("info")
@click.argument("service", required=False)
@click.pass_context
def info_command(ctx: click.Context, service: str | None) -> int:
    """Describe the application, or one SERVICE and its instances."""
    from kit.commands import _framing
    from kit.sandbox.engine import backend_name
    from kit.sandbox.state import load_app

    name = chosen_app(ctx)
    record = load_app(layout(), name)
    backend = record.backend or backend_name()
    urls = record.urls()
    if service is None:
        rows = [
            _framing.ServiceRow(
                item.name,
                item.type,
                len(record.containers.get(item.name, ())),
                _memory(record.memory.get(item.name, 0), backend),
                urls.get(item.name, "-"),
            )
            for item in record.services
        ]
        flavor = f"sandbox ({backend} backend)"
        for line in _framing.info_app(name, flavor, record.revision, record.current, rows):
            click.echo(line)
        return 0
    svc = record.service(service)
    if svc is None:
        raise UsageError(f'"{name}" has no service "{service}"')
    instances = _instance_info(name, service, record)
    lines = _framing.info_service(
        service, svc.type, _memory(record.memory.get(service, 0), backend),
        sorted(svc.config.items()),
        [urls[service]] if service in urls else [], instances,
    )  # fmt: skip
    for line in lines:
        click.echo(line)
    return 0


def _memory(chosen: int, backend: str) -> str:
    """The reserved memory, as the CLI showed it (N/A where limits are not enforced)."""
    from kit.sandbox.backend import boxed
    from kit.sandbox.isolation.limits import for_container, format_size

    return format_size(for_container(chosen).memory) if boxed(backend) else "N/A"


def _instance_info(name: str, service: str, record: Any) -> list[Any]:
    from pathlib import PurePath

    from kit.commands._framing import InstanceInfo
    from kit.sandbox.isolation.rootfs import hostname
    from kit.sandbox.runtime import load_runtime

    status = _status(name)["containers"]
    app = layout().app(name)
    specs = load_runtime(app).containers
    out = []
    for index, cid in enumerate(record.containers.get(service, ())):
        spec = specs.get(cid)
        node = f"v{PurePath(spec.node).name}" if spec and spec.node else "this machine's node"
        deployed = record.service(service)
        runtime = f"{deployed.type}/{node}" if deployed and deployed.type == "nodejs" else "-"
        ports = [
            (port, f"tcp://127.0.0.1:{number}")
            for port in sorted(
                {k.split(".")[1] for k in record.public_ports if k.startswith(f"{service}.")}
            )
            if (number := record.public_port(service, port, index)) is not None
        ]
        out.append(InstanceInfo(
            index, hostname(service, index), cid, runtime, record.revision or "-", ports,
            bool(status.get(cid, {}).get("alive")), str(app.container(cid)),
        ))  # fmt: skip
    return out


def _instances(ctx: click.Context, spec: str) -> tuple[str, list[tuple[int, str]]]:
    from kit.sandbox.state import load_app

    name = chosen_app(ctx)
    service, index = service_and_instance(spec)
    cids = load_app(layout(), name).containers.get(service)
    if not cids:
        raise UsageError(f'"{name}" has no running service "{service}" (dotkit info lists them)')
    pairs = list(enumerate(cids))
    if index is not None:
        if index >= len(pairs):
            raise UsageError(
                f"{service} has {len(pairs)} instance(s); there is no {service}.{index}"
            )
        pairs = [pairs[index]]
    return name, pairs


@click.command("status")
@click.argument("service")
@click.pass_context
def status_command(ctx: click.Context, service: str) -> int:
    """Whether each instance of SERVICE is up, with its programs' states."""
    from kit.commands._framing import status
    from kit.sandbox.probe import programs

    name, pairs = _instances(ctx, service)
    found = _status(name)["containers"]
    lay = layout()
    rows = []
    for index, cid in pairs:
        alive = found.get(cid, {}).get("alive", False)
        states = programs(lay.container_sockets(name, cid) / "supervisor.sock") if alive else None
        up = bool(states) and all(p["statename"] in ("RUNNING", "STARTING") for p in states or [])
        shown = [(p["name"], p["statename"], p["description"]) for p in states or []]
        rows.append((index, up, shown))
    for line in status(service.split(".")[0], rows):
        click.echo(line)
    return 0


LOG_DIR = (".dotkit", "log")  # in a container's home; the container writes in it
CONTAINER_LOG = (".dotkit", "container.log")  # the platform's notes: what the kernel killed


def _log_files(home: Path) -> list[tuple[str, ...]]:
    """The container's supervisor logs, then the platform's notes about it (as parts
    under ``home``, each reached without following a link)."""
    from kit.safeio import regular_files

    logs = [(*LOG_DIR, log) for log in regular_files(home, *LOG_DIR, suffix=".log")]
    notes = CONTAINER_LOG[-1] in regular_files(home, *CONTAINER_LOG[:-1])
    return logs + ([CONTAINER_LOG] if notes else [])


def _shown(parts: tuple[str, ...], text: str) -> list[str]:
    """The lines ``logs`` shows: all, or of the platform's notes, the kills
    (``killed: out of memory (limit 512M)``)."""
    lines = text.splitlines()
    if parts == CONTAINER_LOG:
        return [line for line in lines if " dotkit: " in line]
    return lines


def _header(parts: tuple[str, ...]) -> str:
    if parts == CONTAINER_LOG:
        return "== the container's limits (dotkit) =="
    return f"== /var/log/supervisor/{parts[-1]} =="


@click.command("logs")
@click.argument("service")
@click.option("-n", "--lines", type=int, default=10, show_default=True, help="Lines of history.")
@click.option("-N", "--no-follow", is_flag=True, help="Print and exit instead of following.")
@click.pass_context
def logs_command(ctx: click.Context, service: str, lines: int, no_follow: bool) -> int:
    """Show the logs of SERVICE[.N] (instance 0 by default): supervisord and its programs.

    The container writes its logs: a link or a FIFO it leaves there is not read.
    """
    from kit.safeio import read_beneath

    name, pairs = _instances(ctx, service if "." in service else f"{service}.0")
    index, cid = pairs[0]
    who = f"{service.split('.')[0]}.{index}"
    home = layout().app(name).container(cid)
    offsets: dict[tuple[str, ...], int] = {}
    for parts in _log_files(home):
        try:
            data = read_beneath(home, *parts)
        except OSError:
            continue
        text, offsets[parts] = _shown(parts, data.decode("utf-8", errors="replace")), len(data)
        if parts == CONTAINER_LOG and not text:
            continue
        click.echo(f"[{who}] {_header(parts)}")
        for line in text[-lines:] if lines > 0 else []:
            click.echo(f"[{who}] {line}")
    if no_follow:
        return 0
    try:
        while True:
            time.sleep(0.2)
            for parts in _log_files(home):
                try:
                    chunk = read_beneath(home, *parts, offset=offsets.get(parts, 0))
                except OSError:
                    continue
                offsets[parts] = offsets.get(parts, 0) + len(chunk)
                for line in _shown(parts, chunk.decode("utf-8", errors="replace")):
                    click.echo(f"[{who}] {line}")
    except KeyboardInterrupt:
        return 0


@click.command("dlist")
@click.pass_context
def dlist_command(ctx: click.Context) -> int:
    """List the application's deployments, newest last."""
    from kit.commands._framing import DeploymentRow, dlist
    from kit.sandbox.push.recover import recover
    from kit.sandbox.state import list_deployments

    name = chosen_app(ctx)
    recover(layout(), name)  # a push killed half-way shows as failed, its containers gone
    app = layout().app(name)
    records = list_deployments(app)
    if not records:
        click.echo("No deployments yet: dotkit push")
        return 0
    rows = [DeploymentRow(r.started, r.revision, r.id, r.status) for r in records]
    for line in dlist(name, rows):
        click.echo(line)
    return 0


@click.command("dlogs")
@click.argument("deployment")
@click.option("-n", "--lines", type=int, default=0, help="Only the last N lines.")
@click.option("-N", "--no-follow", is_flag=True, help="Do not wait for a running deployment.")
@click.pass_context
def dlogs_command(ctx: click.Context, deployment: str, lines: int, no_follow: bool) -> int:
    """Show a deployment's log: an id from dlist, or `latest`. Follows a running push."""
    from kit.sandbox.push.recover import recover
    from kit.sandbox.state import deployment_log, find_deployment, load_deployment

    name = chosen_app(ctx)
    recover(layout(), name)  # a push killed half-way is not followed forever
    app = layout().app(name)
    record = find_deployment(app, deployment)
    path = deployment_log(app, record.id)
    data = _read_from(path, 0)
    text = data.decode("utf-8", errors="replace")
    shown = text.splitlines()[-lines:] if lines else text.splitlines()
    for line in shown:
        click.echo(line)
    offset = len(data)
    while not no_follow and load_deployment(app, record.id).status == "running":
        time.sleep(0.2)
        data = _read_from(path, offset)
        if data:
            click.echo(data.decode("utf-8", errors="replace"), nl=False)
            offset += len(data)
    final = load_deployment(app, record.id)
    click.echo(f"-- deployment {final.id}: {final.status}")
    return 0 if final.status == "deployed" else 2  # the 0.9.8 CLI's status for deploy_fail


def _read_from(path: Path, offset: int) -> bytes:
    """A deployment log from ``offset`` (no link followed, no FIFO waited on); b"" when
    there is none yet."""
    from kit.safeio import read_beneath

    try:
        return read_beneath(path.parent, path.name, offset=offset)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise OperationFailed(f"cannot read {path}: {exc.strerror}") from None
