from __future__ import annotations

import click

from kit.commands._options import image_node_option
from kit.errors import UsageError


@click.group("image")
def image_group() -> None:
    """The platform image that exported apps run on (Docker)."""


@click.command("build")
@image_node_option
@click.option(
    "--sql",
    is_flag=True,
    help="Also build dotkit/platform-sql, which adds MariaDB and PostgreSQL: what an "
    "exported mysql or postgresql service runs on.",
)
@click.option(
    "--from",
    "from_image",
    metavar="IMAGE",
    help="Use IMAGE (a platform-build image from your registry) instead of building.",
)
def build_command(node_mode: str, sql: bool, from_image: str | None) -> int:
    """Build the platform image and import it into the engine (DOCKER_HOST).

    Debian from the Debian package registry (debootstrap --variant=minbase),
    supervisor, HAProxy, redis-server, the dotcloud user and home, and the
    platform's Node.js. No image registry is used. Built once per set of
    inputs: a second run with nothing changed does nothing.

    With --sql, a third image too: the same with Debian's MariaDB and
    PostgreSQL (servers and clients, a few hundred MB more), for apps with a
    mysql or postgresql service. `dotkit export` says when an app needs it.

    \b
    Examples:
      dotkit image build
      dotkit image build --sql
      dotkit image build --node-version host --sql
    """
    from kit.engine.docker import default_engine, docker, image_exists
    from kit.engine.image import build_platform_image, platform_image
    from kit.paths import cache_dir

    if from_image and sql:
        raise UsageError(
            "--from takes a platform-build image, which has no MariaDB or PostgreSQL: "
            "build the SQL image here with --sql alone"
        )
    engine = default_engine()
    if from_image:
        image = platform_image(node_mode)
        if not image_exists(engine, from_image):
            docker(engine, "pull", from_image, timeout=1800)
        for ref in (image.runtime, image.build):
            docker(engine, "tag", from_image, ref)
        click.echo(f"{image.runtime} and {image.build} are {from_image}")
        return 0
    image, _ = build_platform_image(
        engine,
        node_mode,
        cache_dir() / "image",
        lambda line: click.echo(f"==> {line}", err=True),
        sql=sql,
    )
    click.echo(image.runtime)
    if sql:
        click.echo(image.sql)
    return 0


image_group.add_command(build_command)
