"""What the customer sent: which layout it is, the ticket it belongs to, their variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from kit.errors import UsageError
from kit.platform.facts import BUILD_FILE, TORQUE_FILE

Kind = Literal["dotcloud", "nodesocket"]
APP_PREFIX = "ticket-"
MAX_APP_NAME = 30
ENV_FILE_LIMIT = 16 * 1024 * 1024
# Folders an archiver adds beside the app, which say nothing about it.
NOISE = frozenset({"__MACOSX", ".DS_Store"})
MAX_WRAPPERS = 3
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def detect_layout(root: Path) -> Kind | None:
    """``dotcloud`` with a dotcloud.yml at the root, ``nodesocket`` with a .torque at the
    root or in a folder right under it, else None."""
    if (root / BUILD_FILE).is_file():
        return "dotcloud"
    if (root / TORQUE_FILE).is_file():
        return "nodesocket"
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink() and (child / TORQUE_FILE).is_file():
            return "nodesocket"
    return None


def find_app(folder: Path, label: str) -> tuple[Path, Kind]:
    """The app in ``folder``, looking inside a lone wrapping folder (``myapp/`` in
    ``myapp.zip``), and its layout; a clear error when there is none."""
    here = folder
    for _ in range(MAX_WRAPPERS + 1):
        kind = detect_layout(here)
        if kind is not None:
            return here, kind
        inside = [p for p in here.iterdir() if p.name not in NOISE]
        if len(inside) != 1 or not inside[0].is_dir() or inside[0].is_symlink():
            break
        here = inside[0]
    raise UsageError(
        f"{label} holds neither a dotcloud.yml (a dotCloud app) nor a .torque at its root "
        "or in a folder right under it (a nodeSocket app); give the app's root folder"
    )


def ticket_id(given: str | None, source: Path) -> str:
    """The ticket's id as app names allow it: ``ZD-4242`` becomes ``zd-4242``.

    Without ``--ticket``, the folder's or archive's name stands for it.
    """
    from kit.repro.archive import archive_stem

    raw = given if given is not None else archive_stem(source.resolve())
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-_")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[: MAX_APP_NAME - len(APP_PREFIX)].rstrip("-_")
    if not cleaned:
        what = f"--ticket {given!r}" if given is not None else f"the name {raw!r}"
        raise UsageError(
            f"{what} has no letters or digits to name the reproduction after; "
            "give one with --ticket ID"
        )
    return cleaned


def app_name(ticket: str) -> str:
    return APP_PREFIX + ticket


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (``dotcloud env list``'s output); ``#`` comments and blank lines skipped.

    Every problem is reported at once, by line; values are never quoted in a
    message, as any of them may be a secret.
    """
    from kit.safeio import read_file

    try:  # a customer's file: a FIFO is not waited on
        text = read_file(path, limit=ENV_FILE_LIMIT).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the env file {path}: {exc}") from None
    env: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        key = key.strip()
        if not sep or not ENV_NAME.fullmatch(key):
            problems.append(f"{path}:{number}: expected KEY=VALUE with a variable name as KEY")
            continue
        if key.startswith("DOTCLOUD_"):
            problems.append(
                f"{path}:{number}: {key}: names starting with DOTCLOUD_ are the platform's"
            )
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    if problems:
        raise UsageError(
            "the env file has errors (values are not shown):\n  " + "\n  ".join(problems)
        )
    return env
