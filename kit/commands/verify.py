from __future__ import annotations

from pathlib import Path

import click

from kit.commands._options import format_option


@click.command("verify")
@click.argument("app", type=click.Path(path_type=Path), default=".", required=False)
@format_option("text", "json", "sarif")
@click.option(
    "--select",
    metavar="RULES",
    help="Only these rules: slugs, prefixes ending in '-' (yaml-) or categories, comma-separated.",
)
@click.option("--ignore", metavar="RULES", help="Skip these rules (same forms as --select).")
@click.option(
    "--no-cache", is_flag=True, help="Check everything afresh: no cache, no verify server."
)
@click.option(
    "--serve",
    is_flag=True,
    help="Start the verify server (Linux) and run through it; later runs use it by themselves.",
)
@click.option("--stop-server", is_flag=True, help="Stop the verify server, and do nothing else.")
@click.pass_context
def verify_command(
    ctx: click.Context,
    app: Path,
    fmt: str,
    select: str | None,
    ignore: str | None,
    no_cache: bool,
    serve: bool,
    stop_server: bool,
) -> int:
    """Check the dotCloud app in APP (default: here) against the platform's rules.

    Reads dotcloud.yml, each service's supervisord.conf, the JavaScript of
    each Node.js service and the project's files, and reports every problem
    at once: file, line and column, what is wrong, and how to fix it.

    \b
    Examples:
      dotkit verify                          # the app in this folder
      dotkit verify myapp --format json      # for scripts
      dotkit verify --select yaml-,code      # only the YAML and code rules
      dotkit rules http-port-not-8080        # what a rule means

    A re-run redoes only what changed since the last one (the cache is in
    $DOTKIT_HOME/cache). With --serve, a server in the background keeps it in
    memory and learns of changes from inotify, so a re-run after an edit takes
    a few tens of milliseconds; it stops after 20 idle minutes.

    Exit codes: 0 no errors (warnings allowed); 1 at least one error;
    2 bad usage or APP cannot be read.
    """
    from kit.commands._verify_run import run_verify, stop_server_command, through_server
    from kit.verify.runner import VERIFY_TRACKER

    # Inside the verify server, its tracker comes with the context: run here.
    tracker = (ctx.obj or {}).get(VERIFY_TRACKER)
    if stop_server:
        return stop_server_command()
    if serve and not no_cache and tracker is None:
        code = through_server(app, fmt=fmt, select=select, ignore=ignore)
        if code is not None:
            return code
    return run_verify(
        app, fmt=fmt, select=select, ignore=ignore, use_cache=not no_cache, tracker=tracker
    )
