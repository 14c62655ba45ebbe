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
    from kit.sandbox.engine import backend_name
    from kit.sandbox.state import load_app

    name = chosen_app(ctx)
    record = load_app(layout(), name)
    urls = record.urls()
    if service is None:
        click.echo(f"=== {name}\nflavor:     sandbox ({backend_name()} backend)")
        click.echo(f"revision:   {record.revision or '(nothing pushed yet)'}")
        click.echo(f"deployment: {record.current or '-'}\n")
        click.echo(f"{'name':<17}{'type':<10}{'containers':<12}url")
        for item in record.services:
            count = len(record.containers.get(item.name, ()))
            click.echo(f"{item.name:<17}{item.type:<10}{count:<12}{urls.get(item.name, '-')}")
        return 0
    svc = record.service(service)
    if svc is None:
        raise UsageError(f'"{name}" has no service "{service}"')
    status = _status(name)["containers"]
    click.echo(f"=== {name}.{service}\ntype:      {svc.type}\napproot:   {svc.approot}")
    click.echo(f"instances: {len(record.containers.get(service, ()))}")
    click.echo(f"url:       {urls.get(service, '-')}")
    for key, value in sorted(svc.ports.items()):
        number = record.tcp_ports.get(f"{service}.{key}")
        click.echo(f"port:      {key} ({value}) -> PORT_{key.upper()}={number}")
    for cid in record.containers.get(service, ()):
        state = status.get(cid, {})
        click.echo(f"\n--- instance {cid}\nrevision:  {record.revision}")
        click.echo(f"running:   {'yes' if state.get('alive') else 'no'}")
        click.echo(f"home:      {layout().app(name).container(cid)}")
    return 0


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
    from kit.sandbox.probe import programs

    name, pairs = _instances(ctx, service)
    status = _status(name)["containers"]
    lay = layout()
    for index, cid in pairs:
        alive = status.get(cid, {}).get("alive", False)
        states = programs(lay.container_sockets(name, cid) / "supervisor.sock") if alive else None
        up = bool(states) and all(p["statename"] in ("RUNNING", "STARTING") for p in states or [])
        click.echo(f"{service.split('.')[0]}.{index}: {'up' if up else 'down'}")
        for prog in states or []:
            click.echo(f"    {prog['name']:<12} {prog['statename']:<9} {prog['description']}")
    return 0


LOG_DIR = (".dotkit", "log")  # in a container's home; the container writes in it


@click.command("logs")
@click.argument("service")
@click.option("-n", "--lines", type=int, default=10, show_default=True, help="Lines of history.")
@click.option("-N", "--no-follow", is_flag=True, help="Print and exit instead of following.")
@click.pass_context
def logs_command(ctx: click.Context, service: str, lines: int, no_follow: bool) -> int:
    """Show the logs of SERVICE[.N] (instance 0 by default): supervisord and its programs.

    The container writes its logs: a link or a FIFO it leaves there is not read.
    """
    from kit.safeio import read_beneath, regular_files, tail_beneath

    name, pairs = _instances(ctx, service if "." in service else f"{service}.0")
    index, cid = pairs[0]
    who = f"{service.split('.')[0]}.{index}"
    home = layout().app(name).container(cid)
    offsets: dict[str, int] = {}
    for log in regular_files(home, *LOG_DIR, suffix=".log"):
        text, offsets[log] = tail_beneath(home, *LOG_DIR, log, lines=lines)
        click.echo(f"[{who}] == /var/log/supervisor/{log} ==")
        for line in text:
            click.echo(f"[{who}] {line}")
    if no_follow:
        return 0
    try:
        while True:
            time.sleep(0.2)
            for log in regular_files(home, *LOG_DIR, suffix=".log"):
                try:
                    chunk = read_beneath(home, *LOG_DIR, log, offset=offsets.get(log, 0))
                except OSError:
                    continue
                offsets[log] = offsets.get(log, 0) + len(chunk)
                for line in chunk.decode("utf-8", errors="replace").splitlines():
                    click.echo(f"[{who}] {line}")
    except KeyboardInterrupt:
        return 0


@click.command("dlist")
@click.pass_context
def dlist_command(ctx: click.Context) -> int:
    """List the application's deployments, newest last."""
    from kit.sandbox.push.recover import recover
    from kit.sandbox.state import list_deployments

    name = chosen_app(ctx)
    recover(layout(), name)  # a push killed half-way shows as failed, its containers gone
    app = layout().app(name)
    records = list_deployments(app)
    if not records:
        click.echo("No deployments yet: dotkit push")
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.started))
        click.echo(f"{when}  {r.revision or '-':<22} {r.id:<6} {r.status}")
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
    return 0 if final.status == "deployed" else 1


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
