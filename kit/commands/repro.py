"""repro: a customer's app reproduced in its own sandbox application, and one bundle."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._options import deploy_timeouts, format_option


@click.command("repro")
@click.argument("source", metavar="PATH|ARCHIVE", type=click.Path(path_type=Path))
@click.option(
    "--ticket",
    metavar="ID",
    help="The ticket's id; the sandbox application is ticket-ID.  [default: the folder's "
    "or archive's name]",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="KEY=VALUE lines the customer set (their `dotcloud env`); every value is masked.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write the bundle (a file, or a folder for it).  [default: ./repro-ID.zip]",
)
@deploy_timeouts
@format_option("text", "json")
def repro_command(
    source: Path,
    ticket: str | None,
    env_file: Path | None,
    output: Path | None,
    timeout: float,
    build_timeout: float,
    fmt: str,
) -> int:
    """Reproduce a customer's app in the sandbox and write one diagnostic bundle.

    PATH|ARCHIVE is the app as the customer sent it: a folder, or a .zip,
    .tar.gz or .tgz archive (unpacked safely: no paths leading outside, no
    device files, size and file count limited), in nodeSocket layout (a
    .torque at the root or in its Gear folders: converted first, without
    --fix) or dotCloud layout (a dotcloud.yml at the root).

    The app is verified, pushed to a sandbox application of its own,
    ticket-ID (an earlier reproduction of the same ticket is replaced), and
    every service is probed. The bundle, repro-ID.zip, holds a summary (the
    verdict and the findings that explain it, each with its fix, also as
    HTML), the findings, the migration report, the push and build logs, the
    tail of each service's logs, each instance's environment.json, the
    versions of the tools and the probes. Secret values are masked in the
    bundle and on the terminal. The reproduction keeps running until you
    destroy it.

    \b
    Examples:
      dotkit repro customer-app.tar.gz --ticket 4242
      dotkit repro ./customer-app --ticket 4242 --env-file env.txt
      dotkit -A ticket-4242 logs www -N     # look around
      dotkit -A ticket-4242 -y destroy      # when done

    Exit codes: 0 the app deployed and every service answered; 1 it did not
    (the bundle is written either way); 2 bad input (a refused archive, no
    app in PATH, a bad env file).
    """
    from kit.commands.push import progress
    from kit.repro.bundle import terminal_json, terminal_summary
    from kit.repro.run import Request, reproduce

    request = Request(
        source=source,
        ticket=ticket,
        env_file=env_file,
        output=output,
        ready_timeout=timeout,
        build_timeout=build_timeout,
    )
    if fmt == "json":
        outcome = reproduce(request, lambda line: click.echo(line, err=True))
        click.echo(outcome.masker.text(terminal_json(outcome.repro, outcome.bundle)), nl=False)
    else:
        with progress() as echo:
            outcome = reproduce(request, echo)
        text = terminal_summary(outcome.repro, outcome.bundle)
        click.echo(outcome.masker.text(text), nl=False)
    return 0 if outcome.repro.ok else 1
