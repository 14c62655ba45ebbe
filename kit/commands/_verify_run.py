"""The shell around :func:`kit.verify.runner.verify_app`: run, render, exit code."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import click

from kit.errors import EXIT_FAILED, EXIT_OK
from kit.findings import has_errors
from kit.verify.catalog import all_rules, expand_selection
from kit.verify.output import render_json, render_sarif, render_text
from kit.verify.runner import Tracker, verify_app


def run_verify(
    app: Path,
    *,
    fmt: str,
    select: str | None,
    ignore: str | None,
    use_cache: bool,
    tracker: Tracker | None = None,
) -> int:
    findings = verify_app(
        app,
        select=expand_selection(select),
        ignore=expand_selection(ignore),
        use_cache=use_cache,
        tracker=tracker,
    )

    @cache
    def read_lines(path: str) -> list[str] | None:
        from kit.safeio import read_text

        try:  # the app's own file, as the checks read it (no FIFO, no link out of it)
            return read_text(app / path, within=app).splitlines()
        except OSError:
            return None

    if fmt == "json":
        click.echo(render_json(findings), nl=False)
    elif fmt == "sarif":
        click.echo(render_sarif(findings, all_rules()), nl=False)
    else:
        click.echo(render_text(findings, read_lines, root=str(app)), nl=False)
    return EXIT_FAILED if has_errors(findings) else EXIT_OK


def through_server(app: Path, *, fmt: str, select: str | None, ignore: str | None) -> int | None:
    """Start the verify server if need be and run there; None to run here instead."""
    from kit.verifyd import control
    from kit.verifyd.client import forward

    started = control.start()
    if started is None:
        click.echo(
            f"dotkit: warning: the verify server could not start (see {control.log_path()}); "
            "verifying without it",
            err=True,
        )
        return None
    pid, new = started
    if new:
        click.echo(
            f"dotkit: verify server started (pid {pid}); later `dotkit verify` runs use it "
            f"until it has been idle {control.idle_seconds() / 60:g} minutes, or "
            "`dotkit verify --stop-server`",
            err=True,
        )
    argv = ["verify", str(app), "--format", fmt]
    argv += ["--select", select] if select else []
    argv += ["--ignore", ignore] if ignore else []
    return forward(argv)


def stop_server_command() -> int:
    from kit.verifyd import control

    pid = control.stop()
    if pid is None:
        click.echo("dotkit: no verify server was running", err=True)
    else:
        click.echo(f"dotkit: stopped the verify server (pid {pid})", err=True)
    return EXIT_OK
