"""Which files belong to the app, and writing the new tree all at once or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.appfs import find_gears, list_app_files, write_tree
from kit.errors import OperationFailed
from kit.files import OutFile


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_gitignore_at_every_level(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".gitignore": "*.log\n/build/\n!keep.log\n",
            "a.log": "",
            "keep.log": "",
            "build/out.js": "",
            "web/build/kept.js": "",
            "web/.gitignore": "secret.json\n",
            "web/secret.json": "",
            "web/server.js": "",
            "api/secret.json": "",
            "node_modules/x/index.js": "",
            "web/node_modules/y/index.js": "",
            ".git/HEAD": "",
        },
    )
    assert list_app_files(tmp_path) == [
        ".gitignore",
        "api/secret.json",
        "keep.log",
        "web/.gitignore",
        "web/build/kept.js",
        "web/server.js",
    ]


def test_dotcloudignore_when_asked(tmp_path: Path) -> None:
    _tree(tmp_path, {".dotcloudignore": "docs/\n", "docs/a.md": "", "server.js": ""})
    assert list_app_files(tmp_path) == [".dotcloudignore", "docs/a.md", "server.js"]
    assert list_app_files(tmp_path, ignore_files=(".gitignore", ".dotcloudignore")) == [
        ".dotcloudignore",
        "server.js",
    ]


def test_symlinks_are_listed_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"big/file.js": ""})
    app = tmp_path / "app"
    _tree(app, {"server.js": ""})
    (app / "linked").symlink_to(outside / "big")
    assert list_app_files(app) == ["linked", "server.js"]


def test_gears_are_direct_subfolders_or_the_root(tmp_path: Path) -> None:
    _tree(tmp_path, {"a/.torque": "", "b/c/.torque": "", "d/x.js": ""})
    files = list_app_files(tmp_path)
    assert [(g.dirname, g.approot) for g in find_gears(tmp_path, files)] == [("a", "a")]


def test_write_tree_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    _tree(src, {"a.js": "a", "b.js": "b"})
    out = tmp_path / "out"
    write_tree(src, out, ["a.js"], [OutFile("dotcloud.yml", b"x: 1\n")], force=False)
    assert sorted(p.name for p in out.iterdir()) == [".dotkit", "a.js", "dotcloud.yml"]

    # A failure half-way through a forced update keeps the previous output intact.
    from kit.appfs import write as writer

    real_put = writer._put

    def failing_put(target: Path, wanted: object) -> None:
        if "b.js" in target.name:
            raise OSError(28, "No space left on device")
        real_put(target, wanted)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_put", failing_put)
    with pytest.raises(OperationFailed, match="No space left on device"):
        write_tree(src, out, ["a.js", "b.js"], [OutFile("dotcloud.yml", b"x: 2\n")], force=True)
    assert (out / "dotcloud.yml").read_text() == "x: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]
    assert [p.name for p in out.rglob("*dotkit-tmp*")] == []
