from __future__ import annotations

from pathlib import Path

import click

from kit.commands._options import format_option
from kit.platform.facts import CONVERT_NODE_VERSION, NODE_VERSIONS


@click.command("convert")
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    help="Folder for the dotCloud app.  [default: SRC-dotcloud, beside SRC]",
)
@click.option("--dry-run", is_flag=True, help="Print the changes as a unified diff; write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Update OUT if it holds an earlier conversion: the files it wrote are updated, "
    "every other file (.git, .dotcloud/, your own) is kept.",
)
@click.option(
    "--overwrite-edited",
    is_flag=True,
    help="With --force: also replace files the last conversion wrote that were edited since.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 and write nothing if any setting is dropped or needs a manual step.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Also rewrite literal ports in the copied code: HTTP listen() to 8080, "
    "TCP listen() to process.env.PORT_SERVER. The source app is never touched.",
)
@click.option(
    "--node-version",
    type=click.Choice(NODE_VERSIONS),
    default=None,
    help="config: node_version for every service.  [default: the newest the platform "
    f"offers that each Gear's package.json engines.node allows, else {CONVERT_NODE_VERSION}]",
)
@format_option("text", "json")
def convert_command(
    src: Path,
    out: Path | None,
    dry_run: bool,
    force: bool,
    overwrite_edited: bool,
    strict: bool,
    fix: bool,
    node_version: str | None,
    fmt: str,
) -> int:
    """Convert the nodeSocket app in SRC into a dotCloud app.

    Each Gear (a folder holding a .torque, or SRC itself) becomes one nodejs
    service: its settings go to dotcloud.yml at the root, its start command to
    a supervisord.conf in the Gear. The rest of the app is copied as it is,
    honouring .gitignore and leaving out .git and node_modules.

    Every run prints a migration report: what became of each key, where it
    went (file and line), and what still needs doing by hand.

    \b
    Examples:
      dotkit convert myapp -o myapp-dotcloud
      dotkit convert myapp --dry-run          # show the diff, write nothing
      dotkit convert myapp --fix --force      # also move listen(3535) to 8080
      dotkit convert myapp --strict           # fail if anything would be lost

    Converting again into the same OUT (--force) never destroys anything: the
    conversion records what it wrote (OUT/.dotkit/convert.json), updates those
    files, keeps every other one, and refuses to overwrite a file you edited
    since, naming it (--overwrite-edited replaces it).

    Exit codes: 0 converted; 1 --strict found a loss; 2 the app cannot be
    converted (every problem is listed with its file, line and column), or OUT
    holds edits the conversion would overwrite.
    """
    from kit.commands._convert_run import run_convert

    return run_convert(
        src,
        out,
        dry_run=dry_run,
        force=force,
        overwrite_edited=overwrite_edited,
        strict=strict,
        fix=fix,
        node_version=node_version,
        fmt=fmt,
    )
