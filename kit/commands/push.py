"""push: upload, build and deploy the connected folder."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from kit.commands._options import deploy_timeouts
from kit.commands._sandbox import chosen_app, connected_root, layout


@click.command("push")
@click.option(
    "--clean", is_flag=True, help="Build from scratch, without the previous build's snapshot."
)
@click.option(
    "--git", "protocol", flag_value="git", help="Push the last commit (revision git-<sha>)."
)
@click.option(
    "--rsync",
    "protocol",
    flag_value="rsync",
    help="Push the folder as it is (revision rsync-<ms>).",
)
@deploy_timeouts
@click.pass_context
def push_command(
    ctx: click.Context, clean: bool, protocol: str | None, timeout: float, build_timeout: float
) -> int:
    """Push the app to the sandbox: upload, build, start new containers, switch traffic.

    The upload honours .gitignore and .dotcloudignore. Each code service is
    built in a build container from the previous build's snapshot (unless
    --clean), then as many new containers as the service has instances are
    started; once every one answers, the router switches to them and the old
    ones are stopped. If anything fails, the previous revision keeps serving.

    \b
    Examples:
      dotkit push                # the connected folder
      dotkit push --clean        # rebuild node_modules from scratch
      dotkit -A myapp push       # another application, from this folder
    """
    from kit.sandbox.deploy import push
    from kit.sandbox.state import find_connected

    name = chosen_app(ctx)
    root = connected_root(ctx)
    if protocol is None:
        found = find_connected(root)
        protocol = str(found[1].get("push_protocol", "rsync")) if found else "rsync"
    click.echo(f'==> Pushing code with {protocol} from "{root}" to application {name}')
    with progress() as echo:
        record = push(
            layout(),
            name,
            root,
            clean=clean,
            git=protocol == "git",
            echo=echo,
            ready_timeout=timeout,
            build_timeout=build_timeout,
        )
    click.echo("")
    click.echo("Deployment finished. Your application is available at the following URLs")
    for service, url in record.get("urls", {}).items():
        click.echo(f"{service}: {url}")
    click.echo("Stop everything with: dotkit destroy")
    return 0


@contextlib.contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """Log lines as they come; on a terminal, also a spinner naming the current step."""
    from kit.console import is_terminal

    if not is_terminal():
        yield click.echo
        return
    from rich.console import Console

    console = Console(highlight=False)
    with console.status("Pushing...") as status:

        def echo(line: str) -> None:
            console.print(line, markup=False)
            step = line.split(": ", 1)[-1].strip()
            if step:
                status.update(step[:70])

        yield echo
