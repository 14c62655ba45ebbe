"""``~/data``: moved from the old container into the new one, at the cost of downtime.

The platform kept one folder across pushes, ``/home/dotcloud/data``: it stopped
the old container, moved the folder into the new one (after ``postinstall``) and
started the new one. Such a push is not zero-downtime; the downtime is measured
from the stop and reported. If the push fails, the data goes back and the old
container runs again.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from kit.sandbox.backend import ContainerSpec
from kit.sandbox.layout import AppLayout
from kit.sandbox.push.context import Context
from kit.sandbox.records import Move
from kit.sandbox.runtime import load_runtime
from kit.sandbox.seams import PlatformClient


def move(ctx: Context, old_cid: str, spec: ContainerSpec, who: str) -> float | None:
    """Move ``~/data`` of ``old_cid`` into the new container; when the old one stopped
    (monotonic clock), or None when it had no data."""
    old_home = ctx.app.container(old_cid)
    if not (old_home / "data").is_dir():
        return None
    ctx.log("~/data found: stopping the old container to move it (this push has downtime)", who)
    since = ctx.seams.clock.monotonic()
    # The spec to start the old container again comes from the platform's own record,
    # not from the container's home, which its app can write.
    old_spec = load_runtime(ctx.app).containers.get(old_cid)
    ctx.journal.moving(Move(old_cid, spec.cid, old_spec))
    ctx.seams.platform.call("stop", cid=old_cid, app=ctx.app.name)
    target = Path(spec.home) / "data"
    if target.exists():
        shutil.rmtree(target)  # the old container's data wins, as on the platform
    (old_home / "data").rename(target)
    ctx.log("~/data moved into the new container", who)
    return since


def put_back(app: AppLayout, moves: Sequence[Move], platform: PlatformClient) -> None:
    """Undo ``moves``: each folder back where it came from, each old container started."""
    for done in reversed(moves):
        moved = app.container(done.new) / "data"
        home = app.container(done.old) / "data"
        if moved.is_dir() and not home.exists():
            moved.rename(home)
        if done.spec is not None:
            platform.call("start", spec=done.spec.to_json())
