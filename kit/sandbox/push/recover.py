"""Putting back what a push changed: after it fails, or after it was killed half-way.

A push that fails undoes itself (:func:`undo`). A push that was killed leaves its
deployment "running"; the next command that finds it (:func:`recover`) reads the
journal the push kept in the deployment's record and undoes the same things, or,
if the push had already committed (the app record names its containers), finishes
it. Either way, containers that no record names are stopped and removed.

Undo, in order: the routes of services already switched go back to the old
containers; the new containers stop; ``~/data`` goes back and the old containers
that gave it start again; the new containers' homes are removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable
from functools import partial

from kit.errors import KitError, UsageError
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.push import datamove
from kit.sandbox.push.lock import push_lock
from kit.sandbox.push.switch import route_back
from kit.sandbox.records import CID, AppRecord, Deployment
from kit.sandbox.seams import Clock, LazyPlatform, PlatformClient, SystemClock
from kit.sandbox.state import list_deployments, load_app, save_deployment

INTERRUPTED = "the push was interrupted"


def _attempt(action: Callable[[], object]) -> None:
    """One step of an undo; the others still run if it fails (the platform may be gone)."""
    with contextlib.suppress(KitError, OSError):
        action()


def remove_container(layout: Layout, app: AppLayout, cid: str) -> None:
    shutil.rmtree(app.container(cid), ignore_errors=True)
    shutil.rmtree(layout.container_sockets(app.name, cid), ignore_errors=True)


def undo(
    layout: Layout,
    app: AppLayout,
    platform: PlatformClient,
    record: AppRecord,
    deployment: Deployment,
) -> None:
    """Put back what ``deployment`` changed; ``record`` is the app as it was before it."""
    for service in deployment.switched:
        _attempt(partial(route_back, layout, app, platform, record, service))
    for cid in deployment.new_containers:
        _attempt(partial(platform.call, "stop", cid=cid, app=app.name))
    _attempt(partial(datamove.put_back, app, deployment.moves, platform))
    for cid in deployment.new_containers:
        remove_container(layout, app, cid)


def sweep(layout: Layout, app: AppLayout, record: AppRecord, platform: PlatformClient) -> None:
    """Stop and remove every container of ``app`` that its record does not name."""
    if not app.containers.is_dir():
        return
    current = {cid for cids in record.containers.values() for cid in cids}
    for home in sorted(app.containers.iterdir()):
        if home.name in current:
            continue
        if CID.fullmatch(home.name):
            _attempt(partial(platform.call, "stop", cid=home.name, app=app.name))
        remove_container(layout, app, home.name)


def cleanup_stale(
    layout: Layout,
    name: str,
    platform: PlatformClient | None = None,
    clock: Clock | None = None,
) -> list[str]:
    """Deployments left "running" by a killed push: undone (or finished, if it had
    committed); the ids of those found. The caller holds the push lock."""
    app = layout.app(name)
    stale = [d for d in list_deployments(app) if d.status == "running"]
    if not stale:
        return []
    record = load_app(layout, name)
    now = (clock or SystemClock()).time()
    own = platform is None
    platform = platform or LazyPlatform(layout)
    try:
        for deployment in stale:
            if record.current == deployment.id:
                done = dataclasses.replace(deployment, status="deployed", finished=now)
            else:
                undo(layout, app, platform, record, deployment)
                done = dataclasses.replace(
                    deployment, status="failed", error=INTERRUPTED, finished=now
                )
            save_deployment(app, done)
        sweep(layout, app, record, platform)
    finally:
        if own:
            platform.close()
    return [d.id for d in stale]


def recover(layout: Layout, name: str) -> list[str]:
    """Clean up after a push that was killed, unless a push is running right now."""
    try:
        with push_lock(layout.app(name)):
            return cleanup_stale(layout, name)
    except UsageError:
        return []
