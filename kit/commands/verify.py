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
@click.option("--no-cache", is_flag=True, help="Analyse every JavaScript file afresh.")
def verify_command(
    app: Path, fmt: str, select: str | None, ignore: str | None, no_cache: bool
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

    Exit codes: 0 no errors (warnings allowed); 1 at least one error;
    2 bad usage or APP cannot be read.
    """
    from kit.commands._verify_run import run_verify

    return run_verify(app, fmt=fmt, select=select, ignore=ignore, use_cache=not no_cache)
