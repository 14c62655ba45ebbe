"""create, connect, disconnect, app, list, destroy: applications and connected folders."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._options import protocol_options
from kit.commands._sandbox import chosen_app, confirm, layout
from kit.errors import OperationFailed, UsageError

# The 0.9.8 CLI created "live" applications unless told otherwise; a sandbox
# application is named for what it is.
FLAVOR = "sandbox"


@click.command("create")
@click.argument("app")
@protocol_options
@click.option(
    "--backend",
    type=click.Choice(["bwrap", "docker", "process"]),
    help="Where its containers run: bubblewrap on this machine (the default where "
    "installed), a Docker engine (DOCKER_HOST, else the local socket), or plain processes.",
)
@click.pass_context
def create_command(ctx: click.Context, app: str, protocol: str, backend: str | None) -> int:
    """Create the application APP in the sandbox, and offer to connect this folder to it.

    \b
      dotkit create shop
      dotkit create shop --backend docker   # its containers on a Docker engine

    With --backend docker, pushes build and run the app's containers on the
    engine from the platform image (built there on the first push if missing:
    see dotkit image build); logs, scale, run and destroy work as usual.
    """
    from kit.sandbox.folders import connect_folder
    from kit.sandbox.state import create_app

    if backend is not None:
        check_backend(backend)
    click.echo(f'==> Creating a {FLAVOR} application named "{app}"')
    create_app(layout(), app, backend=backend)
    click.echo(f'==> Application "{app}" created.')
    question = f'Connect the current directory to "{app}"?'
    if confirm(ctx, question, default=True, safe_without_terminal=True):
        click.echo(f'==> Connecting with the application "{app}"')
        connect_folder(Path.cwd(), app, protocol)
        click.echo(f"==> Connected with default push options: --{protocol}")
    return 0


def check_backend(backend: str) -> None:
    """That ``backend`` can run containers here; else why not and what to do."""
    from kit.sandbox.backend import bwrap_path

    if backend == "bwrap" and bwrap_path() is None:
        raise OperationFailed(
            "--backend bwrap needs bubblewrap (the Debian package bubblewrap); install it, "
            "or leave --backend out to use what this machine has"
        )
    if backend == "docker":
        from kit.engine.docker import default_engine
        from kit.sandbox.dockerbox import engine_problem

        host = default_engine().host
        if problem := engine_problem(host):
            raise OperationFailed(
                f"--backend docker needs a Docker engine: {problem}. Start one (as root: "
                "dockerd, or systemctl start docker), or point DOCKER_HOST at one"
            )


@click.command("connect")
@click.argument("app")
@protocol_options
def connect_command(app: str, protocol: str) -> int:
    """Connect this folder to APP: later commands here act on APP (.dotcloud/config)."""
    from kit.sandbox.folders import connect_folder
    from kit.sandbox.state import require_app

    require_app(layout(), app)
    connect_folder(Path.cwd(), app, protocol)
    click.echo(f'Connected with the application "{app}" (push options: --{protocol})')
    return 0


@click.command("disconnect")
def disconnect_command() -> int:
    """Forget which application this folder is connected to."""
    from kit.sandbox.fields import StateError
    from kit.sandbox.folders import connected_folder, disconnect_folder, find_connected

    folder = connected_folder(Path.cwd())
    if folder is None:
        raise UsageError("this folder is not connected to an application")
    try:
        found = find_connected(folder)
        was = f'"{found[1].application}"' if found else "its application"
    except StateError:
        was = "its application (its .dotcloud/config was damaged)"
    disconnect_folder(folder)
    click.echo(f"Disconnected {folder} from {was}")
    return 0


@click.command("app")
@click.pass_context
def app_command(ctx: click.Context) -> int:
    """Print the application this folder is connected to."""
    click.echo(chosen_app(ctx))
    return 0


@click.command("list")
def list_command() -> int:
    """List the sandbox's applications; * marks the one this folder is connected to."""
    from kit.sandbox.fields import StateError
    from kit.sandbox.folders import find_connected
    from kit.sandbox.state import list_apps

    try:
        found = find_connected(Path.cwd())
    except StateError:
        found = None  # the list does not depend on this folder's config
    here = found[1].application if found else None
    names = list_apps(layout())
    if not names:
        click.echo("No applications yet: dotkit create APP")
    for name in names:
        click.echo(f"{'*' if name == here else ' '} {name} (sandbox)")
    return 0


@click.command("destroy")
@click.argument("service", required=False)
@click.pass_context
def destroy_command(ctx: click.Context, service: str | None) -> int:
    """Destroy the application (or one SERVICE of it): containers, builds and data."""
    from kit.sandbox.destroy import destroy_app, destroy_service

    name = chosen_app(ctx)
    what = f'the service "{service}" of "{name}"' if service else f'the application "{name}"'
    if not confirm(ctx, f"Destroy {what}?", default=False, safe_without_terminal=False):
        click.echo("Cancelled.")
        return 1
    if service:
        destroy_service(layout(), name, service)
        click.echo(f'Destroyed the service "{service}" of "{name}".')
    else:
        destroy_app(layout(), name)
        click.echo(f'Destroyed the application "{name}".')
    return 0
