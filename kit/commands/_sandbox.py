"""What the sandbox commands share: the layout, the chosen app, confirmations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kit.errors import UsageError
from kit.paths import dotkit_home

if TYPE_CHECKING:
    from kit.sandbox.layout import Layout

# The sandbox modules are imported inside the functions: `dotkit convert` and
# `dotkit verify` load this module with the CLI and should not pay for them.


def layout() -> Layout:
    from kit.sandbox.layout import Layout

    return Layout(dotkit_home())


def options(ctx: click.Context) -> dict[str, object]:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, dict) else {}


def chosen_app(ctx: click.Context) -> str:
    """-A/--application, else the app this folder (or a parent) is connected to.

    The app must exist; it is not read here, so that a damaged one can still be destroyed.
    """
    from kit.sandbox.folders import find_connected
    from kit.sandbox.layout import check_app_name
    from kit.sandbox.state import require_app

    explicit = options(ctx).get("application")
    if isinstance(explicit, str) and explicit:
        name = check_app_name(explicit)
    else:
        found = find_connected(Path.cwd())
        if found is None:
            raise UsageError(
                "this folder is not connected to an application: run `dotkit connect APP` "
                "here, or name one with -A APP"
            )
        name = found[1].application
    require_app(layout(), name)
    return name


def connected_root(ctx: click.Context) -> Path:
    """The folder to push: the connected folder's root, or the current folder."""
    from kit.sandbox.folders import find_connected

    found = find_connected(Path.cwd())
    if found is not None and not options(ctx).get("application"):
        return found[0]
    return Path.cwd()


def confirm(
    ctx: click.Context, question: str, *, default: bool, safe_without_terminal: bool
) -> bool:
    """Ask; never wait without a terminal: take the safe default or name --assume-yes."""
    if options(ctx).get("assume_yes"):
        return True
    if not sys.stdin.isatty():
        if safe_without_terminal:
            return default
        raise UsageError(
            f"{question} Standard input is not a terminal; add -y (--assume-yes) to confirm"
        )
    return click.confirm(question, default=default)


def service_and_instance(spec: str) -> tuple[str, int | None]:
    name, _, index = spec.partition(".")
    if index and not index.isdigit():
        raise UsageError(f"{spec!r} is not SERVICE or SERVICE.N (for example www.0)")
    return name, int(index) if index else None
