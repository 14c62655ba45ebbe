"""push: upload, build and deploy the connected folder."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kit.commands._options import (
    default_node_version,
    deploy_timeouts,
    format_option,
    node_version_option,
)
from kit.commands._sandbox import chosen_app, connected_root, layout

if TYPE_CHECKING:
    from kit.sandbox.records import Deployment


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
@node_version_option
@format_option("text", "json")
@click.pass_context
def push_command(
    ctx: click.Context,
    clean: bool,
    protocol: str | None,
    timeout: float,
    build_timeout: float,
    node_version: str | None,
    fmt: str,
) -> int:
    """Push the app to the sandbox: upload, build, start new containers, switch traffic.

    The upload is what the real CLI's rsync sent: the folder less .git, .hg,
    *.pyc and the patterns of .dotcloudignore (.gitignore is not read). Each
    code service is built in a build container from the previous build's
    snapshot (unless --clean), with the Node.js its config: node_version names,
    then as many new containers as the service has instances are started; once
    every one answers, the router switches to them and the old ones are
    stopped. If anything fails, the previous revision keeps serving, and the
    command exits with status 2, as the real CLI did.

    The push runs on its own: Ctrl-C, a closed terminal or a broken pipe stop
    the log on this side, not the deployment (dotkit dlogs follows it again).

    With --format json, the deployment log goes to standard error and standard
    output gets the deployment's record (also when the push fails): see
    `deployment_json` in kit/commands/push.py for its keys.

    \b
    Examples:
      dotkit push                # the connected folder
      dotkit push --clean        # rebuild node_modules from scratch
      dotkit -A myapp push       # another application, from this folder
      dotkit push --format json  # the record, for programs and notebooks
    """
    from kit.sandbox.folders import find_connected

    name = chosen_app(ctx)
    root = connected_root(ctx)
    if protocol is None:
        found = find_connected(root)
        protocol = found[1].push_protocol if found else "rsync"
    heading = f'==> Pushing code with {protocol} from "{root}" to application {name}'
    return deploy(
        name, heading, fmt, source=root, clean=clean, git=protocol == "git",
        ready_timeout=timeout, build_timeout=build_timeout, summary=True, node=node_version,
    )  # fmt: skip


def deploy(
    name: str,
    heading: str,
    fmt: str = "text",
    *,
    source: Path | None = None,
    revision: str | None = None,
    clean: bool = False,
    git: bool = False,
    ready_timeout: float | None = None,
    build_timeout: float | None = None,
    summary: bool = False,
    node: str | None = None,
) -> int:
    """Push ``source`` (or deploy a stored ``revision``) and report it as text (the log,
    then with ``summary`` the URLs) or as JSON (the log on standard error, the record on
    standard output). The push runs in a process of its own (:mod:`~kit.sandbox.push.
    background`); this one follows its log."""
    from kit.sandbox.build import BUILD_TIMEOUT
    from kit.sandbox.push import READY_TIMEOUT, PushFailed, background

    as_json = fmt == "json"
    lay = layout()
    job = background.Job(
        home=str(lay.home), app=name, source=str(source) if source else None,
        revision=revision, clean=clean, git=git,
        ready_timeout=READY_TIMEOUT if ready_timeout is None else ready_timeout,
        build_timeout=BUILD_TIMEOUT if build_timeout is None else build_timeout,
        node=node or default_node_version(),
    )  # fmt: skip
    which = f"revision {revision} of application" if revision else "application"

    def before() -> None:
        if heading:
            click.echo(heading, err=as_json)
        click.echo(f"==> Submitting a deployment request for {which} {name}", err=as_json)

    try:
        with progress(err=as_json) as echo:
            record = background.launch(lay, job, echo, before)
    except PushFailed as exc:
        if as_json and exc.record is not None:
            click.echo(json.dumps(deployment_json(name, exc.record), indent=2))
        raise
    if as_json:
        click.echo(json.dumps(deployment_json(name, record), indent=2))
        return 0
    if not summary:
        return 0
    click.echo("")
    click.echo("Deployment finished. Your application is available at the following URLs")
    for service, url in record.urls.items():
        click.echo(f"{service}: {url}")
    click.echo("Stop everything with: dotkit destroy")
    return 0


def deployment_json(name: str, record: Deployment) -> dict[str, object]:
    """The record ``--format json`` prints. Its keys are kept stable:

    - ``id`` ("d3"), ``number`` (3), ``revision`` ("rsync-1700000000000" or "git-abc1234";
      null if the push failed before its upload), ``status`` ("deployed" or "failed"),
      ``started`` and ``finished`` (seconds since the epoch), ``clean`` (--clean),
      ``backend`` ("bwrap" or "process"), ``error`` (why it failed, or null);
    - ``urls``: service -> URL of each HTTP service deployed;
    - ``instances``: "www.0" -> {``cid``, ``ready_at`` (epoch seconds),
      ``ready_seconds`` (from its start to answering)};
    - ``failed_requests``: requests the router failed while switching (null if not
      measured), ``downtime``: service -> seconds down while ``~/data`` moved;
    - ``log``: the deployment log's path (``dotkit dlogs ID`` shows it).
    """
    from kit.sandbox.state import deployment_log

    app = layout().app(name)
    return {**record.public(), "log": str(deployment_log(app, record.id))}


@contextlib.contextmanager
def progress(*, err: bool = False) -> Iterator[Callable[[str], None]]:
    """Log lines as they come; on a terminal, also a spinner naming the current step."""
    from kit.console import is_terminal

    if not is_terminal():
        yield lambda line: click.echo(line, err=err)
        return
    from rich.console import Console

    console = Console(highlight=False, stderr=err)
    with console.status("Pushing...") as status:

        def echo(line: str) -> None:
            console.print(line, markup=False)
            step = line.split(": ", 1)[-1].strip()
            if step:
                status.update(step[:70])

        yield echo
