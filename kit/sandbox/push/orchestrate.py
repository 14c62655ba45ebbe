"""A push, step by step, as its deployment log tells it.

:func:`deploy` is the whole sequence; each step is a module of this package and
takes typed values (the :class:`~kit.sandbox.push.context.Context`, the
:class:`~kit.sandbox.push.context.Plan`) rather than reaching into shared state.
Nothing that serves traffic changes until every new instance has answered. Up to
the commit (the app record naming the new containers), any failure or Ctrl-C
undoes the push and the previous revision keeps serving; after it, the new
revision serves and what is left (retiring the old containers) is finished by the
next command if this one cannot.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kit.errors import KitError
from kit.platform.model import App
from kit.sandbox import datastores
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.build import BUILD_TIMEOUT
from kit.sandbox.dockerbox import DockerTarget
from kit.sandbox.engine import backend_name
from kit.sandbox.layout import Layout
from kit.sandbox.probe import NotReady
from kit.sandbox.push.build import build_all
from kit.sandbox.push.context import Context, Journal, PushFailed, Request
from kit.sandbox.push.launch import await_all, start_all
from kit.sandbox.push.lock import push_lock
from kit.sandbox.push.log import DeployLog, Echo
from kit.sandbox.push.plan import check_instances, plan, read_app
from kit.sandbox.push.recover import cleanup_stale, undo
from kit.sandbox.push.stores import ensure_all
from kit.sandbox.push.switch import commit, failed_requests, report_downtime, retire, switch_all
from kit.sandbox.push.upload import receive
from kit.sandbox.records import AppRecord, Deployment
from kit.sandbox.seams import Seams, system
from kit.sandbox.state import deployment_log, load_app, save_app

READY_TIMEOUT = 60.0


def push(
    layout: Layout,
    app_name: str,
    source: Path | None,
    *,
    revision: str | None = None,
    clean: bool = False,
    git: bool = False,
    echo: Echo | None = None,
    ready_timeout: float = READY_TIMEOUT,
    build_timeout: float = BUILD_TIMEOUT,
    seams: Seams | None = None,
    node: str = "platform",
    started: Callable[[str], None] | None = None,
) -> Deployment:
    """Push ``source`` (or deploy a stored ``revision``) to ``app_name``; the deployment's
    record. Raises :class:`PushFailed` (carrying the failed record) when it did not deploy.

    ``node`` is ``"platform"`` (the Node.js build ``config: node_version`` names) or
    ``"host"`` (this machine's node); ``started`` is told the deployment's id as soon
    as it has one."""
    request = Request(source, revision, git, clean, ready_timeout, build_timeout, node)
    seams = seams or system(layout)
    app = layout.app(app_name)
    load_app(layout, app_name)  # a missing or damaged app stops here, before the lock
    try:
        with push_lock(app):
            cleanup_stale(layout, app_name, seams.platform, seams.clock)
            ctx, record = begin(layout, load_app(layout, app_name), request, seams, echo)
            if started is not None:
                started(ctx.dep_id)
            return guarded(ctx, record)
    finally:
        seams.platform.close()


def begin(
    layout: Layout, record: AppRecord, request: Request, seams: Seams, echo: Echo | None
) -> tuple[Context, AppRecord]:
    """A new deployment: its number taken from the app record, its record and log opened."""
    number = record.next_deployment
    record = dataclasses.replace(record, next_deployment=number + 1)
    save_app(layout, record)
    app, backend = layout.app(record.name), record.backend or backend_name()
    deployment = Deployment(
        id=f"d{number}", number=number, started=seams.clock.time(), backend=backend,
        clean=request.clean,
    )  # fmt: skip
    log = DeployLog(deployment_log(app, deployment.id), echo, seams.clock.time)
    ctx = Context(layout, app, backend, request, seams, log, Journal(app, deployment))
    return ctx, record


def engine_target(ctx: Context, app: App) -> DockerTarget:
    """The docker backend's engine and platform image (built, once, if need be): the
    one with MariaDB and PostgreSQL for an app with a mysql or postgresql service."""
    sql = any(svc.type in datastores.KINDS for svc in app.data_services)
    target = ctx.seams.docker(ctx.log, sql)
    ctx.log(f"Docker engine {target.engine}, image {target.image}")
    return target


def guarded(ctx: Context, record: AppRecord) -> Deployment:
    """:func:`deploy`, undone if it fails before its commit."""
    try:
        deploy(ctx, record)
    except KeyboardInterrupt:
        if not ctx.journal.committed:
            abandon(ctx, "interrupted (Ctrl-C)")
        raise
    except (KitError, NotReady, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        if ctx.journal.committed:
            ctx.log(f"The new revision serves, but the push could not finish: {message}")
            raise PushFailed(
                f"the new revision is serving, but the push could not finish: {message}\n"
                f"The next dotkit command for this application finishes it; the full log: "
                f"dotkit dlogs {ctx.dep_id}",
                ctx.journal.record,
            ) from None
        abandon(ctx, message)
        raise PushFailed(
            f"the push failed: {message}\nThe previous revision (if any) is still serving; "
            f"the full log: dotkit dlogs {ctx.dep_id}",
            ctx.journal.record,
        ) from None
    finally:
        ctx.log.close()
    return ctx.journal.record


def deploy(ctx: Context, record: AppRecord) -> None:
    request = ctx.request
    uploaded = receive(ctx, request)
    app = read_app(uploaded, ctx.backend)
    if ctx.backend == "docker":
        ctx = dataclasses.replace(ctx, docker=engine_target(ctx, app))
    check_instances(app, record)
    ctx.log(f"Deployment {ctx.dep_id} of revision {uploaded.revision} scheduled for {ctx.app.name}")
    built = build_all(
        ctx, app, uploaded.revision, clean=request.clean, timeout=request.build_timeout
    )
    ctx.log("Initializing new services... (This may take a few minutes)")
    deploying = plan(ctx, record, app, uploaded.revision)
    kept = ensure_all(ctx, deploying)
    old = {k: v for k, v in deploying.record.containers.items() if k not in kept}
    failed_before = failed_requests(ctx)
    started, down_since = start_all(ctx, deploying, built, old)
    new = await_all(ctx, deploying, started)
    ctx.log("All services have been initialized. Switching traffic...")
    switched, urls = switch_all(ctx, deploying, new)
    commit(ctx, switched, deploying, new, kept)
    finish(ctx, old, new, down_since, failed_before, urls)


def finish(
    ctx: Context,
    old: Mapping[str, Sequence[str]],
    new: Mapping[str, Sequence[ContainerSpec]],
    down_since: Mapping[str, float],
    failed_before: int,
    urls: dict[str, str],
) -> None:
    """After the commit: the downtime, the old containers retired, the router's count."""
    downtime = report_downtime(ctx, down_since)
    if downtime:
        ctx.journal.update(downtime=downtime)
    retire(ctx, old, new)
    failed = failed_requests(ctx) - failed_before
    ctx.journal.update(failed_requests=failed)
    ctx.log(f"Router: {failed} failed request(s) while switching to the new containers")
    ctx.journal.update(status="deployed", finished=ctx.seams.clock.time(), urls=urls)
    ctx.log("Application fully deployed")
    for name, url in urls.items():
        ctx.log(f"{name}: {url}")
    first = next(iter(urls.values()), None)
    if first:
        ctx.log(f"Application is live at {first}")


def abandon(ctx: Context, why: str) -> None:
    """Undo this push; the routes still (or again) point at the old containers."""
    try:
        before = load_app(ctx.layout, ctx.app.name)
    except (KitError, OSError):
        before = AppRecord(ctx.app.name, 0.0)  # unreadable: nothing to route back to
    undo(ctx.layout, ctx.app, ctx.seams.platform, before, ctx.journal.record)
    ctx.journal.update(status="failed", finished=ctx.seams.clock.time(), error=why)
    with contextlib.suppress(OSError):
        ctx.log(f"Deployment failed: {why}")
