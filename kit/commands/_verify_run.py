"""The shell around :func:`kit.verify.runner.verify_app`: run, render, exit code."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import click

from kit.errors import EXIT_FAILED, EXIT_OK
from kit.findings import has_errors
from kit.verify.catalog import all_rules, expand_selection
from kit.verify.output import render_json, render_sarif, render_text
from kit.verify.runner import verify_app


def run_verify(
    app: Path, *, fmt: str, select: str | None, ignore: str | None, use_cache: bool
) -> int:
    findings = verify_app(
        app,
        select=expand_selection(select),
        ignore=expand_selection(ignore),
        use_cache=use_cache,
    )

    @cache
    def read_lines(path: str) -> list[str] | None:
        try:
            return (app / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None

    if fmt == "json":
        click.echo(render_json(findings), nl=False)
    elif fmt == "sarif":
        click.echo(render_sarif(findings, all_rules()), nl=False)
    else:
        click.echo(render_text(findings, read_lines, root=str(app)), nl=False)
    return EXIT_FAILED if has_errors(findings) else EXIT_OK
