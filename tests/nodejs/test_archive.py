"""A downloaded Node.js build: refused unless it hashes right, and unpacked only when every member is safe."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from kit.nodejs.archive import (
    BadArchive,
    Integrity,
    Member,
    member_problems,
    unpack,
    unpack_release,
)


def sri(data: bytes, algorithm: str = "sha512") -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def test_integrity_accepts_the_right_bytes() -> None:
    check = Integrity(sri(b"node"))
    check.update(b"no")
    check.update(b"de")
    check.check("the download")


def test_a_tampered_download_is_refused() -> None:
    check = Integrity(sri(b"node"))
    check.update(b"nodf")
    with pytest.raises(BadArchive) as caught:
        check.check("the download of Node.js v0.8.28")
    assert str(caught.value).startswith(
        "the download of Node.js v0.8.28 does not match the registry's sha512 integrity (got sha512-"
    )
    assert str(caught.value).endswith(
        "it was changed or damaged on the way, so it was not unpacked"
    )


def test_the_strongest_algorithm_decides() -> None:
    # A right sha256 does not rescue a wrong sha512: the strongest one given is checked.
    check = Integrity(f"{sri(b'other')} {sri(b'node', 'sha256')}")
    check.update(b"node")
    with pytest.raises(BadArchive):
        check.check("x")
    either = Integrity(f"{sri(b'other')} {sri(b'node')}")  # several of one kind: any may match
    either.update(b"node")
    either.check("x")


@pytest.mark.parametrize("value", ["", "sha1-AAAA", "md5-AAAA", "sha512-!!!not base64", "banana"])
def test_no_usable_integrity_is_refused(value: str) -> None:
    with pytest.raises(BadArchive, match=r"refusing to use an unverified Node\.js build"):
        Integrity(value)


SAFE = [
    Member("node/", "dir"),
    Member("node/bin/node", "file", size=10),
    Member("node/bin/npm", "symlink", "../lib/node_modules/npm/bin/npm-cli.js"),
    Member("./node/lib/x", "file"),
    Member("node/lib/y", "hardlink", "node/lib/x"),
]


def test_a_normal_build_has_no_problems() -> None:
    assert member_problems(SAFE) == []


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (Member("/etc/passwd", "file"), "'/etc/passwd' has an absolute name"),
        (Member("node/../../x", "file"), "'node/../../x' climbs out with '..'"),
        (Member("", "file"), "'' has an empty or invalid name"),
        (Member("node/a\0b", "file"), "'node/a\\x00b' has an empty or invalid name"),
        (Member("node/l", "symlink", "/etc"), "'node/l' is a link to the absolute path '/etc'"),
        (
            Member("node/l", "symlink", "../../etc"),
            "'node/l' is a link that leads outside the folder ('../../etc')",
        ),
        (Member("l", "symlink", ".."), "'l' is a link that leads outside the folder ('..')"),
        (
            Member("node/h", "hardlink", "/etc/shadow"),
            "'node/h' is a hard link to '/etc/shadow', which is not a file before it",
        ),
        (Member("node/dev", "other"), "'node/dev' is a device, FIFO or other special file"),
    ],
)
def test_each_unsafe_member_is_named(member: Member, problem: str) -> None:
    assert member_problems([*SAFE, member]) == [problem]


def test_a_member_under_a_link_is_refused() -> None:
    # Each link stays inside on its own, but a/b/c is really ../c once a/b -> ..
    members = [Member("a/b", "symlink", "."), Member("a/b/c", "symlink", "..")]
    assert member_problems(members) == ["'a/b/c' lies under a symbolic link"]


def test_size_and_count_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from kit.nodejs import archive

    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    monkeypatch.setattr(archive, "MAX_UNPACKED", 5)
    assert member_problems(SAFE) == [
        "it has more than 3 members",
        "it unpacks to 10 bytes (at most 5)",
    ]


def _tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                info.mode = 0o755
                tar.addfile(info, io.BytesIO(entry[1]))
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "bad",
    [
        _link("node/escape", "../../../outside"),
        _link("node/abs", "/tmp"),
        _link("node/hard", "/etc/passwd", tarfile.LNKTYPE),
        _link("node/fifo", "", tarfile.FIFOTYPE),
        _link("node/dev", "", tarfile.CHRTYPE),
    ],
    ids=["symlink-out", "symlink-absolute", "hardlink-out", "fifo", "device"],
)
def test_unsafe_tarballs_write_nothing(tmp_path: Path, bad: tarfile.TarInfo) -> None:
    tgz = _tar(tmp_path / "bad.tgz", [("node/bin/node", b"#!"), bad])
    dest = tmp_path / "dest"
    with tarfile.open(tgz) as tar, pytest.raises(BadArchive) as caught:
        unpack(tar, dest, "bad.tgz")
    assert str(caught.value).startswith("bad.tgz is not safe to unpack: ")
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tgz"]


def test_the_flat_layout(tmp_path: Path) -> None:
    tgz = _tar(tmp_path / "n.tgz", [("package/bin/node", b"ELF"), ("package/package.json", b"{}")])
    folder = unpack_release(tgz, tmp_path / "work", "0.10.48")
    assert folder == tmp_path / "work" / "outer" / "package"
    assert (folder / "bin" / "node").read_bytes() == b"ELF"


def test_the_nested_layout_with_any_folder_name(tmp_path: Path) -> None:
    inner = _tar(
        tmp_path / "node-v0.8.6-linux-x64.tar.gz",
        [
            ("node-v0.8.6-linux-x86_64/bin/node", b"ELF"),
            _link("node-v0.8.6-linux-x86_64/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js"),
        ],
    )
    outer = _tar(
        tmp_path / "n.tgz",
        [("package/package.json", b"{}"), ("package/" + inner.name, inner.read_bytes())],
    )
    folder = unpack_release(outer, tmp_path / "work", "0.8.6")
    assert folder.name == "node-v0.8.6-linux-x86_64"
    assert (folder / "bin" / "node").read_bytes() == b"ELF"


def test_an_unsafe_inner_tarball_is_refused(tmp_path: Path) -> None:
    inner = _tar(tmp_path / "node-v0.8.6-linux-x64.tar.gz", [_link("n/bin/node", "/bin/sh")])
    outer = _tar(tmp_path / "n.tgz", [("package/" + inner.name, inner.read_bytes())])
    with pytest.raises(BadArchive) as caught:
        unpack_release(outer, tmp_path / "work", "0.8.6")
    assert str(caught.value) == (
        "node-v0.8.6-linux-x64.tar.gz is not safe to unpack: "
        "'n/bin/node' is a link to the absolute path '/bin/sh'"
    )


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [("other/x", b"")],
            "n.tgz (Node.js v1.0.0) has no package/ folder: it is not an npm package",
        ),
        (
            [("package/README", b"")],
            "n.tgz (Node.js v1.0.0) holds neither bin/node nor one node-v*.tar.gz build tarball",
        ),
    ],
)
def test_tarballs_that_are_not_builds(
    tmp_path: Path, entries: list[tuple[str, bytes]], message: str
) -> None:
    tgz = _tar(tmp_path / "n.tgz", entries)  # type: ignore[arg-type]
    with pytest.raises(BadArchive) as caught:
        unpack_release(tgz, tmp_path / "work", "1.0.0")
    assert str(caught.value) == message


def test_a_build_tarball_without_node(tmp_path: Path) -> None:
    inner = _tar(tmp_path / "node-v1.0.0-linux-x64.tar.gz", [("n/bin/nodejs", b"ELF")])
    outer = _tar(tmp_path / "n.tgz", [("package/" + inner.name, inner.read_bytes())])
    with pytest.raises(BadArchive) as caught:
        unpack_release(outer, tmp_path / "work", "1.0.0")
    assert str(caught.value) == "the download holds no bin/node: it is not a Node.js build"


def test_not_a_tarball(tmp_path: Path) -> None:
    junk = tmp_path / "n.tgz"
    junk.write_bytes(b"<html>proxy error</html>")
    with pytest.raises(BadArchive, match=r"^n.tgz \(Node.js v1.0.0\) is not a gzip tarball"):
        unpack_release(junk, tmp_path / "work", "1.0.0")
