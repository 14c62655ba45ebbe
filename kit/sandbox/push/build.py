"""Step 3: each code service is built in a build container (:mod:`kit.sandbox.build`).

First the Node.js its ``config: node_version`` names is made ready: the
official build from the npm registry, fetched once into the cache (v0.8.x runs
v0.8.28; v0.4.x and v0.6.x the nearest published build, with a line saying so).
``--node-version host`` keeps this machine's own node instead, and so does the
plain-process backend, which has no ``/opt/node`` to show a build at.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import NamedTuple

from kit.errors import KitError
from kit.platform.facts import NODE_VERSION_TYPES, PLATFORM_DEFAULT_NODE_VERSION
from kit.platform.model import App, Service
from kit.sandbox.build import Node, build_service
from kit.sandbox.push.context import Context, PushFailed

HOST_NODE = "host"  # --node-version host: this machine's node, whatever dotcloud.yml says


class Built(NamedTuple):
    snapshot: Path
    node: Node | None  # the Node.js build the service runs (None: this machine's node)


def build_all(
    ctx: Context, app: App, revision: str, *, clean: bool, timeout: float
) -> dict[str, Built]:
    """Each code service's build snapshot and Node.js, by service name."""
    ctx.log("Building the application...")
    built = {
        svc.name: build_one(ctx, svc, app.root, revision, clean=clean, timeout=timeout)
        for svc in app.code_services
    }
    ctx.log("Application build is done")
    return built


def node_for(ctx: Context, svc: Service) -> Node | None:
    """The Node.js build ``svc`` runs, fetched if need be, with a line saying which."""
    if svc.type not in NODE_VERSION_TYPES:
        return None
    requested = svc.node_version or PLATFORM_DEFAULT_NODE_VERSION
    if ctx.docker is not None and ctx.request.node == HOST_NODE:
        raise PushFailed(
            "--node-version host cannot be used on the docker backend: its containers run "
            "the platform image, which has the platform's Node.js builds, not this machine's"
        )
    if ctx.request.node == HOST_NODE:
        ctx.log(
            f"Node.js: this machine's own node (--node-version host), not the build that "
            f"config: node_version {requested} names",
            svc.name,
        )
        return None
    if not ctx.netns:
        ctx.log(
            f"Node.js: this machine's own node; the plain-process backend cannot show the "
            f"build that config: node_version {requested} names at /opt/node",
            svc.name,
        )
        return None
    try:
        build = ctx.seams.node(requested, lambda line: ctx.log(line, svc.name))
    except KitError as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise PushFailed(f"service {svc.name!r}: {message}") from None
    ctx.log(build.choice.log_line, svc.name)
    return Node(build.choice.version, build.path)


def build_one(
    ctx: Context, svc: Service, root: Path, revision: str, *, clean: bool, timeout: float
) -> Built:
    kind = " (clean build)" if clean else ""
    ctx.log(f"Build started for revision {revision}{kind}", svc.name)
    ctx.log("I am the dotkit sandbox builder, and I will be your builder today.", svc.name)
    if svc.systempackages:
        names = ", ".join(svc.systempackages)
        ctx.log(
            f"systempackages not installed ({names}): the sandbox runs this machine's "
            "system, not Ubuntu 10.04, and installs no packages for a service",
            svc.name,
        )
    node = node_for(ctx, svc)
    result = build_service(
        service=svc,
        build_dir=ctx.app.build_dir(svc.name),
        revision=root,
        node_version=svc.node_version or PLATFORM_DEFAULT_NODE_VERSION,
        hooks=svc.hooks,
        clean=clean,
        backend=ctx.backend,
        hidden=ctx.layout.hidden,
        log=lambda line: ctx.log(line, svc.name),
        timeout=timeout,
        runner=ctx.seams.runner,
        node=node,
        docker=ctx.docker,
    )
    ctx.log(
        f"Build completed successfully in {result.seconds:.1f} s. "
        f"Compiled image size is {size_mb(result.snapshot)}MB",
        svc.name,
    )
    return Built(result.snapshot, node)


def size_mb(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with contextlib.suppress(OSError):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
    return max(1, round(total / 1_000_000))
