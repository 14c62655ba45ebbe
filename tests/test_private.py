"""Files with secrets are 0600 in 0700 folders, written atomically, never through a link."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kit.private import private_dir, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_private_file_is_the_owners_alone(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "state" / "app")
    write_private(folder / "env.json", '{"PASSWORD": "x"}')
    assert mode(folder) == 0o700 and mode(folder / "env.json") == 0o600
    assert (folder / "env.json").read_text() == '{"PASSWORD": "x"}'
    assert [p.name for p in folder.iterdir()] == ["env.json"]  # no temporary file left


def test_an_open_folder_of_ours_is_narrowed(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(mode=0o755)
    assert mode(private_dir(tmp_path / "home")) == 0o700


def test_rewriting_replaces_a_readable_file_with_a_private_one(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, b"new")
    assert (mode(path), path.read_bytes()) == (0o600, b"new")


def test_a_link_at_the_name_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "secret").symlink_to(victim)
    write_private(tmp_path / "secret", "new")
    assert victim.read_text() == "keep"
    assert not (tmp_path / "secret").is_symlink()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    write_private(path, "old")

    def broken(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_private(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["secret"]
