"""The builder: cache decisions, hooks, snapshots (npm install itself: tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.sandbox.build import BuildFailed, build_service, cache_decision
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
