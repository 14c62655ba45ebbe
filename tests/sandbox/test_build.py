"""The builder: cache decisions, hooks, snapshots (npm install itself: tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.sandbox.build import (
    NPM_STEP,
    BuildFailed,
    Node,
    Step,
    _run_step,
    build_service,
    cache_decision,
)
from testing.apps import make_service, write_files
from testing.sandbox import ScriptedRunner

KEY = {"package_json": "a", "node_version": "v0.8.x", "prebuild": None, "postbuild": None}


@pytest.mark.parametrize(
    ("previous", "clean", "snapshot", "restore", "why"),
    [
        (None, False, False, False, "no previous build to start from (clean build)"),
        (
            KEY,
            True,
            True,
            False,
            "clean build requested (--clean): starting from an empty build container",
        ),
        (
            {**KEY, "node_version": "v0.6.x"},
            False,
            True,
            False,
            "node_version changed (v0.6.x -> v0.8.x): starting from an empty build container",
        ),
        (
            {**KEY, "package_json": "b"},
            False,
            True,
            True,
            "restoring the previous build snapshot; package.json changed (b -> a), npm install will update node_modules",
        ),
        (
            KEY,
            False,
            True,
            True,
            "restoring the previous build snapshot: package.json unchanged (sha256 a), node_version v0.8.x, hooks unchanged",
        ),
    ],
)
def test_cache_decisions(
    previous: dict[str, str | None] | None, clean: bool, snapshot: bool, restore: bool, why: str
) -> None:
    assert cache_decision(previous, KEY, clean=clean, has_snapshot=snapshot) == (restore, why)


def _build(tmp_path: Path, runner: ScriptedRunner, **hooks: str) -> list[str]:
    code = write_files(tmp_path / "rev", {"www/server.js": "// v1\n"})
    lines: list[str] = []
    build_service(
        service=make_service("www", approot="www"),
        build_dir=tmp_path / "build",
        revision=code,
        node_version="v0.8.x",
        hooks=hooks,
        clean=False,
        backend="process",
        hidden=[],
        log=lines.append,
        runner=runner,
    )
    return lines


def test_a_build_runs_its_hooks_and_keeps_a_snapshot(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    lines = _build(tmp_path, runner, postbuild="echo built > made")
    snapshot = tmp_path / "build" / "snapshot"
    assert (snapshot / "current" / "made").read_text() == "built\n"
    assert (snapshot / "current" / "server.js").read_text() == "// v1\n"
    assert lines[:2] == [
        "Build cache: no previous build to start from (clean build)",
        "Running postbuild: echo built > made",
    ]
    assert runner.hooks == ["echo built > made"]
    again = _build(tmp_path, runner, postbuild="echo built > made")
    assert again[0].startswith("Build cache: restoring the previous build snapshot")


def test_a_failing_hook_fails_the_build_and_keeps_the_last_snapshot(tmp_path: Path) -> None:
    _build(tmp_path, ScriptedRunner())
    runner = ScriptedRunner({"./prep": (3, "no such thing\n")})
    with pytest.raises(BuildFailed) as failed:
        _build(tmp_path, runner, prebuild="./prep")
    assert str(failed.value) == "prebuild (`./prep`) failed with exit code 3:\n  no such thing"
    assert (tmp_path / "build" / "snapshot" / "current" / "server.js").is_file()
    assert not (tmp_path / "build" / "work").exists()


def test_a_change_of_node_starts_from_scratch() -> None:
    key = {**KEY, "node": "v0.8.28"}
    assert cache_decision(
        {**KEY, "node": "this machine's node"}, key, clean=False, has_snapshot=True
    ) == (
        False,
        "Node.js changed (this machine's node -> v0.8.28): native addons must be built again, "
        "starting from an empty build container",
    )


class NpmRunner(ScriptedRunner):
    """npm install, scripted: it "installs" ``tree`` into the approot, or fails with ``out``."""

    def __init__(self, tree: dict[str, str], code: int = 0, out: str = "") -> None:
        super().__init__()
        self.tree, self.code, self.out = tree, code, out
        self.envs: list[dict[str, str]] = []

    def stream(self, argv, *, on_line, timeout=60, env=None):  # type: ignore[no-untyped-def]
        command = argv[-1]
        if "npm install" not in command:
            return super().stream(argv, on_line=on_line, timeout=timeout, env=env)
        self.envs.append(dict(env or {}))
        for line in self.out.splitlines():
            on_line(line)
        if self.code:
            from kit.proc import CommandFailed

            raise CommandFailed("npm failed", argv, self.code, self.out)
        current = Path(command.split(" && ")[0].removeprefix("cd "))
        write_files(current, self.tree)
        return 0


def _npm_build(tmp_path: Path, runner: ScriptedRunner) -> list[str]:
    code = write_files(tmp_path / "rev", {"www/package.json": '{"name": "www"}'})
    lines: list[str] = []
    build_service(
        service=make_service("www", approot="www"), build_dir=tmp_path / "build", revision=code,
        node_version="v0.8.x", hooks={}, clean=False, backend="process", hidden=[],
        log=lines.append, runner=runner, node=Node("0.8.28", tmp_path / "node"),
    )  # fmt: skip
    return lines


def test_npm_builds_for_the_services_node_and_names_what_excludes_it(tmp_path: Path) -> None:
    runner = NpmRunner({"node_modules/debug/package.json": '{"name": "debug", "version": '
                        '"4.3.4", "engines": {"node": ">=6.0"}}'})  # fmt: skip
    lines = _npm_build(tmp_path, runner)
    assert runner.envs[0]["npm_config_target"] == "0.8.28"
    assert runner.envs[0]["npm_config_nodedir"] == str(tmp_path / "node")
    assert (
        "npm warning: debug@4.3.4 (node_modules/debug) declares engines.node '>=6.0', which "
        "excludes v0.8.28: it may fail here. Pin a version that supports v0.8.28 in package.json"
    ) in lines


def test_an_addon_that_cannot_build_is_named_in_the_log(tmp_path: Path) -> None:
    out = (
        'npm warn Unknown env config "target"\n'
        "gyp ERR! $npm_package_name bcrypt\ngyp ERR! $npm_package_version 0.7.8\n"
    )
    runner = NpmRunner({}, code=1, out=out)
    logged: list[str] = []
    step = Step(tmp_path / "w", "process", [], logged.append, 1e12, 60.0, runner,
                Node("0.8.28", tmp_path / "node"))  # fmt: skip
    (tmp_path / "w" / "current").mkdir(parents=True)
    with pytest.raises(BuildFailed, match=r"npm install .* failed with exit code 1"):
        _run_step(step, NPM_STEP, "npm install --no-audit --no-fund")
    assert (
        "npm warning: bcrypt@0.7.8: its native build failed, so it cannot build for v0.8.28; "
        "npm undid the install. Use a version of it that supports v0.8.28, or drop it"
    ) in logged
    assert not any("Unknown env config" in line for line in logged)  # npm's noise stays out
