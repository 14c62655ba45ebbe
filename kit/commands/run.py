"""run and ssh: a command or a shell inside a running container."""

from __future__ import annotations

import json
import os
import shutil
import sys

import click

from kit.commands._sandbox import layout
from kit.commands.inspect import _instances, _status
from kit.errors import OperationFailed, UsageError


def _cgroup(app: str, cid: str) -> str | None:
    """The container's control group, from the sandbox's own layout (not its files)."""
    from kit.sandbox.isolation import cgroups

    if cgroups.discover().version == 0:
        return None
    return str(cgroups.relative("\0".join(layout().hidden), app, cid))


def _exec(ctx: click.Context, spec: str, command: str, *, interactive: bool) -> int:
    from kit.sandbox.backend import HOME, host_env
    from kit.sandbox.isolation import nsexec

    name, pairs = _instances(ctx, spec)
    if len(pairs) > 1:
        raise UsageError(f"{spec} has {len(pairs)} instances; name one, for example {spec}.0")
    index, cid = pairs[0]
    state = _status(name)["containers"].get(cid)
    if not state or not state.get("alive"):
        raise OperationFailed(
            f"{spec.split('.')[0]}.{index} is not running (dotkit status shows why)"
        )
    home = layout().app(name).container(cid)
    if state.get("backend") == "docker":
        argv, env = _docker_exec(name, cid, command, interactive=interactive), None
        cwd = None
    elif state.get("backend") == "bwrap":
        # Nothing read from the container's files reaches this side: the app's
        # environment is applied inside, by the container's own helper.
        if shutil.which("nsenter") is None:
            raise OperationFailed(
                "cannot enter the container: nsenter (util-linux) is not installed"
            )
        argv = nsexec.command_argv(
            int(state["child_pid"]),
            ["/bin/sh", "-lc", f"cd {HOME} && {command}"],
            cgroup=_cgroup(name, cid),
            term=os.environ.get("TERM"),
        )
        env, cwd = host_env(), None
    else:
        env = {k: v for k, v in os.environ.items() if k in ("TERM", "LANG", "PATH")}
        found = json.loads((home / "environment.json").read_text())
        env.update({str(k): str(v) for k, v in found.items()})  # PORT_SSH is a number there
        env["HOME"] = str(home)
        argv = ["/bin/sh", "-lc", command]
        cwd = str(home)
    import subprocess

    sys.stdout.flush()
    return subprocess.run(argv, env=env, cwd=cwd, check=False).returncode


def _docker_exec(app: str, cid: str, command: str, *, interactive: bool) -> list[str]:
    """``docker exec`` into the engine's container, from the platform's own record of it."""
    from kit.engine.docker import docker_program
    from kit.sandbox import dockerbox
    from kit.sandbox.backend import HOME, sandbox_key
    from kit.sandbox.isolation.nsexec import PYTHON
    from kit.sandbox.isolation.plan import host_user
    from kit.sandbox.isolation.rootfs import PRIVATE
    from kit.sandbox.runtime import load_runtime

    spec = load_runtime(layout().app(app)).containers.get(cid)
    if spec is None or spec.backend != "docker":
        raise OperationFailed(f"{cid} is not a container of the docker backend")
    uid, gid = host_user(sandbox_key(spec))
    name = dockerbox.container_name(sandbox_key(spec), spec.app, spec.cid)
    # The engine already holds it to no capabilities and no new privileges; the
    # kit's helper applies the app's environment inside, as on the other backends.
    helper = [PYTHON, "-m", "kit.sandbox.cinit", "--exec", f"{PRIVATE}/cinit.json", "--"]
    inner = [*helper, "/bin/sh", "-lc", f"cd {HOME} && {command}"]
    args = dockerbox.exec_args(name, inner, uid=uid, gid=gid, interactive=interactive, env={})
    return [docker_program(), "--host", spec.engine, *args]


@click.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx: click.Context, service: str, command: tuple[str, ...]) -> int:
    """Run COMMAND in the container of SERVICE[.N], from /home/dotcloud.

    Put -- before a command that has options of its own. One quoted argument
    is run as a shell command line; several are passed as they are.

    \b
      dotkit run www -- pwd
      dotkit run www -- cat environment.json
      dotkit run www.1 -- ls -la data
      dotkit run www -- "ls current | wc -l"
    """
    import shlex

    # One argument is a shell command line ("ls | wc -l"); several are an argv,
    # quoted so that each reaches the program as it was typed.
    line = command[0] if len(command) == 1 else shlex.join(command)
    return _exec(ctx, service, line, interactive=False)


@click.command("ssh")
@click.argument("service")
@click.pass_context
def ssh_command(ctx: click.Context, service: str) -> int:
    """Open a shell in the container of SERVICE[.N] (changes vanish at the next push)."""
    return _exec(ctx, service, "exec ${SHELL:-/bin/sh} -l", interactive=True)
