"""Sandbox verbs that need no running app: applications, connected folders, confirmations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture
def in_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    old = Path.cwd()
    os.chdir(folder)
    yield folder
    os.chdir(old)


def test_create_connects_the_folder_like_the_real_cli(in_folder: Path, cli) -> None:
    result = cli("create", "myapp")
    assert result.code == 0
    assert result.out == (
        '==> Creating a sandbox application named "myapp"\n'
        '==> Application "myapp" created.\n'
        '==> Connecting with the application "myapp"\n'
        "==> Connected with default push options: --rsync\n"
    )
    config = json.loads((in_folder / ".dotcloud" / "config").read_text())
    assert config == {
        "application": "myapp",
        "version": "0.9.8",
        "push_protocol": "rsync",
        "push_branch": None,
    }
    assert cli("app").out == "myapp\n"
    sub = in_folder / "deeper" / "still"
    sub.mkdir(parents=True)
    os.chdir(sub)
    assert cli("app").out == "myapp\n"  # found by walking up, as the real CLI does


def test_list_connect_disconnect_and_errors(in_folder: Path, cli) -> None:
    cli("create", "one")
    cli("-A", "one", "app")
    assert cli("create", "two", "--git").code == 0
    assert cli("list").out == "  one (sandbox)\n* two (sandbox)\n"
    assert json.loads((in_folder / ".dotcloud" / "config").read_text())["push_protocol"] == "git"
    assert cli("connect", "one").code == 0
    assert cli("app").out == "one\n"
    assert cli("-A", "two", "app").out == "two\n"
    assert cli("disconnect").code == 0
    missing = cli("app")
    assert missing.code == 2
    assert "this folder is not connected to an application" in missing.err
    again = cli("create", "one")
    assert (again.code, again.err) == (
        2,
        'dotkit: error: application "one" already exists; pick another name\n',
    )
    bad = cli("create", "Bad_Name!")
    assert bad.code == 2 and "is not a valid application name" in bad.err
    nope = cli("connect", "ghost")
    assert (
        nope.err
        == 'dotkit: error: there is no application "ghost"; create it with: dotkit create ghost\n'
    )


def test_destroy_never_waits_for_an_answer_without_a_terminal(in_folder: Path, cli) -> None:
    cli("create", "keep")
    refused = cli("destroy")
    assert refused.code == 2
    assert "add -y (--assume-yes) to confirm" in refused.err
    assert cli("-A", "keep", "app").code == 0  # still there
    assert cli("-y", "destroy").out == 'Destroyed the application "keep".\n'
    assert cli("-A", "keep", "app").code == 2


def test_inspecting_an_app_with_nothing_pushed(in_folder: Path, cli) -> None:
    cli("create", "fresh")
    assert cli("url").out == "Nothing is deployed yet: dotkit push\n"
    assert cli("dlist").out == "No deployments yet: dotkit push\n"
    info = cli("info").out.splitlines()
    assert info[0] == "=== fresh"
    assert info[1].startswith("flavor:       sandbox (")
    assert "cost to date: Free" in info and "revision:     (nothing pushed yet)" in info
    assert (
        info[-1] == "Warning: Run dotkit push to deploy and see the information about your stack."
    )
    assert (
        cli("revisions").out
        == "==> Revisions for application fresh:\nNo revisions yet: dotkit push\n"
    )
    logs = cli("logs", "www")
    assert logs.code == 2 and 'has no running service "www"' in logs.err
    dlogs = cli("dlogs", "latest")
    assert dlogs.code == 2 and "has no deployments yet" in dlogs.err
    push = cli("push")
    assert push.code == 2  # a failed deployment, as the real CLI's status says
    assert f"no dotcloud.yml in {in_folder}" in push.err


def test_doctor_names_the_backend(cli) -> None:
    result = cli("doctor")
    assert "backend" in result.out
    assert "Not faithful to the platform (the table: docs, The local sandbox):" in result.out
    assert "node builds" in result.out and "v0.8.x runs v0.8.28" in result.out


def test_a_damaged_app_stops_only_its_own_commands(in_folder: Path, cli) -> None:
    from kit.paths import dotkit_home
    from kit.sandbox.layout import Layout

    cli("create", "good")
    cli("create", "bad")
    meta = Layout(dotkit_home()).app("bad").meta
    meta.write_text('{"name": "bad", "created": ')  # cut short, as by a full disk
    info = cli("-A", "bad", "info")
    assert (info.code, info.err) == (
        2,
        f"dotkit: error: {meta} ends in the middle of its JSON (cut short?); fix it, or start "
        "the application over with: dotkit -A bad destroy\n",
    )
    assert cli("list").out == "* bad (sandbox)\n  good (sandbox)\n"
    assert cli("-A", "good", "info").code == 0
    assert cli("-A", "bad", "-y", "destroy").out == 'Destroyed the application "bad".\n'


def test_a_damaged_folder_config_can_still_be_disconnected(in_folder: Path, cli) -> None:
    cli("create", "mine")
    (in_folder / ".dotcloud" / "config").write_text("{nope")
    app = cli("app")
    assert (
        app.code == 2
        and "is not valid JSON at line 1, column 2; run dotkit connect again" in app.err
    )
    assert cli("list").out == "  mine (sandbox)\n"
    out = cli("disconnect").out
    assert (
        out == f"Disconnected {in_folder} from its application (its .dotcloud/config was damaged)\n"
    )
    assert not (in_folder / ".dotcloud").exists()
