"""The end-to-end tests, again, with the app's containers on a Docker engine.

The tests below are the bubblewrap backend's own (imported from their modules, so
each body is written once); here the ``sandbox`` fixture creates every app with
``--backend docker`` against the session's private engine, with the platform
image built into it. After each test no container of the sandbox is left on the
engine. Skipped with the reason where no engine can start (not root, no dockerd).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.engine.daemon import Daemon
from kit.engine.docker import docker
from kit.engine.image import PlatformImage
from kit.sandbox.dockerbox import LABEL

from .conftest import Done, Sandbox, converted_guide, needs_node
from .test_fidelity import (  # noqa: F401 (collected again, on this module's sandbox)
    test_mysql_and_postgresql_keep_their_data_across_pushes,
)
from .test_platform import (  # noqa: F401
    test_data_survives_with_downtime_and_stays_per_instance,
    test_redis_keeps_its_data_through_ten_pushes,
    test_zero_failed_requests_while_pushing_a_stateless_service,
)
from .test_push import (  # noqa: F401
    test_guide_sample_pushed_and_answering,
    test_listening_on_3535_fails_the_push_and_names_the_line,
    test_postinstall_and_the_build_time_limit,
)

pytestmark = [pytest.mark.e2e, needs_node]
# The build cache's decisions are the builder's own, the same on both backends: its test runs
# once, on bubblewrap; every push here runs its build steps on the engine.


class DockerSandbox(Sandbox):
    """A sandbox whose apps are created with ``--backend docker`` on ``engine``."""

    def __init__(self, home: Path, daemon: Daemon) -> None:
        super().__init__(home)
        self.daemon = daemon
        self.env["DOCKER_HOST"] = daemon.engine.host

    def dotkit(self, *args: str | Path, cwd: Path | None = None, timeout: float = 180) -> Done:
        if "create" in args[:2]:
            args = (*args, "--backend", "docker")
        return super().dotkit(*args, cwd=cwd, timeout=timeout)

    def containers(self) -> list[str]:
        """Names of the engine's containers (running or not) made by the kit's sandboxes."""
        done = docker(
            self.daemon.engine, "ps", "--all", "--filter", f"label={LABEL}",
            "--format", "{{.Names}}",
        )  # fmt: skip
        return done.stdout.split()


# Tests whose app has a mysql or postgresql service: their containers run on the image
# with MariaDB and PostgreSQL, built once before them (its own root file system).
SQL_TESTS = {"test_mysql_and_postgresql_keep_their_data_across_pushes"}


@pytest.fixture
def sandbox(
    tmp_path: Path, daemon: Daemon, platform_image: PlatformImage, request: pytest.FixtureRequest
) -> Iterator[DockerSandbox]:
    if request.node.name in SQL_TESTS:
        request.getfixturevalue("platform_sql_image")
    box = DockerSandbox(tmp_path / "dotkit-home", daemon)
    yield box
    box.shutdown()
    left = box.containers()
    for name in left:
        docker(daemon.engine, "rm", "--force", name, check=False)
    assert left == [], f"containers left on the engine: {left}"


def test_containers_run_on_the_engine_as_the_platform_would(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    app = converted_guide(sandbox, tmp_path / "ondocker", "--fix")
    assert sandbox.dotkit("create", "ondocker", cwd=app).code == 0
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert "Docker engine unix://" in push.out
    names = sandbox.containers()
    assert sorted(n.rsplit("-", 2)[-2:] == ["gear1.0", "d1"] for n in names) == [False, True]
    who = sandbox.dotkit("run", "gear1", "--", "id -un; hostname; node --version", cwd=app)
    assert who.code == 0, who.text
    assert who.out.split() == ["dotcloud", "gear1-0", "v0.8.28"]
    # The engine's boundary: no capabilities, a read-only root, no network but loopback.
    probe = sandbox.dotkit(
        "run", "gear1", "--",
        "grep CapEff /proc/self/status; touch /usr/x 2>&1; cat /sys/class/net/*/address",
        cwd=app,
    )  # fmt: skip
    assert "CapEff:\t0000000000000000" in probe.out
    assert "Read-only file system" in probe.out
    addresses = [line for line in probe.out.splitlines() if line.count(":") == 5]
    assert addresses == ["00:00:00:00:00:00"]  # loopback's, and no other interface
    status = json.loads(
        subprocess.run(
            ["docker", "--host", sandbox.daemon.engine.host, "inspect", names[0]],
            capture_output=True, text=True, check=True,
        ).stdout
    )[0]  # fmt: skip
    assert status["HostConfig"]["NetworkMode"] == "none"
    assert status["HostConfig"]["Memory"] == 512 * 1024 * 1024
    assert status["HostConfig"]["CapDrop"] == ["ALL"]
    destroy = sandbox.dotkit("-y", "destroy", cwd=app)
    assert destroy.code == 0, destroy.text
    assert sandbox.containers() == []


def test_a_killed_platform_brings_the_containers_back(
    sandbox: DockerSandbox, tmp_path: Path
) -> None:
    import os
    import signal
    import time
    import urllib.request

    app = converted_guide(sandbox, tmp_path / "phoenix", "--fix")
    sandbox.dotkit("create", "phoenix", cwd=app)
    assert sandbox.dotkit("push", cwd=app).code == 0
    url = sandbox.dotkit("url", "gear1", cwd=app).out.strip()
    before = sandbox.containers()
    pid = sandbox.platform_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 90
    body = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
                break
        except OSError:
            time.sleep(0.5)
    assert '"gear": "Gear1"' in body or '"gear":"Gear1"' in body
    assert sorted(sandbox.containers()) == sorted(before)  # the same names, started again
    sandbox.dotkit("-y", "destroy", cwd=app)
