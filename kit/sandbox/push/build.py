"""Step 3: each code service is built in a build container (:mod:`kit.sandbox.build`)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from kit.platform.facts import PLATFORM_DEFAULT_NODE_VERSION
from kit.platform.model import App, Service
from kit.sandbox.build import build_service
from kit.sandbox.push.context import Context


def build_all(
    ctx: Context, app: App, revision: str, *, clean: bool, timeout: float
) -> dict[str, Path]:
    """Each code service's build snapshot, by service name."""
    ctx.log("Building the application...")
    snapshots = {
        svc.name: build_one(ctx, svc, app.root, revision, clean=clean, timeout=timeout)
        for svc in app.code_services
    }
    ctx.log("Application build is done")
    return snapshots


def build_one(
    ctx: Context, svc: Service, root: Path, revision: str, *, clean: bool, timeout: float
) -> Path:
    kind = " (clean build)" if clean else ""
    ctx.log(f"Build started for revision {revision}{kind}", svc.name)
    ctx.log("I am the dotkit sandbox builder, and I will be your builder today.", svc.name)
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
    )
    ctx.log(
        f"Build completed successfully in {result.seconds:.1f} s. "
        f"Compiled image size is {size_mb(result.snapshot)}MB",
        svc.name,
    )
    return result.snapshot


def size_mb(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with contextlib.suppress(OSError):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
    return max(1, round(total / 1_000_000))
