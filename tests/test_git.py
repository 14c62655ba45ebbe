"""git on a hostile repository: nothing its config names ever runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kit.git import drivers, git_environment, run_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def sh(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**git_environment(), "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b",
                        "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"})  # fmt: skip


def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose config runs a program from every hook git offers."""
    root = tmp_path / "repo"
    root.mkdir()
    marker = tmp_path / "ran"
    sh(root, "init", "-q")
    (root / "server.js").write_text("listen(3000)\n")
    (root / ".gitattributes").write_text("* filter=evil diff=evil\n")
    sh(root, "add", ".")
    sh(root, "commit", "-qm", "first")
    (root / "server.js").write_text("listen(8080)\n")  # dirty: status must compare content
    touch = f"touch {marker}"
    with (root / ".git" / "config").open("a") as config:
        config.write(
            f'[core]\n\tfsmonitor = "{touch}"\n\tpager = "{touch}"\n\thooksPath = hooks\n'
            f'[filter "evil"]\n\tclean = "{touch}"\n\tsmudge = "{touch}"\n\tprocess = "{touch}"\n'
            f'\trequired = true\n[diff "evil"]\n\ttextconv = "{touch}"\n\tcommand = "{touch}"\n'
            f'[diff]\n\texternal = "{touch}"\n[include]\n\tpath = extra\n'
        )
    (root / ".git" / "extra").write_text(f'[filter "sneaky"]\n\tclean = "{touch}"\n')
    hooks = root / "hooks"
    hooks.mkdir()
    for hook in ("post-index-change", "fsmonitor-watchman", "pre-commit"):
        (hooks / hook).write_text(f"#!/bin/sh\n{touch}\n")
        (hooks / hook).chmod(0o755)
    return root, marker


def test_a_hostile_config_runs_nothing(tmp_path: Path) -> None:
    root, marker = hostile_repo(tmp_path)
    status = run_git(root, "status", "--porcelain", "--untracked-files=all")
    assert status.returncode == 0, status.stderr
    assert " M server.js" in status.stdout
    run_git(root, "diff", "HEAD")  # fails on the emptied external diff, runs nothing
    plain = run_git(root, "diff", "--no-ext-diff", "--no-textconv", "HEAD", check=True)
    assert "+listen(8080)" in plain.stdout
    run_git(root, "rev-parse", "--short=7", "HEAD", check=True)
    archive = tmp_path / "out.tar"
    run_git(root, "archive", "--format=tar", "-o", str(archive), "HEAD", check=True)
    assert archive.stat().st_size > 0
    assert not marker.exists()


def test_the_same_repo_does_run_them_with_plain_git(tmp_path: Path) -> None:
    # The test above could not fail if the hostile repo were harmless: plain git runs it.
    root, marker = hostile_repo(tmp_path)
    subprocess.run(["git", "status"], cwd=root, capture_output=True, check=False)
    assert marker.exists()


def test_drivers_are_read_through_includes(tmp_path: Path) -> None:
    root, _ = hostile_repo(tmp_path)
    found = drivers(root, git_environment())
    assert found == [("diff", "evil"), ("filter", "evil"), ("filter", "sneaky")]


def test_the_environment_loses_what_would_start_a_program() -> None:
    env = git_environment({"GIT_EXTERNAL_DIFF": "x", "GIT_SSH_COMMAND": "x", "PATH": "/bin"})
    assert "GIT_EXTERNAL_DIFF" not in env and "GIT_SSH_COMMAND" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["PATH"] == "/bin"
