"""Destroying an application, or one service of it: containers, routes, builds, data."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time

from kit.errors import UsageError
from kit.sandbox.client import connect, running
from kit.sandbox.layout import Layout
from kit.sandbox.push.lock import push_lock
from kit.sandbox.state import load_app, save_app

STOP_TIMEOUT = 20.0


def destroy_app(layout: Layout, name: str, *, stop_idle_platform: bool = True) -> None:
    """Stop and remove everything of ``name``; then, if asked and nothing else runs,
    the platform process too (and wait until it has exited)."""
    app = layout.app(name)
    asked_to_stop = False
    with push_lock(app):  # refuses while a push to the app is running
        client = connect(layout, start=False)
        if client is not None:
            with client:
                idle = client.call("forget", app=name)["idle"]
                if idle and stop_idle_platform:
                    client.call("shutdown")
                    asked_to_stop = True
        shutil.rmtree(app.root, ignore_errors=True)
        shutil.rmtree(layout.runtime / name, ignore_errors=True)
    deadline = time.monotonic() + STOP_TIMEOUT
    while asked_to_stop and running(layout) and time.monotonic() < deadline:
        time.sleep(0.02)  # it holds its lock until it has stopped everything
    if asked_to_stop:
        with contextlib.suppress(OSError):
            layout.runtime.rmdir()  # the socket folder, once nothing is left in it


def destroy_service(layout: Layout, name: str, service: str) -> None:
    """Stop and remove one service of ``name`` (a data service loses its data)."""
    app = layout.app(name)
    record = load_app(layout, name)
    cids = record.containers.get(service)
    if cids is None:
        raise UsageError(f'"{name}" has no service "{service}"')
    client = connect(layout, start=False)
    for cid in cids:
        if client is not None:
            client.call("stop", cid=cid, app=name)
        shutil.rmtree(app.container(cid), ignore_errors=True)
        shutil.rmtree(layout.container_sockets(name, cid), ignore_errors=True)
    if client is not None:
        with client:
            for route in list(client.call("status", app=name)["routes"]):
                if route.split(".")[0] == service:
                    client.call("unroute", app=name, name=route)
    save_app(
        layout,
        dataclasses.replace(
            record,
            containers={k: v for k, v in record.containers.items() if k != service},
            http_ports={k: v for k, v in record.http_ports.items() if k != service},
            passwords={k: v for k, v in record.passwords.items() if k != service},
        ),
    )
    shutil.rmtree(app.build_dir(service), ignore_errors=True)
