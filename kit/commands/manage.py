"""revisions, deploy, env, scale, restart: changing what runs without new code."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from kit.commands._options import format_option, node_version_option
from kit.commands._sandbox import chosen_app, layout, service_and_instance
from kit.commands.push import deploy
from kit.errors import OperationFailed, UsageError
from kit.platform.facts import MAX_INSTANCES

if TYPE_CHECKING:
    from kit.sandbox.records import AppRecord

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _redeploy(
    name: str,
    revision: str,
    *,
    heading: str = "",
    clean: bool = False,
    fmt: str = "text",
    node: str | None = None,
) -> int:
    return deploy(name, heading, fmt, revision=revision, clean=clean, node=node)


def _current_revision(name: str) -> str | None:
    from kit.sandbox.state import load_app

    return load_app(layout(), name).revision


@click.command("revisions")
@click.pass_context
def revisions_command(ctx: click.Context) -> int:
    """List the revisions pushed to the application; * marks the one deployed."""
    from kit.sandbox.revisions import revisions

    name = chosen_app(ctx)
    current = _current_revision(name)
    known = revisions(layout().app(name))
    click.echo(f"==> Revisions for application {name}:")
    if not known:
        click.echo("No revisions yet: dotkit push")
    for rev in known:
        click.echo(f"{'*' if rev == current else ' '} {rev}")
    return 0


@click.command("deploy")
@click.argument("revision")
@click.option("--clean", is_flag=True, help="Build from scratch.")
@node_version_option
@format_option("text", "json")
@click.pass_context
def deploy_command(
    ctx: click.Context, revision: str, clean: bool, node_version: str | None, fmt: str
) -> int:
    """Deploy a stored REVISION again: a name from `dotkit revisions`, `latest` or
    `previous` (the one deployed before the current one: the way to roll back).

    With --format json, standard output gets the deployment's record, as for push.
    """
    from kit.sandbox.revisions import resolve_revision

    name = chosen_app(ctx)
    rev = resolve_revision(layout(), name, revision)
    return _redeploy(name, rev, clean=clean, fmt=fmt, node=node_version)


@click.group("env")
def env_group() -> None:
    """Application-wide environment variables (they override dotcloud.yml's)."""


@env_group.command("list")
@click.pass_context
def env_list(ctx: click.Context) -> int:
    """Show the application's variables."""
    from kit.sandbox.state import load_app

    name = chosen_app(ctx)
    click.echo(f"==> Environment variables for application {name}")
    for key, value in sorted(load_app(layout(), name).env.items()):
        click.echo(f"{key}={value}")
    return 0


@contextlib.contextmanager
def _between_pushes(name: str) -> Iterator[None]:
    """Held while the app's record is read, changed and saved: a push running meanwhile
    would save the record it read at its start over the change, so none may run."""
    from kit.sandbox.push.lock import push_lock

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(push_lock(layout().app(name)))
        except UsageError as exc:
            raise UsageError(f"{exc}; nothing was changed") from None
        yield


def _change_env(ctx: click.Context, changes: dict[str, str | None]) -> int:
    from kit.sandbox.state import load_app, save_app

    name = chosen_app(ctx)
    lay = layout()
    with _between_pushes(name):
        record = load_app(lay, name)
        env = dict(record.env)
        for key, value in changes.items():
            if value is None:
                if key not in env:
                    raise UsageError(f"{key} is not set")
                del env[key]
            else:
                env[key] = value
        save_app(lay, dataclasses.replace(record, env=env))
    if record.revision is None:
        click.echo("Saved; it applies from the next push.")
        return 0
    return _redeploy(name, record.revision)


@env_group.command("set")
@click.argument("assignments", nargs=-1, required=True)
@click.pass_context
def env_set(ctx: click.Context, assignments: tuple[str, ...]) -> int:
    """Set KEY=VALUE ... and redeploy so the containers get them."""
    click.echo(f"==> Setting {', '.join(assignments)} (application {chosen_app(ctx)})")
    changes: dict[str, str | None] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not ENV_NAME.fullmatch(key):
            raise UsageError(f"{item!r} is not KEY=VALUE with a variable name for KEY")
        if key.startswith("DOTCLOUD_"):
            raise UsageError(f"{key}: names starting with DOTCLOUD_ belong to the platform")
        changes[key] = value
    return _change_env(ctx, changes)


@env_group.command("unset")
@click.argument("keys", nargs=-1, required=True)
@click.pass_context
def env_unset(ctx: click.Context, keys: tuple[str, ...]) -> int:
    """Remove variables and redeploy."""
    click.echo(f"==> Un-setting {', '.join(keys)} (application {chosen_app(ctx)})")
    return _change_env(ctx, dict.fromkeys(keys))


@click.command("scale")
@click.argument("settings", nargs=-1, required=True)
@click.pass_context
def scale_command(ctx: click.Context, settings: tuple[str, ...]) -> int:
    """Set how many instances run (SERVICE:instances=N, or the old form SERVICE=N) or
    how much memory each may use (SERVICE:memory=SIZE, like 512M or 1G).

    A change of instances redeploys the current revision. A change of memory does
    not, as on the platform: it is the limit of every container the service starts
    from then on (the next push, deploy, env change or change of instances).
    """
    from kit.sandbox.state import load_app, save_app

    name = chosen_app(ctx)
    lay = layout()
    with _between_pushes(name):
        record = load_app(lay, name)
        scaled, done = _scaled(record, settings, name)
        save_app(lay, scaled)
    if record.revision is not None and any(":instances=" in d for d in done):
        code = _redeploy(name, record.revision)
        if code != 0:
            return code
    elif record.revision is not None and scaled.memory != record.memory:
        click.echo("    the new memory limit applies to the containers started from now on")
    click.echo(f"==> Successfully scaled {name} to {' '.join(done)}")
    return 0


def _scaled(record: AppRecord, settings: tuple[str, ...], name: str) -> tuple[AppRecord, list[str]]:
    """The record with the new instances and memory, and each change as ``svc:what=v``."""
    from kit.sandbox.isolation.limits import format_size, parse_memory

    scale, memory = dict(record.scale), dict(record.memory)
    services = {s.name for s in record.services}
    done: list[str] = []
    click.echo(f"==> Scaling application {name}")
    for item in settings:
        match = re.fullmatch(r"([a-z0-9_]+)(?::(instances|memory))?=(\S+)", item)
        if not match:
            raise UsageError(
                f"{item!r} is not SERVICE:instances=N, SERVICE:memory=SIZE or SERVICE=N"
            )
        service, action, value = match.group(1), match.group(2) or "instances", match.group(3)
        if services and service not in services:
            raise UsageError(f'"{name}" has no service "{service}"')
        if action == "memory":
            memory[service] = parse_memory(value)
            click.echo(f"==> Changing memory of {service} to {format_size(memory[service])}B")
        else:
            if not value.isdigit() or not 1 <= int(value) <= MAX_INSTANCES:
                raise UsageError(
                    f"{item!r}: instances must be a whole number from 1 to {MAX_INSTANCES} "
                    "(the most the sandbox runs of one service)"
                )
            scale[service] = int(value)
            click.echo(f"==> Changing instances of {service} to {value}")
        done.append(f"{service}:{action}={value}")
    return dataclasses.replace(record, scale=scale, memory=memory), done


@click.command("restart")
@click.argument("instance")
@click.pass_context
def restart_command(ctx: click.Context, instance: str) -> int:
    """Restart the programs of one instance, SERVICE.N (supervisord stops and starts them)."""
    from kit.commands.inspect import _instances
    from kit.sandbox.probe import supervisor

    service, index = service_and_instance(instance)
    if index is None:
        raise UsageError(f"name the instance, for example {service}.0")
    name, pairs = _instances(ctx, instance)
    cid = pairs[0][1]
    sock = layout().container_sockets(name, cid) / "supervisor.sock"
    try:
        rpc = supervisor(sock).supervisor
        rpc.stopAllProcesses()
        rpc.startAllProcesses()
    except OSError as exc:
        raise OperationFailed(f"{instance} is not running: {exc}") from None
    click.echo(
        f"==> Service ({service}) instance #{index} of application {name} is being restarted."
    )
    return 0
