"""Step 4: data services, created on the first push and never rebuilt by later ones.

A data service's container (``SERVICE.0-data``) keeps running across pushes, and
with it its data; a push only starts it when it is not running (created the
first time, restarted from its kept ``data/`` after that) and points the
service's route at it. A MySQL (MariaDB) or PostgreSQL service is initialised
once, in its container as its unprivileged user, before its first start, and
is awaited until it answers in its own protocol (a port that listens is not
yet a database that takes clients).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kit.platform.model import Service
from kit.proc import output_tail
from kit.sandbox import datastores, dbready
from kit.sandbox.backend import ContainerSpec, boxed, host_env, isolated_argv, process_env
from kit.sandbox.datastores import Step
from kit.sandbox.probe import NotReady
from kit.sandbox.push.context import Context, Plan, PushFailed
from kit.sandbox.push.home import store_cid, store_home, store_setup, write_over
from kit.sandbox.push.switch import unroute_stale
from kit.sandbox.steps import encode

INIT_TIMEOUT = 600.0  # every step of a database's initialisation


def ensure_all(ctx: Context, plan: Plan) -> dict[str, tuple[str, ...]]:
    """Every data service running and routed; its container, by service name."""
    return {svc.name: (ensure(ctx, plan, svc),) for svc in plan.app.data_services}


def ensure(ctx: Context, plan: Plan, svc: Service) -> str:
    port_name = svc.port_names[-1]
    port = plan.tcp_ports[f"{svc.name}.{port_name}"]
    cid = store_cid(svc)
    platform = ctx.seams.platform
    started = cid not in platform.call("status", app=ctx.app.name)["containers"]
    if not started:
        ctx.log(f"{svc.type} service kept as it is (data services are not rebuilt)", svc.name)
    else:
        start(ctx, plan, svc, port_name, port)
    # Reached as instance 0 of its port, like any TCP endpoint: from the app's
    # containers through the socket, from this machine at its public number.
    sockets = ctx.layout.service_sockets(ctx.app.name)
    route = f"{svc.name}.{port_name}.0"
    listen = [f"unix:{sockets}/{route}.sock"]
    public = plan.record.public_port(svc.name, port_name)
    if public is not None:
        listen.insert(0, f"tcp:127.0.0.1:{public}")
    platform.call(
        "route", app=ctx.app.name, name=route, listen=listen, backends=[f"container:{cid}:{port}"]
    )
    unroute_stale(platform, ctx.app.name, svc.name, [route])
    if started:
        await_protocol(ctx, svc, public)
    return cid


def start(ctx: Context, plan: Plan, svc: Service, port_name: str, port: int) -> None:
    home = store_home(ctx, plan, svc, port_name)
    spec = home.spec
    fresh = write_over(home, make_data=svc.type not in datastores.KINDS)
    setup = store_setup(plan, svc, spec)
    what = "Creating" if fresh or setup else "Restarting"
    ctx.log(f"{what} the {svc.type} service (its data stays across pushes)", svc.name)
    if setup:
        ctx.log(f"Initializing the {svc.type} database (once, before its first start)", svc.name)
        initialise(ctx, svc, spec, setup)
    reply = ctx.seams.platform.call("start", spec=spec.to_json())
    try:
        ctx.seams.wait_ready(
            sockets=Path(spec.sockets),
            pid=int(reply["child_pid"]),
            expect_http=False,
            tcp_ports=[port],
            timeout=ctx.request.ready_timeout,
            log_dir=Path(spec.home) / ".dotkit" / "log",
            netns=ctx.netns,
        )
    except NotReady as exc:
        ctx.seams.platform.call("stop", cid=spec.cid, app=ctx.app.name)
        raise PushFailed(
            f"the {svc.type} service {svc.name} did not start: {exc.message}"
            + (f"\nLast log lines:\n{exc.log_tail}" if exc.log_tail else "")
        ) from None
    ctx.log(f"{svc.type} is ready on port {port}", svc.name)


def initialise(ctx: Context, svc: Service, spec: ContainerSpec, steps: list[Step]) -> None:
    """Run the one-time setup in the service's container, as its user, all steps in one
    start of it (:mod:`kit.sandbox.steps`); stop at a failure."""
    if boxed(spec.backend):
        runner = ["/usr/bin/python3", "-m", "kit.sandbox.steps"]
        argv, env = isolated_argv(spec, runner, kind="hook"), host_env(spec)
    else:
        argv, env = [sys.executable, "-m", "kit.sandbox.steps"], process_env(spec)
    done = ctx.seams.runner.run(
        argv, env=env, timeout=INIT_TIMEOUT, check=False, input=encode(steps)
    )
    if done.returncode != 0:
        tail = output_tail(done.stdout, done.stderr)
        raise PushFailed(
            f"the {svc.type} service {svc.name} could not be initialised"
            + (f":\n{tail}" if tail else f" (status {done.returncode})")
        )


def await_protocol(ctx: Context, svc: Service, public: int | None) -> None:
    """A MySQL or PostgreSQL server that answers in its own protocol, at its public port."""
    if svc.type not in datastores.KINDS or public is None:
        return
    try:
        said = dbready.wait_ready(
            svc.type, dbready.tcp("127.0.0.1", public), ctx.request.ready_timeout
        )
    except dbready.NotReady as exc:
        raise PushFailed(f"the {svc.type} service {svc.name} did not start: {exc}") from None
    ctx.log(f"{svc.type} answers: {said}", svc.name)
