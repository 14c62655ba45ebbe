"""Where the sandbox keeps things, and the names it accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.sandbox.layout import RUNTIME_MAX, Layout, check_app_name, runtime_folder


def test_app_names_and_socket_paths(tmp_path: Path) -> None:
    for bad in ("Bad Name", "../etc", "a/b", "x\n", ".hidden", "a" * 31, ""):
        with pytest.raises(UsageError, match="is not a valid application name"):
            check_app_name(bad)
    layout = Layout(tmp_path / ("x" * 150))
    assert len(str(layout.runtime)) <= RUNTIME_MAX or layout.runtime.parent == layout.home
    sock = layout.container_sockets("a" * 30, "servicename12345.9-d999") / "supervisor.sock"
    if layout.runtime.parent != layout.home.resolve():
        assert len(str(sock)) < 108  # a Unix socket's path limit
    assert layout.hidden == [str((tmp_path / ("x" * 150)).resolve()), str(layout.runtime)]
    assert layout.app("shop").runtime == tmp_path / ("x" * 150) / "apps" / "shop" / "runtime.json"


def test_the_socket_folder_is_never_in_a_folder_others_can_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    private = {"/run", "/run/user/1000"}

    def only_owner(path: str, euid: int) -> bool:
        return path in private

    root = runtime_folder(home, euid=0, private=only_owner)
    user = runtime_folder(home, euid=1000, private=only_owner)
    assert root.parent == Path("/run") and root.name.startswith("dotkit-")
    assert user.parent == Path("/run/user/1000") and user.name == root.name
    assert len(str(user)) <= RUNTIME_MAX
    # A user without a login's own folder: the home's own, never /tmp.
    assert runtime_folder(home, euid=1001, private=only_owner) == home.resolve() / "run"
    # Another sandbox, another folder; the same sandbox, the same folder.
    assert runtime_folder(tmp_path / "other", euid=0, private=only_owner) != root
    assert runtime_folder(home, euid=0, private=only_owner) == root


def test_the_real_choice_here(tmp_path: Path) -> None:
    runtime = Layout(tmp_path).runtime
    if os.geteuid() == 0:
        assert runtime.parent == Path("/run")
    else:
        assert runtime.parent in (Path(f"/run/user/{os.geteuid()}"), tmp_path.resolve())
    assert not str(runtime).startswith("/tmp/")
