"""Hostile files met by a support engineer's or a learner's kit: a repository whose
config names programs, Gear folder and program names that try to write a section of
supervisord.conf, a ``.dotcloud/config`` naming a folder to destroy, FIFOs and links
in an app. Each attack fails, nothing it names runs, and the host is unchanged.
No containers here: what reads these files is the kit itself, on the host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from supervisor.options import UnhosedConfigParser

from kit.appfs import list_app_files
from kit.errors import UsageError
from kit.sandbox.layout import Layout
from kit.sandbox.push.context import PushFailed
from kit.sandbox.push.plan import read_app
from kit.sandbox.push.upload import Uploaded, upload
from kit.sandbox.seams import HOST
from testing.sandbox import FakeClock
from tests.conftest import Result
from tests.test_git import hostile_repo, sh

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_a_hostile_repository_is_pushed_and_verified_without_running_anything(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    root, marker = hostile_repo(tmp_path)
    with (root / ".git" / "config").open("a") as config:  # and the hooks a checkout runs
        config.write(f'[core]\n\thooksPath = hooks\n[alias]\n\tarchive = "!touch {marker}"\n')
    for hook in ("post-checkout", "post-merge", "reference-transaction"):
        (root / "hooks" / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (root / "hooks" / hook).chmod(0o755)
    head = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=root, capture_output=True, text=True,
        check=True, env={"GIT_CONFIG_GLOBAL": os.devnull, "PATH": os.environ["PATH"]},
    ).stdout.strip()  # fmt: skip
    app = Layout(tmp_path / "home").app("hostile")
    rev, dest = upload(root, app, git=True, runner=HOST, clock=FakeClock())
    assert rev == f"git-{head}"
    # The last commit, as committed: no smudge filter ran over it.
    assert (dest / "server.js").read_text() == "listen(3000)\n"
    assert sorted(list_app_files(dest, ignore_files=())) == [".gitattributes", "server.js"]
    assert not list(app.revisions.glob("*.index"))  # its private index is gone
    verified = cli("verify", str(root))
    assert "Traceback" not in verified.err
    assert not marker.exists()
    assert (root / "server.js").read_text() == "listen(8080)\n"  # the work tree untouched


@needs_git
def test_a_repository_without_a_commit_is_refused_clearly(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    sh(root, "init", "-q")  # a repository without a commit
    with pytest.raises(PushFailed, match="has no commit to push"):
        upload(root, Layout(tmp_path / "home").app("x"), git=True, runner=HOST, clock=FakeClock())


def test_a_gear_folder_name_cannot_write_a_program_section(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    src = tmp_path / "src"
    gear = src / "web\n[program:evil]\ncommand=touch pwned"
    gear.mkdir(parents=True)
    (gear / ".torque").write_text('{"start": "server.js"}')
    (gear / "server.js").write_text("require('http').createServer().listen(8080);\n")
    out = tmp_path / "out"
    assert cli("convert", str(src), "-o", str(out)).code == 0
    (conf,) = out.glob("*/supervisord.conf")
    parser = UnhosedConfigParser()
    parser.read_string(conf.read_text())
    assert parser.sections() == ["program:node"]
    assert conf.read_text().splitlines()[0].startswith("; supervisord program for this service")
    build = yaml.safe_load((out / "dotcloud.yml").read_text())
    assert [svc["approot"] for svc in build.values()] == [gear.name]  # one service, its folder


def test_a_program_name_cannot_write_a_section_either(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "www").mkdir(parents=True)
    (root / "www" / "package.json").write_text("{}")
    (root / "dotcloud.yml").write_text(
        'www:\n  type: nodejs\n  approot: www\n  processes:\n    "a]\\n[program:evil": "true"\n'
    )
    files = tuple(list_app_files(root, ignore_files=()))
    with pytest.raises(PushFailed, match=r'"a\]\\n\[program:evil" in www.processes is not a valid'):
        read_app(Uploaded("rsync-1", root, files))


def test_an_app_name_from_a_connected_folder_cannot_name_another_folder(
    tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep\n")
    home = tmp_path / "home"
    monkeypatch.setenv("DOTKIT_HOME", str(home))
    folder = tmp_path / "folder"
    (folder / ".dotcloud").mkdir(parents=True)
    escape = os.path.relpath(victim, home / "apps")
    (folder / ".dotcloud" / "config").write_text(
        f'{{"application": "{escape}", "version": "0.9.8", "push_protocol": "rsync"}}'
    )
    monkeypatch.chdir(folder)
    done = cli("-y", "destroy")
    assert done.code == 2
    assert "should be an application name" in done.err
    refused = cli("-y", "-A", escape, "destroy")
    assert refused.code == 2 and "is not a valid application name" in refused.err
    assert (victim / "keep.txt").read_text() == "keep\n"


def test_fifos_links_and_loops_in_an_app_neither_hang_nor_leak(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("root:the-host-secret:19000::::::\n")
    app = tmp_path / "app"
    (app / "www").mkdir(parents=True)
    (app / "dotcloud.yml").write_text("www:\n  type: nodejs\n  approot: www\n")
    os.mkfifo(app / "www" / "package.json")
    os.mkfifo(app / "www" / "server.js")
    os.mkfifo(app / "www" / ".gitignore")
    (app / "www" / "supervisord.conf").symlink_to(secret)
    (app / "www" / "loop").symlink_to("loop")
    (app / "www" / "a").symlink_to("b")
    (app / "www" / "b").symlink_to("a")
    gears = tmp_path / "gears"
    (gears / "g1").mkdir(parents=True)
    os.mkfifo(gears / "g1" / ".torque")
    (gears / "g2").mkdir()
    (gears / "g2" / ".torque").symlink_to(secret)
    kit = [sys.executable, "-m", "kit"]
    for argv in (["verify", str(app)], ["convert", str(gears), "-o", str(tmp_path / "out")]):
        done = subprocess.run([*kit, *argv], capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        assert done.returncode in (1, 2), done.stdout + done.stderr
        assert "Traceback" not in done.stderr and "the-host-secret" not in done.stdout + done.stderr
    verified = subprocess.run([*kit, "verify", str(app)], capture_output=True, text=True,
                              timeout=120, check=False).stdout  # fmt: skip
    assert "package-json-syntax  cannot be read: not a regular file" in verified
    assert "supervisord-syntax  cannot be read: a link out of the app" in verified


def test_an_application_name_is_checked_before_it_becomes_a_path() -> None:
    from kit.sandbox.layout import check_app_name

    for name in ("../../etc", "a/../../b", "x\n", "/abs"):
        with pytest.raises(UsageError):
            check_app_name(name)
