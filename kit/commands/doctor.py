"""doctor: what the sandbox will use here, and what it cannot reproduce faithfully."""

from __future__ import annotations

import shutil
import sys

import click

from kit.sandbox import fidelity


def checks() -> list[tuple[str, bool, str]]:
    from kit.sandbox.engine import backend_name

    out: list[tuple[str, bool, str]] = []
    bwrap = shutil.which("bwrap")
    missing = "missing: containers run as plain processes (install the Debian package bubblewrap)"
    out.append(("bubblewrap", bwrap is not None, bwrap or missing))
    for tool in ("node", "npm", "nsenter"):
        found = shutil.which(tool)
        out.append((tool, found is not None, found or "missing"))
    try:
        import supervisor.options  # noqa: F401

        out.append(("supervisord", True, f"{sys.executable} -m supervisor.supervisord"))
    except ImportError:
        out.append(("supervisord", False, "missing: pip install supervisor"))
    out.append(("backend", True, backend_name()))
    out += isolation_checks()
    out.append(docker_check())
    return out


def docker_check() -> tuple[str, bool, str]:
    """Whether ``create --backend docker`` (and ``export``) would find an engine."""
    from kit.engine.docker import default_engine
    from kit.sandbox.dockerbox import engine_problem

    host = default_engine().host
    problem = engine_problem(host)
    if problem:
        return ("docker", False, f"{problem}: --backend docker is not available")
    return ("docker", True, f"{host}: create --backend docker runs apps there")


def isolation_checks() -> list[tuple[str, bool, str]]:
    """What makes a container a boundary here, and how the limits are enforced."""
    import os
    from pathlib import Path

    from kit.sandbox.isolation import seccomp, watch
    from kit.sandbox.isolation.plan import host_user

    out: list[tuple[str, bool, str]] = []
    python = Path("/usr/bin/python3")
    debian = python.is_file() and Path("/usr/lib/python3/dist-packages/supervisor").is_dir()
    out.append((
        "in-python",
        debian,
        f"{python} with Debian's supervisor package" if debian
        else "missing: install the Debian packages python3 and supervisor (scripts/setup.sh)",
    ))  # fmt: skip
    problem = seccomp.unavailable()
    out.append(
        (
            "seccomp",
            problem is None,
            problem or "libseccomp: mount, ptrace, modules, namespaces refused",
        )
    )
    if os.geteuid() == 0:
        host_user("example")  # (checks that a free uid can be found)
        user = "dotcloud (uid 1000), not root; on the host an unused uid of its own per sandbox"
    else:
        user = (
            f"dotcloud (uid 1000), not root; on the host your own uid {os.getuid()} "
            "(only root can map another)"
        )
    out.append(("user", True, user))
    mechanism = watch.mechanism()
    out.append(("limits", not mechanism.startswith("none"), mechanism))
    return out


def node_checks() -> list[tuple[str, bool, str]]:
    """Which Node.js each config: node_version runs here, and what is cached."""
    from kit.nodejs.fetch import cache_root, cached_versions, known_releases
    from kit.nodejs.versions import PACKAGE, platform_branches

    known = known_releases()
    if known:
        branches = platform_branches(known)
        runs = ", ".join(
            f"{b} -> v{v}" if v[0].isdigit() else f"{b} -> {v}" for b, v in branches.items()
        )
        older = [b for b, v in branches.items() if v[0].isdigit() and not v.startswith(b[1:-1])]
        detail = runs + (
            f" ({' and '.join(older)}: the nearest build the registry publishes; the "
            "platform ran v0.4.12 and v0.6.20)"
            if older
            else ""
        )
    else:
        detail = (
            f"not asked yet: the first push fetches the builds from the npm registry "
            f"({PACKAGE}); v0.8.x runs v0.8.28, v0.4.x and v0.6.x the nearest published build"
        )
    cached = cached_versions()
    where = f"{', '.join('v' + v for v in cached)} in {cache_root()}" if cached else "none yet"
    return [("node builds", True, detail), ("node cache", True, where)]


def data_checks() -> list[tuple[str, bool, str]]:
    from kit.sandbox import dataservices

    out = []
    for kind in ("redis", "mysql", "postgresql"):
        problem = dataservices.problem(kind)
        out.append((kind, problem is None, problem or "runs as a data service"))
    return out


@click.command("doctor")
def doctor_command() -> int:
    """Check what the sandbox needs, which backend it will use, and what is not faithful."""
    from kit.commands._options import default_node_version
    from kit.paths import dotkit_home

    click.echo(f"state folder ($DOTKIT_HOME): {dotkit_home()}")
    ok = True
    found = checks()
    for name, good, detail in found + node_checks() + data_checks():
        click.echo(f"  {'ok ' if good else 'NO '} {name:<12} {detail}")
        ok = ok and (good or name in OPTIONAL)
    backend = {n: d for n, _, d in found}["backend"]
    click.echo("\nNot faithful to the platform (the table: docs, The local sandbox):")
    rows = fidelity.applicable(backend=backend, node=default_node_version())
    for line in fidelity.lines(rows):
        click.echo(f"  - {line}")
    return 0 if ok else 1


# The "not faithful" lines by when they hold, under the names earlier versions gave
# them (the table itself is kit.sandbox.fidelity).
NOT_FAITHFUL_ALWAYS = fidelity.lines(r for r in fidelity.DIFFERENCES if r.when == fidelity.ALWAYS)
NOT_FAITHFUL_PROCESS = fidelity.lines(r for r in fidelity.DIFFERENCES if r.when == fidelity.PROCESS)

# What the sandbox works without, by doing less (and saying so).
OPTIONAL = frozenset(
    {"bubblewrap", "limits", "seccomp", "in-python", "redis", "mysql", "postgresql", "docker"}
)
