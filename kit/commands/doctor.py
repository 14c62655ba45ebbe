"""doctor: what the sandbox will use here, and what it cannot reproduce faithfully."""

from __future__ import annotations

import shutil
import sys

import click


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
    return out


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


NOT_FAITHFUL_ALWAYS = [
    "node is the machine's own version; config: node_version is recorded but not installed",
    "the OS is this machine's, not Ubuntu 10.04; systempackages are not installed",
    "the default memory limit is 512M per container (the platform showed ram=64M, sized "
    "for Node.js 0.8; today's Node.js and supervisord need more to start)",
    "service URLs are http://127.0.0.1:PORT/ instead of http://APP-USER.dotcloud.com/",
]
NOT_FAITHFUL_PROCESS = [
    "no isolation: processes run as this machine's user, see the host's files, and have "
    "no memory, process or CPU limits",
    "no network namespaces: instances share the machine's ports, so two HTTP services "
    "cannot both listen on 8080, and localhost reaches every service",
    "no mount namespaces: /home/dotcloud does not exist; each container's home is a folder "
    "under $DOTKIT_HOME, so absolute /home/dotcloud paths fail",
]


@click.command("doctor")
def doctor_command() -> int:
    """Check what the sandbox needs, which backend it will use, and what is not faithful."""
    from kit.paths import dotkit_home

    click.echo(f"state folder ($DOTKIT_HOME): {dotkit_home()}")
    ok = True
    for name, good, detail in checks():
        click.echo(f"  {'ok ' if good else 'NO '} {name:<12} {detail}")
        ok = ok and (good or name in ("bubblewrap", "limits", "seccomp", "in-python"))
    backend = {n: d for n, _, d in checks()}["backend"]
    click.echo("\nNot faithful to the platform:")
    for line in NOT_FAITHFUL_ALWAYS + (NOT_FAITHFUL_PROCESS if backend == "process" else []):
        click.echo(f"  - {line}")
    return 0 if ok else 1
