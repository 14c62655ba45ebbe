from __future__ import annotations

from pathlib import Path

import click

from kit.commands._options import format_option, image_node_option

TARGETS = ("compose", "swarm", "kubernetes")


@click.command("export")
@click.argument("app", type=click.Path(path_type=Path))
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The engine.")
@click.option(
    "-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Folder to write."
)
@click.option("--name", help="The app's name (DOTCLOUD_PROJECT).  [default: APP's folder name]")
@image_node_option
@click.option(
    "--port-base",
    type=int,
    default=8000,
    show_default=True,
    help="First host port the router publishes (Compose, Swarm).",
)
@click.option(
    "--domain",
    default="localhost",
    show_default=True,
    help="Ingress hosts are SERVICE.APP.DOMAIN (Kubernetes).",
)
@click.option("--force", is_flag=True, help="Replace OUT if it holds an earlier export.")
@click.option(
    "--build", is_flag=True, help="Also build the app's images in the engine (DOCKER_HOST)."
)
@format_option("text", "json")
def export_command(
    app: Path,
    target: str,
    out: Path,
    name: str | None,
    node_mode: str,
    port_base: int,
    domain: str,
    force: bool,
    build: bool,
    fmt: str,
) -> int:
    """Lay out the dotCloud app in APP for Docker Compose, Docker Swarm or Kubernetes.

    A nodeSocket app is converted first. OUT gets the code (app/), one image
    build per code service (build/SERVICE/Dockerfile, on the platform image of
    `dotkit image build`), the engine's files, and generated passwords in
    secrets/ (never in the engine's files). Data services get a volume for
    ~/data: redis on the platform image, mysql (MariaDB) and postgresql on its
    SQL variant (`dotkit image build --sql`). The report says what was carried
    over and what has no equivalent on the target.

    \b
    Examples:
      dotkit image build          # add --sql for an app with mysql or postgresql
      dotkit export myapp --to compose -o myapp-compose
      dotkit export myapp --to swarm -o myapp-swarm --build
      dotkit export myapp --to kubernetes -o myapp-k8s --domain example.com

    Exit codes: 0 exported; 1 a build failed; 2 the app cannot be exported.
    """
    from kit.commands._export_run import run_export

    return run_export(
        app,
        out,
        target=target,
        name=name,
        node_mode=node_mode,
        port_base=port_base,
        domain=domain,
        force=force,
        build=build,
        fmt=fmt,
    )
