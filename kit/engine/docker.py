"""The ``docker`` command line, through the kit's one subprocess wrapper.

Every call names the engine it talks to (``DOCKER_HOST``), so the kit never
drives whatever daemon happens to be the machine's default by accident.
Images are built with the classic builder (``DOCKER_BUILDKIT=0``): it needs no
``buildx`` plugin and works with every daemon these machines have.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed
from kit.proc import Completed, run


class Engine(NamedTuple):
    """A Docker engine the kit may drive: its API address (``unix:///...``)."""

    host: str


def default_engine() -> Engine:
    """The engine ``DOCKER_HOST`` names, else the daemon's usual socket."""
    return Engine(os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock")


def docker_program() -> str:
    found = shutil.which("docker")
    if found is None:
        raise OperationFailed(
            "the docker command is not installed (Debian package docker.io); "
            "install it, or run this on a machine with Docker"
        )
    return found


def engine_env(engine: Engine, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DOCKER_HOST=engine.host, DOCKER_BUILDKIT="0", DOCKER_CLI_HINTS="false")
    env.update(extra or {})
    return env


def docker(
    engine: Engine,
    *args: str,
    timeout: float = 120,
    check: bool = True,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> Completed:
    """Run ``docker ARGS`` against ``engine``."""
    return run(
        [docker_program(), *args],
        env=engine_env(engine),
        timeout=timeout,
        check=check,
        input=input,
        cwd=cwd,
    )


def image_exists(engine: Engine, ref: str) -> bool:
    return docker(engine, "image", "inspect", ref, check=False).returncode == 0


def image_label(engine: Engine, ref: str, label: str) -> str | None:
    done = docker(
        engine,
        "image",
        "inspect",
        "--format",
        f'{{{{index .Config.Labels "{label}"}}}}',
        ref,
        check=False,
    )
    value = done.stdout.strip()
    return value if done.returncode == 0 and value and value != "<no value>" else None


def import_image(engine: Engine, tarball: Path, ref: str, changes: Sequence[str]) -> None:
    """``docker import`` a root file system tarball as ``ref``, with Dockerfile ``changes``."""
    argv = ["image", "import"]
    for change in changes:
        argv += ["--change", change]
    docker(engine, *argv, str(tarball), ref, timeout=600)


def build_image(
    engine: Engine, context: Path, dockerfile: str, ref: str, *, timeout: float = 15 * 60.0
) -> Completed:
    """Build ``ref`` from ``context`` with the host's network (npm needs the registry)."""
    return docker(
        engine,
        "build",
        "--network",
        "host",
        "--force-rm",
        "-f",
        str(context / dockerfile),
        "-t",
        ref,
        str(context),
        timeout=timeout,
    )
