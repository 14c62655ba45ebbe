"""The ``dotkit`` command line: one click group, one error boundary.

:func:`main` is the only place that turns exceptions into messages and exit
codes: 0 success, 1 findings or a failed operation, 2 bad input or usage,
130 on Ctrl-C. A traceback never reaches the user for bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from kit import __version__
from kit.commands.apps import (
    app_command,
    connect_command,
    create_command,
    destroy_command,
    disconnect_command,
    list_command,
)
from kit.commands.convert import convert_command
from kit.commands.doctor import doctor_command
from kit.commands.inspect import (
    dlist_command,
    dlogs_command,
    info_command,
    logs_command,
    open_command,
    status_command,
    url_command,
)
from kit.commands.manage import (
    deploy_command,
    env_group,
    restart_command,
    revisions_command,
    scale_command,
)
from kit.commands.push import push_command
from kit.commands.repro import repro_command
from kit.commands.rules import rules_command
from kit.commands.run import run_command, ssh_command
from kit.commands.terms import terms_command
from kit.commands.verify import verify_command
from kit.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, InputError, KitError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-v", "--version", prog_name="dotkit")
@click.option("-A", "--application", metavar="APP", help="Act on APP instead of the connected one.")
@click.option("-y", "--assume-yes", is_flag=True, help="Answer yes to every confirmation.")
@click.pass_context
def cli(ctx: click.Context, application: str | None, assume_yes: bool) -> None:
    """Move Node.js apps from nodeSocket to dotCloud.

    \b
    Start here:
      dotkit terms                      how nodeSocket ideas map to dotCloud
      dotkit convert APP -o OUT         turn a nodeSocket app into a dotCloud app
      dotkit convert APP --dry-run      see the files it would write, as a diff
      dotkit verify OUT                 check a dotCloud app against the platform's rules
      dotkit rules                      the rules verify checks, and why
      dotkit repro APP_OR_ARCHIVE       support: reproduce a customer's app, one bundle

    \b
    The local sandbox, like the dotcloud CLI:
      dotkit create APP                 create an application, connect this folder
      dotkit push                       upload, build and deploy this folder
      dotkit url / logs www / dlogs latest / run www -- CMD / destroy
      dotkit doctor                     what the sandbox uses here, what is not faithful

    Exit codes: 0 success, 1 findings or a failed operation, 2 bad input or usage.
    """
    ctx.obj = {"application": application, "assume_yes": assume_yes}


cli.add_command(terms_command)
cli.add_command(convert_command)
cli.add_command(verify_command)
cli.add_command(rules_command)
for _command in (
    create_command,
    connect_command,
    disconnect_command,
    app_command,
    list_command,
    push_command,
    deploy_command,
    revisions_command,
    env_group,
    scale_command,
    restart_command,
    url_command,
    open_command,
    info_command,
    status_command,
    logs_command,
    dlist_command,
    dlogs_command,
    run_command,
    ssh_command,
    destroy_command,
    doctor_command,
    repro_command,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; never raises for bad input."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="dotkit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code
    except InputError as exc:
        from kit.report import render_findings_text

        click.echo(f"dotkit: error: {exc}", err=True)
        if exc.findings:
            click.echo(render_findings_text(exc.findings), err=True)
        return exc.exit_code
    except KitError as exc:
        click.echo(f"dotkit: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    return result if isinstance(result, int) else EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
