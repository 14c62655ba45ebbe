"""Reading files someone else controls: no FIFO waited on, no link followed out, no
huge file read whole. Real FIFOs, links and files in tmp_path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kit.safeio import (
    open_beneath,
    read_beneath,
    read_file,
    read_text,
    regular_files,
    regular_folders,
    tail_beneath,
)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A container's home as an app could leave it: its log folder full of traps."""
    secret = tmp_path / "host-secret"
    secret.write_text("root:secret-hash\n")
    logs = tmp_path / "home" / ".dotkit" / "log"
    logs.mkdir(parents=True)
    (logs / "web.log").write_text("".join(f"line {n}\n" for n in range(1000)))
    os.mkfifo(logs / "fifo.log")
    (logs / "secret.log").symlink_to(secret)
    (logs / "loop.log").symlink_to("loop.log")
    (logs / "dir.log").mkdir()
    return tmp_path / "home"


def test_only_regular_files_are_listed_and_read(hostile: Path) -> None:
    assert regular_files(hostile, ".dotkit", "log", suffix=".log") == ["web.log"]
    for name in ("fifo.log", "secret.log", "loop.log", "dir.log"):
        with pytest.raises(OSError):
            read_beneath(hostile, ".dotkit", "log", name)
        assert tail_beneath(hostile, ".dotkit", "log", name, lines=5) == ([], 0)


def test_a_tail_reads_only_the_end(hostile: Path) -> None:
    lines, size = tail_beneath(hostile, ".dotkit", "log", "web.log", lines=3, limit=100)
    assert lines == ["line 997", "line 998", "line 999"]
    assert size == (hostile / ".dotkit" / "log" / "web.log").stat().st_size
    few, _ = tail_beneath(hostile, ".dotkit", "log", "web.log", lines=50, limit=40)
    assert few[0].startswith("line 99") and len(few) < 50  # no line cut in the middle
    assert read_beneath(hostile, ".dotkit", "log", "web.log", offset=size - 9) == b"line 999\n"


def test_no_link_is_followed_on_the_way(hostile: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.log").write_text("not the container's\n")
    (hostile / "linked").symlink_to(tmp_path / "elsewhere")
    assert regular_files(hostile, "linked") == []
    with pytest.raises(OSError) as caught:
        open_beneath(hostile, "linked", "x.log")
    assert caught.value.errno in (errno.ELOOP, errno.ENOTDIR)
    with pytest.raises(OSError):
        open_beneath(hostile, "..", "host-secret")
    assert regular_folders(hostile) == [".dotkit"]  # the link to a folder is not one


def test_an_apps_file_is_read_through_its_own_links_only(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "real.json").write_text("{}")
    (app / "package.json").symlink_to("real.json")
    (app / "shadow.json").symlink_to(tmp_path / "outside.json")
    (tmp_path / "outside.json").write_text('{"password": "x"}')
    os.mkfifo(app / "fifo.json")
    assert read_file(app / "package.json", within=app) == b"{}"
    with pytest.raises(OSError, match="a link out of the app"):
        read_file(app / "shadow.json", within=app)
    with pytest.raises(OSError, match="not a regular file"):
        read_text(app / "fifo.json", within=app)  # at once, not after a writer comes
    with pytest.raises(OSError, match="larger than 1 bytes"):
        read_file(app / "real.json", limit=1)
