"""The ``postinstall`` hook, run in each new container before it starts (10 minutes at most).

The command is the service's ``postinstall`` in dotcloud.yml, else an executable
``postinstall`` file in the approot. It runs from ``~/current`` with the
container's environment; a non-zero exit fails the push.
"""

from __future__ import annotations

from pathlib import Path

from kit.platform.facts import POSTINSTALL_TIMEOUT_S
from kit.platform.model import Service
from kit.proc import CommandFailed
from kit.sandbox.backend import (
    ContainerSpec,
    boxed,
    host_env,
    inside,
    isolated_argv,
    process_env,
)
from kit.sandbox.push.context import Context, PushFailed


def command_of(spec: ContainerSpec, svc: Service) -> str | None:
    if svc.postinstall is not None:
        return svc.postinstall
    return "./postinstall" if (Path(spec.home) / "current" / "postinstall").is_file() else None


def postinstall(ctx: Context, spec: ContainerSpec, svc: Service, who: str) -> None:
    command = command_of(spec, svc)
    if command is None:
        return
    ctx.log("Running postinstall script...", who)
    inner = ["/bin/sh", "-lc", f"cd {inside(spec).home}/current && {command}"]
    if boxed(spec.backend):  # the app's environment is read inside the container
        argv, env = isolated_argv(spec, inner, kind="hook", app_env=True), host_env(spec)
    else:
        argv, env = inner, process_env(spec)
    try:
        done = ctx.seams.runner.run(argv, env=env, timeout=POSTINSTALL_TIMEOUT_S, check=False)
    except CommandFailed as exc:
        raise PushFailed(f"postinstall of {who}: {exc}") from None
    for line in (done.stdout + done.stderr).splitlines():
        ctx.log(f"  {line}", who)
    if done.returncode != 0:
        raise PushFailed(f"postinstall of {who} exited with status {done.returncode}")
