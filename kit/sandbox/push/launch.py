"""Step 5: new containers for every code service, started side by side, then awaited.

For each instance: its home is written, ``postinstall`` runs, ``~/data`` moves in
from the old instance of the same number (if it had one), and the platform
process starts it. Then each instance must answer (HTTP on 8080, its TCP ports,
or for a worker, its programs RUNNING) before any traffic moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.errors import KitError
from kit.platform.model import App, Service
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.envfile import service_host
from kit.sandbox.isolation import limits
from kit.sandbox.isolation.limits import format_size
from kit.sandbox.probe import NotReady
from kit.sandbox.push import datamove
from kit.sandbox.push.build import Built
from kit.sandbox.push.context import Context, Plan, PushFailed
from kit.sandbox.push.home import code_home, write_new
from kit.sandbox.push.plan import findings_text
from kit.sandbox.push.postinstall import postinstall
from kit.sandbox.records import InstanceReady


class Started(NamedTuple):
    service: Service
    spec: ContainerSpec
    pid: int  # the container's first process, as the host numbers it
    expect_http: bool | None  # what the code's listen() calls say (None: no listen found)


def expects_http(service: Service, app: App) -> bool | None:
    """Whether the service's code serves HTTP: True, False (TCP only), None (no listen)."""
    from kit.js.analysis import analyze_js

    prefix = "" if service.approot == "." else service.approot + "/"
    found_listen = False
    for rel in app.files:
        if rel.startswith(prefix) and rel.endswith((".js", ".mjs", ".cjs")):
            try:
                analysis = analyze_js((app.root / rel).read_bytes())
            except OSError:
                continue
            for call in analysis.listens:
                found_listen = True
                if call.server in ("http", "unknown"):
                    return True
    return False if found_listen else None


def start_all(
    ctx: Context, plan: Plan, built: Mapping[str, Built], old: Mapping[str, Sequence[str]]
) -> tuple[list[Started], dict[str, float]]:
    """Every new instance started; and, per service whose ``~/data`` moved, when it went down."""
    started: list[Started] = []
    down_since: dict[str, float] = {}
    for svc in plan.app.code_services:
        instances, since = start_service(ctx, plan, svc, built[svc.name], old.get(svc.name, ()))
        started += instances
        if since is not None:
            down_since[svc.name] = since
    return started, down_since


def start_service(
    ctx: Context, plan: Plan, svc: Service, built: Built, old: Sequence[str]
) -> tuple[list[Started], float | None]:
    count = plan.counts[svc.name]
    how = "custom" if plan.record.scale.get(svc.name) else "default"
    ctx.log(f"Using {how} scaling for service {svc.name} ({count} instance(s)).", svc.name)
    if ctx.netns:
        memory = format_size(limits.for_container(plan.record.memory.get(svc.name, 0)).memory)
        ctx.log(f'Using limits for service "{svc.name}": ram={memory}', svc.name)
    expect_http = expects_http(svc, plan.app)
    node = str(built.node.folder) if built.node else None
    started, down_since = [], None
    for index in range(count):
        who = f"{svc.name}.{index}"
        home = code_home(ctx, plan, svc, index, built.snapshot, node)
        ctx.journal.starting(home.spec.cid)
        write_new(home, built.snapshot, ctx.seams.runner)
        ctx.log("Initializing...", who)
        postinstall(ctx, home.spec, svc, who)
        if index < len(old):
            since = datamove.move(ctx, old[index], home.spec, who)
            down_since = down_since if down_since is not None else since
        ctx.log("Launching...", who)
        reply = ctx.seams.platform.call("start", spec=home.spec.to_json())
        started.append(Started(svc, home.spec, int(reply["child_pid"]), expect_http))
    return started, down_since


def await_all(
    ctx: Context, plan: Plan, started: Sequence[Started]
) -> dict[str, list[ContainerSpec]]:
    """Wait for each started instance in turn (they boot side by side); by service."""
    new: dict[str, list[ContainerSpec]] = {svc.name: [] for svc in plan.app.code_services}
    for item in started:
        who = f"{item.service.name}.{item.spec.instance}"
        ready = await_ready(ctx, plan, item, who)
        ctx.journal.update(instances={**ctx.journal.record.instances, who: ready})
        new[item.service.name].append(item.spec)
    return new


def await_ready(ctx: Context, plan: Plan, item: Started, who: str) -> InstanceReady:
    svc, spec = item.service, item.spec
    ctx.log("Waiting for the instance to become responsive...", who)
    try:
        ready = ctx.seams.wait_ready(
            sockets=Path(spec.sockets),
            pid=item.pid,
            expect_http=item.expect_http,
            tcp_ports=[plan.tcp_ports[f"{svc.name}.{p}"] for p in svc.tcp_ports],
            timeout=ctx.request.ready_timeout,
            log_dir=Path(spec.home) / ".dotkit" / "log",
            netns=ctx.netns,
            http_host=service_host(svc.name, ctx.app.name),
        )
    except NotReady as exc:
        killed = kills(ctx, spec.cid)
        hint = port_findings(plan.app, svc)
        raise PushFailed(
            f"{who} is not responsive: {exc.message}"
            + (f"\n{killed}" if killed else "")
            + (f"\n{hint}" if hint else "")
            + (f"\nLast log lines:\n{exc.log_tail}" if exc.log_tail else "")
        ) from None
    ctx.log(f"Instance is responsive ({ready.how}, {ready.seconds * 1000:.0f} ms)", who)
    if killed := kills(ctx, spec.cid):
        ctx.log(killed, who)
    return InstanceReady(spec.cid, ctx.seams.clock.time(), round(ready.seconds, 4))


def kills(ctx: Context, cid: str) -> str:
    """What the kernel killed in the container for going past its limits, in words."""
    try:
        report = ctx.seams.platform.call("limits", app=ctx.app.name).get(cid) or {}
    except KitError:
        return ""
    lines = []
    if report.get("oom_kills"):
        lines.append(
            f"{report.get('message') or 'killed: out of memory'} "
            f"({report['oom_kills']} process(es) so far); raise it with "
            f"dotkit scale {cid.split('.')[0]}:memory=SIZE"
        )
    if report.get("forks_refused"):
        lines.append(f"fork refused: process limit reached (limit {report.get('pids')})")
    return "\n".join(lines)


def port_findings(app: App, svc: Service) -> str:
    """What the verifier says about the service's code, when an instance does not answer."""
    from kit.verify.code import check_code
    from kit.verify.model import Target

    findings = [
        f
        for f in check_code(Target(app.root, app.files, (svc,)), cache_path=None)
        if f.severity == "error"
    ]
    return ("What dotkit verify says:\n" + findings_text(findings)) if findings else ""
