"""The docker backend's container, as arguments: the same container as bubblewrap's,
on the platform image, and every value it takes checked (the containers themselves
run in tests/e2e/test_docker_backend.py)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox import admit, dataservices, datastores
from kit.sandbox.backend import ContainerSpec, Peer, isolated_argv, sandbox_key
from kit.sandbox.dockerbox import (
    BUILD_NODE_BIN,
    DockerPlan,
    container_name,
    environment,
    mount_option,
    mounts,
    run_args,
)
from kit.sandbox.isolation.limits import Limits
from kit.sandbox.isolation.rootfs import Box
from kit.sandbox.layout import Layout
from kit.sandbox.records import AppRecord
from kit.sandbox.state import create_app, load_app
from testing.sandbox import FAKE_IMAGE

ENGINE = "unix:///run/docker.sock"


def _box(kind: str = "service", **changes: object) -> Box:
    box = Box(
        kind=kind, home="/state/apps/a/containers/www.0-d1",
        private="/state/apps/a/containers/www.0-d1/.dotkit",
        logs="/state/apps/a/containers/www.0-d1/.dotkit/log", sockets="/run/s/a/c/www.0-d1",
        services="/run/s/a/s", hostname="www-0", netns=kind != "build",
        hosts="127.0.0.1\tlocalhost\n", env={"PYTHONPATH": "/opt/dotkit/lib"},
        extra_ro=["/usr/local/lib/nodejs"], command=["/usr/bin/python3", "-m", "kit.sandbox.cinit"],
        node="/cache/node/0.8.28",
    )  # fmt: skip
    return box._replace(**changes)  # type: ignore[arg-type]


def _plan(box: Box) -> DockerPlan:
    return DockerPlan(
        box=box, name="dotkit-x-a-www.0-d1", image=FAKE_IMAGE, engine=ENGINE, uid=1234567,
        gid=1234567, limits=Limits(256 << 20, 100, 512), sandbox="abc",
    )  # fmt: skip


def _options(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


def test_a_service_container_is_bubblewraps_on_the_platform_image() -> None:
    args = run_args(_plan(_box()), Path("/tmp/stage"), ["/etc/passwd", "/etc/hosts"], ["bin"])
    assert args[:4] == ["run", "--rm", "--init", "--name"]
    assert _options(args, "--network") == ["none"]
    assert _options(args, "--user") == ["1234567:1234567"]
    assert _options(args, "--cap-drop") == ["ALL"]
    assert "--read-only" in args and _options(args, "--security-opt") == ["no-new-privileges"]
    assert _options(args, "--memory") == [str(256 << 20)] == _options(args, "--memory-swap")
    assert _options(args, "--pids-limit") == ["100"]
    assert "--interactive" not in args  # a service's input is nobody's
    targets = {dict(f.split("=", 1) for f in m.split(",") if "=" in f)["target"]: m
               for m in _options(args, "--mount")}  # fmt: skip
    assert "readonly" not in targets["/home/dotcloud"]
    assert targets["/home/dotcloud/.dotkit"].endswith(",readonly")
    assert "/var/dotcloud" in targets and "/run/dotkit/self" in targets
    assert targets["/opt/node/bin"].endswith(",readonly")
    assert "/usr/local/lib/nodejs" not in targets  # the host's tools stay on the host
    assert (
        targets["/etc/passwd"]
        == "type=bind,source=/tmp/stage/etc/etc_passwd,target=/etc/passwd,readonly"
    )
    image = args.index(FAKE_IMAGE)
    assert args[image - 2 : image] == ["--entrypoint", "/usr/bin/python3"]
    assert args[image + 1 :] == ["-m", "kit.sandbox.cinit"]


def test_a_build_uses_the_hosts_network_and_the_build_images_npm() -> None:
    box = _box("build", env={"PATH": "/usr/bin:/bin:/opt/node/bin"}, sockets=None, private=None)
    args = run_args(_plan(box), Path("/tmp/stage"), [], [])
    assert _options(args, "--network") == ["host"]
    assert "--interactive" in args  # what the caller feeds reaches the command
    env = dict(e.split("=", 1) for e in _options(args, "--env"))
    assert env["PATH"].split(":")[0] == BUILD_NODE_BIN
    assert environment(_box("hook", node=None))["PATH"].split(":")[0] != BUILD_NODE_BIN


def test_mount_fields_are_quoted_when_a_path_has_a_comma() -> None:
    option = mount_option("/home/a,b/x", "/home/dotcloud", True)
    assert next(csv.reader([option])) == [
        "type=bind", "source=/home/a,b/x", "target=/home/dotcloud",
    ]  # fmt: skip


def test_node_is_shown_part_by_part_beside_the_build_images_own() -> None:
    binds = mounts(_box(), Path("/stage"), [], ["bin", "include", "lib"])
    inside = [b[1] for b in binds]
    assert "/opt/node" not in inside
    assert {"/opt/node/bin", "/opt/node/include", "/opt/node/lib"} <= set(inside)


def test_names_are_per_sandbox_and_builds_get_one_per_run() -> None:
    first = container_name("/a\0/b", "shop", "www.0-d1")
    assert first == container_name("/a\0/b", "shop", "www.0-d1")
    assert first != container_name("/c", "shop", "www.0-d1")
    assert first.endswith("-shop-www.0-d1")
    build = container_name("/a", "", "build", "build")
    assert build != container_name("/a", "", "build", "build")


def test_a_plan_survives_its_json() -> None:
    plan = _plan(_box())
    assert DockerPlan.from_json(plan.to_json()) == plan


def _spec(layout: Layout, **changes: object) -> ContainerSpec:
    app = layout.app("shop")
    spec = ContainerSpec(
        "www.0-d1", "shop", "www", 0, str(app.container("www.0-d1")),
        str(layout.container_sockets("shop", "www.0-d1")), str(layout.service_sockets("shop")),
        {}, True, {}, [Peer("db.shop.sandbox", "127.0.10.3", 6379, "db.redis.sock")],
        layout.hidden, "docker", engine=ENGINE, image=FAKE_IMAGE,
    )  # fmt: skip
    return spec._replace(**changes)  # type: ignore[arg-type]


def test_the_platform_starts_docker_containers_only_for_apps_created_so(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    create_app(layout, "shop")
    with pytest.raises(admit.Refused, match="backend should be 'bwrap'"):
        admit.check_spec(layout, "bwrap", _spec(layout).to_json())
    (layout.app("shop").meta).unlink()
    create_app(layout, "shop", backend="docker")
    assert load_app(layout, "shop").backend == "docker"
    assert admit.check_spec(layout, "bwrap", _spec(layout).to_json()).engine == ENGINE
    for bad in (
        {"engine": "ssh://elsewhere"},
        {"image": "attacker/image:latest"},
        {"engine": ""},
    ):
        with pytest.raises(admit.Refused):
            admit.check_spec(layout, "bwrap", _spec(layout, **bad).to_json())
    with pytest.raises(admit.Refused, match="engine and an image are for the docker backend"):
        admit.check_spec(layout, "docker", _spec(layout, backend="bwrap").to_json())


def test_an_app_record_keeps_its_backend() -> None:
    record = AppRecord(name="shop", created=1.0, backend="docker")
    data = json.loads(json.dumps(record.to_data()))
    assert AppRecord.from_data(data, "app.json", "").backend == "docker"
    data["backend"] = "lxc"
    with pytest.raises(Exception, match="bwrap, docker or process"):
        AppRecord.from_data(data, "app.json", "")


def test_the_docker_backend_runs_the_platform_images_servers() -> None:
    # The image's, whatever this machine has: none of them is looked for here.
    for kind in ("redis", "mysql", "postgresql"):
        assert dataservices.problem(kind, backend="docker") is None
    assert "mongodb" in (dataservices.problem("mongodb", backend="docker") or "")


def test_a_docker_data_service_runs_the_images_programs() -> None:
    from kit.engine.rootfs import SQL_PROGRAMS

    command = dataservices.command(
        "postgresql", 5432, "pw", "/home/dotcloud/data", programs=SQL_PROGRAMS
    )
    assert command.startswith("/usr/lib/postgresql/15/bin/postgres -D /home/dotcloud/data ")
    store = dataservices.store(
        "mysql", data_dir="/d", run_dir="/r", port=3306, password="pw", programs=SQL_PROGRAMS
    )
    firsts = [step.argv[0] for step in datastores.init_steps(store)]
    assert SQL_PROGRAMS["mariadb-install-db"] in firsts and SQL_PROGRAMS["mariadbd"] in firsts


def test_isolated_argv_starts_the_docker_launcher(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    spec = _spec(layout)
    argv = isolated_argv(spec, ["/bin/true"], kind="hook")
    assert argv[1:3] == ["-m", "kit.sandbox.dockerbox"]
    plan = DockerPlan.from_json(argv[3])
    assert plan.image == FAKE_IMAGE and plan.engine == ENGINE
    assert plan.box.netns and plan.box.kind == "hook"
    assert plan.name.startswith(f"dotkit-{plan.sandbox[:8]}-shop-www.0-d1-hook-")
    assert sandbox_key(spec) == "\0".join(layout.hidden)
    build = DockerPlan.from_json(isolated_argv(spec, ["npm"], netns=False)[3])
    assert build.image.startswith("dotkit/platform-build:") and not build.box.netns


def test_create_with_the_docker_backend_needs_an_engine(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = cli("-y", "create", "shop", "--backend", "docker")
    assert result.code != 0
    assert "--backend docker needs a Docker engine" in result.err
    assert "DOCKER_HOST" in result.err
    assert "Traceback" not in result.err
    assert cli("app", "--help").code == 0
    assert "--backend" in cli("create", "--help").out


def test_doctor_says_whether_the_docker_backend_is_available(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    out = cli("doctor").out
    line = next(line for line in out.splitlines() if line.strip().startswith("NO  docker"))
    assert "--backend docker is not available" in line


def test_staging_folders_of_launchers_that_are_gone_are_swept(tmp_path: Path) -> None:
    from kit.sandbox.dockerbox import STAGING, _sweep

    gone = tmp_path / f"{STAGING}999999999-abc"
    alive = tmp_path / f"{STAGING}{os.getpid()}-def"
    other = tmp_path / "dotkit-box-notapid"
    for folder in (gone, alive, other):
        (folder / "etc").mkdir(parents=True)
    _sweep(tmp_path)
    assert not gone.exists() and alive.exists() and other.exists()
