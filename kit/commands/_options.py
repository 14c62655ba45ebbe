"""Options several commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` with ``text`` first (the default)."""
    help_text = {
        "text": "text for people",
        "json": "json for programs",
        "sarif": "sarif for code hosts",
    }
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=", ".join(help_text[c] for c in choices) + ".",
    )


def image_node_option(func: F) -> F:
    """``--node-version platform|host``: the Node.js the platform image carries."""
    return click.option(
        "--node-version",
        "node_mode",
        type=click.Choice(["platform", "host"]),
        default="platform",
        show_default=True,
        help="The platform image's Node.js: the platform's builds from the npm registry, "
        "or this machine's node for every branch.",
    )(func)


def protocol_options(func: F) -> F:
    """``--git`` / ``--rsync``: how pushes from a connected folder upload by default."""
    func = click.option(
        "--rsync",
        "protocol",
        flag_value="rsync",
        default=True,
        help="Push the folder as it is (default).",
    )(func)
    return click.option(
        "--git", "protocol", flag_value="git", help="Push the last commit with git by default."
    )(func)


def deploy_timeouts(func: F) -> F:
    """``--timeout`` (readiness) and ``--build-timeout``, for every command that deploys."""
    func = click.option(
        "--build-timeout",
        type=float,
        default=15 * 60.0,
        show_default=True,
        help="Seconds a service's build may take (the platform allowed 15 minutes).",
    )(func)
    return click.option(
        "--timeout",
        type=float,
        default=60.0,
        show_default=True,
        help="Seconds each new instance has to become responsive.",
    )(func)


NODE_VERSION_ENV = "DOTKIT_NODE_VERSION"


def default_node_version() -> str:
    """``platform`` unless ``$DOTKIT_NODE_VERSION`` says ``host``."""
    import os

    return "host" if os.environ.get(NODE_VERSION_ENV, "").strip() == "host" else "platform"


def node_version_option(func: F) -> F:
    """``--node-version platform|host``: the Node.js services run."""
    return click.option(
        "--node-version",
        type=click.Choice(["platform", "host"]),
        default=None,
        help="platform (default): the official build of the Node.js config: node_version "
        "names, fetched from the npm registry; host: this machine's own node (no registry "
        f"access needed). ${NODE_VERSION_ENV} sets the default.",
    )(func)
