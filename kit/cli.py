"""The ``dotkit`` command line: one click group, one error boundary.

:func:`main` is the only place that turns exceptions into messages and exit
codes: 0 success, 1 findings or a failed operation, 2 bad input or usage,
130 on Ctrl-C. A traceback never reaches the user for bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import cast

import click

from kit import __version__
from kit.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, InputError, KitError

# Each command's module is imported only when that command runs (or help lists it),
# so `dotkit verify` does not pay for the sandbox's imports, nor `push` for verify's.
_COMMANDS = {
    "terms": "kit.commands.terms:terms_command",
    "convert": "kit.commands.convert:convert_command",
    "verify": "kit.commands.verify:verify_command",
    "rules": "kit.commands.rules:rules_command",
    "create": "kit.commands.apps:create_command",
    "connect": "kit.commands.apps:connect_command",
    "disconnect": "kit.commands.apps:disconnect_command",
    "app": "kit.commands.apps:app_command",
    "list": "kit.commands.apps:list_command",
    "push": "kit.commands.push:push_command",
    "deploy": "kit.commands.manage:deploy_command",
    "revisions": "kit.commands.manage:revisions_command",
    "env": "kit.commands.manage:env_group",
    "scale": "kit.commands.manage:scale_command",
    "restart": "kit.commands.manage:restart_command",
    "url": "kit.commands.inspect:url_command",
    "open": "kit.commands.inspect:open_command",
    "info": "kit.commands.inspect:info_command",
    "status": "kit.commands.inspect:status_command",
    "logs": "kit.commands.inspect:logs_command",
    "dlist": "kit.commands.inspect:dlist_command",
    "dlogs": "kit.commands.inspect:dlogs_command",
    "run": "kit.commands.run:run_command",
    "ssh": "kit.commands.run:ssh_command",
    "destroy": "kit.commands.apps:destroy_command",
    "doctor": "kit.commands.doctor:doctor_command",
    "repro": "kit.commands.repro:repro_command",
    "export": "kit.commands.export:export_command",
    "image": "kit.commands.image:image_group",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported by name, when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            from difflib import get_close_matches

            close = get_close_matches(name, list(_COMMANDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else " `dotkit --help` lists them."
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, name = target.partition(":")
        return cast(click.Command, getattr(import_module(module), name))


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    # A caller of main() may have put values in the context first (the verify server).
    ctx.ensure_object(dict).update(application=application, assume_yes=assume_yes)


def main(argv: Sequence[str] | None = None, *, obj: dict[str, object] | None = None) -> int:
    """Run the CLI and return its exit code; never raises for bad input.

    ``obj`` starts the click context's object (a long-lived caller's state).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="dotkit", standalone_mode=False, obj=dict(obj or {}))
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_BAD_INPUT if isinstance(exc, click.UsageError) else exc.exit_code
    except InputError as exc:
        from kit.findings import render_findings_text

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
