"""The shell around :func:`kit.convert.convert_app`: read, convert, report, write."""

from __future__ import annotations

from pathlib import Path

import click

from kit.appfs import WriteOutcome, check_destination, list_app_files, write_tree
from kit.convert.app import Conversion, Options, convert_app
from kit.convert.gears import gear_inputs
from kit.convert.report import (
    render_diff,
    render_error_json,
    render_json,
    render_outcome,
    render_text,
)
from kit.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, InputError, UsageError
from kit.platform.facts import BUILD_FILE


def run_convert(
    src: Path,
    out: Path | None,
    *,
    dry_run: bool,
    force: bool,
    strict: bool,
    overwrite_edited: bool = False,
    fix: bool,
    node_version: str | None,
    fmt: str,
) -> int:
    if not src.exists():
        raise UsageError(f"{src} does not exist")
    if not src.is_dir():
        raise UsageError(f"{src} is not a folder; give the nodeSocket app's root folder")
    out = out if out is not None else src.resolve().with_name(src.resolve().name + "-dotcloud")
    if not dry_run:
        check_destination(src, out, force=force)
    files = list_app_files(src, exclude=out)
    label = str(src)
    options = Options(node_version=node_version, fix=fix, source_name=src.resolve().name)
    try:
        conversion = convert_app(
            gear_inputs(src, files),
            options,
            root_label=label,
            root_has_build_file=BUILD_FILE in files,
        )
    except InputError as exc:
        if fmt == "json":
            click.echo(render_error_json(exc.findings, source=label), nl=False)
            return EXIT_BAD_INPUT
        raise

    lossy = conversion.lossy_rows
    if strict and lossy:
        outcome = (
            f"--strict: {len(lossy)} item(s) dropped or left for a manual step; nothing written."
        )
        _emit(conversion, fmt, label, None, False, outcome)
        return EXIT_FAILED
    if dry_run:
        if fmt == "text":
            originals = {
                path: (src / path).read_bytes()
                for path in [*(f.path for f in conversion.files), *conversion.removed]
                if (src / path).is_file()
            }
            click.echo(render_diff(conversion, originals), nl=False)
        _emit(conversion, fmt, label, str(out), False, "Dry run: nothing was written.")
        return EXIT_OK
    removed = set(conversion.removed)
    wrote = write_tree(
        src,
        out,
        [f for f in files if f not in removed],
        conversion.files,
        force=force,
        overwrite_edited=overwrite_edited,
    )
    _emit(conversion, fmt, label, str(out), True, render_outcome(wrote, str(out)), wrote)
    return EXIT_OK


def _emit(
    conversion: Conversion,
    fmt: str,
    source: str,
    output: str | None,
    written: bool,
    outcome: str,
    wrote: WriteOutcome | None = None,
) -> None:
    if fmt == "json":
        text = render_json(conversion, source=source, output=output, written=written, wrote=wrote)
        click.echo(text, nl=False)
    else:
        click.echo(render_text(conversion, source=source, outcome=outcome), nl=False)
