"""Step 6: the router moves to the new containers; the old ones drain and stop.

Each code service has an HTTP route (the URL ``push`` prints, and a socket other
containers reach it through) and one route per TCP port (plus one per instance of
a scaled service: TCP is not balanced). Switching replaces a route's backends at
once; connections already open finish on the old containers, which the platform
process stops once they have drained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.platform.facts import HTTP_PORT
from kit.platform.model import Service
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.push.context import Context, Plan
from kit.sandbox.records import AppRecord, DeployedService, url_of
from kit.sandbox.seams import PlatformClient
from kit.sandbox.state import save_app


class RouteCall(NamedTuple):
    name: str
    listen: list[str]
    backends: list[str]


def routes_for(
    services_dir: Path,
    service: str,
    http_port: int,
    tcp: Mapping[str, int],
    cids: Sequence[str],
    public: Mapping[str, int] | None = None,
) -> list[RouteCall]:
    """The routes of ``service`` served by ``cids`` (instance N is ``cids[N]``).

    ``tcp`` gives the number each TCP port binds inside the containers; ``public``
    (``"port.N"`` keys) the public number instance N of it answers on this
    machine. TCP is never balanced: each instance's port is a route of its own.
    """
    calls = [
        RouteCall(
            f"{service}.http",
            [f"tcp:127.0.0.1:{http_port}", f"unix:{services_dir}/{service}.http.sock"],
            [f"container:{cid}:{HTTP_PORT}" for cid in cids],
        )
    ]
    for name, port in tcp.items():
        for index, cid in enumerate(cids):
            route = f"{service}.{name}.{index}"
            listen = [f"unix:{services_dir}/{route}.sock"]
            number = (public or {}).get(f"{name}.{index}")
            if number is not None:
                listen.insert(0, f"tcp:127.0.0.1:{number}")
            calls.append(RouteCall(route, listen, [f"container:{cid}:{port}"]))
    return calls


def public_of(record: AppRecord, service: str) -> dict[str, int]:
    """``"port.N"`` -> public number, for one service."""
    prefix = f"{service}."
    return {k[len(prefix) :]: v for k, v in record.public_ports.items() if k.startswith(prefix)}


def unroute_stale(
    platform: PlatformClient, app: str, service: str, keep: Sequence[str]
) -> list[str]:
    """Remove the routes of ``service`` that are not in ``keep`` (a scale-down's, or
    ones named the way an older dotkit named them); their names."""
    gone = []
    for name in platform.call("status", app=app)["routes"]:
        if name.split(".")[0] == service and name not in keep:
            platform.call("unroute", app=app, name=name)
            gone.append(name)
    return gone


def _send(platform: PlatformClient, app: str, calls: Sequence[RouteCall]) -> None:
    for call in calls:
        platform.call("route", app=app, name=call.name, listen=call.listen, backends=call.backends)


def switch_all(
    ctx: Context, plan: Plan, new: Mapping[str, Sequence[ContainerSpec]]
) -> tuple[AppRecord, dict[str, str]]:
    """Every code service's routes to its new containers; the app record (with the
    HTTP ports it now has, saved) and the URLs."""
    record, urls = plan.record, {}
    for svc in plan.app.code_services:
        record, urls[svc.name] = switch(ctx, record, svc, new[svc.name])
    return record, urls


def switch(
    ctx: Context, record: AppRecord, svc: Service, specs: Sequence[ContainerSpec]
) -> tuple[AppRecord, str]:
    if svc.name not in record.http_ports:
        record = record.with_http_port(svc.name, ctx.seams.free_port)
        save_app(ctx.layout, record)
    port = record.http_ports[svc.name]
    for spec in specs:
        ctx.log("Re-routing traffic to the new build...", f"{svc.name}.{spec.instance}")
    ctx.journal.switching(svc.name)
    tcp = {name: record.tcp_ports[f"{svc.name}.{name}"] for name in svc.tcp_ports}
    services_dir = ctx.layout.service_sockets(ctx.app.name)
    cids = [s.cid for s in specs]
    calls = routes_for(services_dir, svc.name, port, tcp, cids, public_of(record, svc.name))
    _send(ctx.seams.platform, ctx.app.name, calls)
    unroute_stale(ctx.seams.platform, ctx.app.name, svc.name, [c.name for c in calls])
    for spec in specs:
        revision = ctx.journal.record.revision
        ctx.log(f"Successfully deployed build revision {revision}", f"{svc.name}.{spec.instance}")
    return record, url_of(port)


def route_back(
    layout: Layout, app: AppLayout, platform: PlatformClient, record: AppRecord, service: str
) -> None:
    """``service``'s routes as ``record`` has them (to the old containers, or none)."""
    cids = record.containers.get(service, ())
    deployed = record.service(service)
    calls = []
    if cids and deployed is not None and service in record.http_ports:
        tcp = {name: record.tcp_ports[f"{service}.{name}"] for name in _tcp_names(deployed)
               if f"{service}.{name}" in record.tcp_ports}  # fmt: skip
        calls = routes_for(
            layout.service_sockets(app.name), service, record.http_ports[service], tcp, cids,
            public_of(record, service),
        )  # fmt: skip
    _send(platform, app.name, calls)
    unroute_stale(platform, app.name, service, [call.name for call in calls])


def _tcp_names(service: DeployedService) -> list[str]:
    return [name for name, kind in service.ports.items() if kind in ("tcp", "udp")]


def commit(
    ctx: Context,
    record: AppRecord,
    plan: Plan,
    new: Mapping[str, Sequence[ContainerSpec]],
    kept: Mapping[str, tuple[str, ...]],
) -> AppRecord:
    """The app record names the new containers: from here on, the push is not undone."""
    containers = {
        # A service removed from dotcloud.yml keeps running until destroyed.
        **{k: v for k, v in record.containers.items() if k not in new and k not in kept},
        **{name: tuple(s.cid for s in specs) for name, specs in new.items()},
        **kept,
    }
    record = dataclasses.replace(
        record,
        containers=containers,
        current=ctx.dep_id,
        revision=plan.revision,
        services=tuple(DeployedService.of(s) for s in plan.app.services),
    )
    save_app(ctx.layout, record)
    ctx.journal.committed = True
    return record


def retire(
    ctx: Context, old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[ContainerSpec]]
) -> None:
    """Hand the old containers to the platform process: it drains, stops and removes them."""
    keep = {spec.cid for specs in new.values() for spec in specs}
    for service, cids in old.items():
        gone = [cid for cid in cids if cid not in keep]
        if not gone or service not in new:
            continue
        ctx.seams.platform.call(
            "retire",
            app=ctx.app.name,
            name=f"{service}.http",
            cids=gone,
            backends=[f"container:{c}:{HTTP_PORT}" for c in gone],
            remove=[str(ctx.app.container(c)) for c in gone]
            + [str(ctx.layout.container_sockets(ctx.app.name, c)) for c in gone],
        )
        ctx.log(f"Old containers of {service} are draining, then stop", service)
    for name in sorted(set(old) - set(new)):
        ctx.log(f"service {name} is no longer in dotcloud.yml; it keeps running", name)


def failed_requests(ctx: Context) -> int:
    """Requests the router could not serve, over all the app's routes, so far."""
    routes = ctx.seams.platform.call("status", app=ctx.app.name)["routes"]
    return sum(int(r["failed"]) for r in routes.values())


def report_downtime(ctx: Context, down_since: Mapping[str, float]) -> dict[str, float]:
    downtime = {}
    for service, since in down_since.items():
        seconds = ctx.seams.clock.monotonic() - since
        downtime[service] = round(seconds, 3)
        ctx.log(f"~/data: the service was down for {seconds:.2f} s during this push", service)
    return downtime
