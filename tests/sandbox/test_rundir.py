"""The sandbox's folders are its owner's alone: made 0700, narrowed, or refused."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.sandbox.layout import Layout
from kit.sandbox.rundir import UnsafeFolder, ensure_home, ensure_runtime, own_folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    found = Layout(tmp_path / "a" / "home")
    yield found
    shutil.rmtree(found.runtime, ignore_errors=True)


def test_home_platform_and_sockets_are_made_0700(layout: Layout) -> None:
    ensure_home(layout)
    runtime = ensure_runtime(layout)
    for path in (layout.home, layout.platform, runtime):
        assert _mode(path) == 0o700, path
        assert path.lstat().st_uid == os.geteuid()


def test_an_open_home_is_narrowed(layout: Layout) -> None:
    layout.home.mkdir(parents=True, mode=0o755)
    layout.home.chmod(0o755)
    ensure_home(layout)
    assert _mode(layout.home) == 0o700


def test_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o755)
    target.chmod(0o755)
    (tmp_path / "home").symlink_to(target)
    with pytest.raises(UnsafeFolder, match="is a link or a file"):
        own_folder(tmp_path / "home")
    assert _mode(target) == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="gives a folder to another user: needs root")
def test_a_folder_another_user_made_first_is_refused(layout: Layout) -> None:
    """The attack on a predictable socket folder: made first by someone else, it is not used."""
    ensure_home(layout)
    runtime = layout.runtime
    runtime.mkdir(mode=0o777)
    os.chown(runtime, 65534, 65534)
    with pytest.raises(UnsafeFolder, match=r"belongs to another user \(uid 65534\)"):
        ensure_runtime(layout)
    assert list(runtime.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as another user: needs root")
def test_another_user_cannot_make_the_socket_folder_first(layout: Layout) -> None:
    runtime = layout.runtime
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
         "mkdir", str(runtime)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "Permission denied" in done.stderr
    assert not runtime.exists()


def test_a_socket_folder_too_long_for_sockets_is_refused(tmp_path: Path) -> None:
    # (the home's own folder, where a user has no /run/user/UID)
    layout = Layout(tmp_path / ("x" * 120))
    with pytest.raises(UnsafeFolder, match="too long for Unix sockets"):
        ensure_runtime(layout, layout.home.resolve() / "run")
    assert not layout.home.exists()


def test_creating_the_first_app_makes_the_home_private(layout: Layout) -> None:
    from kit.sandbox.state import create_app

    create_app(layout, "shop")
    assert _mode(layout.home) == 0o700 and _mode(layout.platform) == 0o700
    assert stat.S_IMODE(layout.app("shop").meta.stat().st_mode) == 0o600
