"""Unpacking a customer's archive for `dotkit repro`: hostile archives refused, good ones kept.

Each refusal is checked by its exact message, and by what it leaves behind: nothing.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.repro.archive import ArchiveRefused, Limits, unpack
from kit.repro.source import find_app, read_env_file, ticket_id

YML = b"www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def zip_link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the mode in external_attr is meaningful
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def zip_mode(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def make_tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    mode = "w:gz" if path.name.endswith((".tar.gz", ".tgz")) else "w"
    with tarfile.open(path, mode) as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tf.addfile(info, io.BytesIO(data))
    return path


def tar_entry(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def refused(archive: Path, dest: Path, limits: Limits | None = None) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        unpack(archive, dest, limits or Limits())
    assert not dest.exists(), "a refused archive leaves nothing behind"
    return str(caught.value)


# --- good archives ---------------------------------------------------------------------------


def test_a_good_zip_is_unpacked_with_modes_and_inner_links(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "customer-app.zip",
        [
            ("customer-app/dotcloud.yml", YML),
            ("customer-app/www/server.js", b"require('http').createServer().listen(8080);\n"),
            (zip_mode("customer-app/www/postinstall", stat.S_IFREG | 0o755), b"#!/bin/sh\n"),
            zip_link("customer-app/www/index.js", "server.js"),
            ("customer-app/www/lib/", b""),
        ],
    )
    dest = tmp_path / "out"
    unpack(archive, dest)
    root, kind = find_app(dest, archive.name)
    assert (root, kind) == (dest / "customer-app", "dotcloud")
    assert (root / "www" / "server.js").read_bytes().startswith(b"require('http')")
    assert (root / "www" / "index.js").readlink() == Path("server.js")
    assert (root / "www" / "postinstall").stat().st_mode & 0o777 == 0o755
    assert (root / "www" / "server.js").stat().st_mode & 0o777 == 0o644
    assert (root / "www" / "lib").is_dir()


def test_a_good_tar_gz_with_a_hard_link_inside_is_unpacked(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "shop.tar.gz",
        [
            ("shop/Gear1/.torque", b'{"start": "server.js"}'),
            ("shop/Gear1/server.js", b"// the shop\n"),
            tar_entry("shop/Gear1/copy.js", tarfile.LNKTYPE, "shop/Gear1/server.js"),
            tar_entry("shop/Gear1/link.js", tarfile.SYMTYPE, "server.js"),
        ],
    )
    dest = tmp_path / "out"
    unpack(archive, dest)
    root, kind = find_app(dest, archive.name)
    assert (root, kind) == (dest / "shop", "nodesocket")
    copy = root / "Gear1" / "copy.js"
    assert copy.read_bytes() == b"// the shop\n" and not copy.is_symlink()
    assert copy.stat().st_nlink == 1  # a copy, never a real hard link
    assert (root / "Gear1" / "link.js").readlink() == Path("server.js")


# --- names leading outside ---------------------------------------------------------------------


def test_zip_entry_with_dot_dot_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "evil.zip", [("app/ok.js", b""), ("../evil.js", b"pwned")])
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack evil.zip: the entry '../evil.js' leads outside the archive's folder (..)"
    )
    assert not (tmp_path / "evil.js").exists()


def test_zip_entry_with_backslash_dot_dot_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "win.zip", [("app\\..\\..\\evil.js", b"pwned")])
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack win.zip: the entry 'app\\\\..\\\\..\\\\evil.js' leads outside the "
        "archive's folder (..)"
    )


@pytest.mark.parametrize("name", ["/etc/cron.d/evil", "C:\\Windows\\evil.dll"])
def test_zip_entry_with_absolute_path_is_refused(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "abs.zip", [(name, b"* * * * * root sh")])
    assert refused(archive, tmp_path / "out") == (
        f"cannot unpack abs.zip: the entry {name!r} has an absolute path"
    )


def test_tar_entries_leading_outside_are_refused(tmp_path: Path) -> None:
    dotdot = make_tar(tmp_path / "dotdot.tar.gz", [("app/../../evil.js", b"pwned")])
    assert refused(dotdot, tmp_path / "out") == (
        "cannot unpack dotdot.tar.gz: the entry 'app/../../evil.js' leads outside the "
        "archive's folder (..)"
    )
    absolute = make_tar(tmp_path / "abs.tgz", [("/tmp/evil.js", b"pwned")])
    assert refused(absolute, tmp_path / "out") == (
        "cannot unpack abs.tgz: the entry '/tmp/evil.js' has an absolute path"
    )


# --- links leading outside ----------------------------------------------------------------------


def test_zip_symlink_to_an_absolute_path_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "link.zip", [zip_link("app/passwd", "/etc/passwd")])
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack link.zip: the entry 'app/passwd' is a link to '/etc/passwd', outside "
        "the archive's folder"
    )


def test_tar_symlink_climbing_out_is_refused(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "link.tar.gz", [tar_entry("app/up", tarfile.SYMTYPE, "../../home")]
    )
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack link.tar.gz: the entry 'app/up' is a link to '../../home', outside "
        "the archive's folder"
    )


def test_tar_symlink_chain_that_only_escapes_on_disk_is_refused(tmp_path: Path) -> None:
    # `here` points at the folder itself, so `here/..` is its parent on disk, while the
    # name alone reads as `.`: only resolving the created links catches it.
    archive = make_tar(
        tmp_path / "chain.tar",
        [
            tar_entry("here", tarfile.SYMTYPE, "."),
            tar_entry("secret", tarfile.SYMTYPE, "here/../outside.txt"),
        ],
    )
    (tmp_path / "outside.txt").write_text("not yours")
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack chain.tar: the entry 'secret' is a link that resolves outside the "
        "archive's folder (through another link)"
    )


def test_a_file_inside_a_link_is_refused(tmp_path: Path) -> None:
    # Whichever comes first, a name cannot be both a link and a folder holding files.
    link_first = make_tar(
        tmp_path / "through.tar",
        [tar_entry("app/dir", tarfile.SYMTYPE, "/etc"), ("app/dir/cron.js", b"x")],
    )
    assert refused(link_first, tmp_path / "out") == (
        "cannot unpack through.tar: the entry 'app/dir' is a link to '/etc', outside the "
        "archive's folder"
    )
    inner = make_tar(
        tmp_path / "inner.tar",
        [tar_entry("app/dir", tarfile.SYMTYPE, "real"), ("app/dir/file.js", b"x")],
    )
    assert refused(inner, tmp_path / "out") == (
        "cannot unpack inner.tar: the entry 'app/dir/file.js' is inside 'app/dir', which is "
        "a link, not a folder"
    )
    file_first = make_tar(
        tmp_path / "after.tar",
        [("app/dir/file.js", b"x"), tar_entry("app/dir", tarfile.SYMTYPE, "real")],
    )
    assert refused(file_first, tmp_path / "out") == (
        "cannot unpack after.tar: the entry 'app/dir' appears twice"
    )


def test_tar_hard_links_outside_or_to_nothing_are_refused(tmp_path: Path) -> None:
    outside = make_tar(
        tmp_path / "hard.tar.gz", [tar_entry("app/passwd", tarfile.LNKTYPE, "../../etc/passwd")]
    )
    assert refused(outside, tmp_path / "out") == (
        "cannot unpack hard.tar.gz: the entry 'app/passwd' is a hard link to "
        "'../../etc/passwd', outside the archive's folder"
    )
    absolute = make_tar(
        tmp_path / "abs-hard.tar", [tar_entry("app/shadow", tarfile.LNKTYPE, "/etc/shadow")]
    )
    assert refused(absolute, tmp_path / "out") == (
        "cannot unpack abs-hard.tar: the entry 'app/shadow' is a hard link to '/etc/shadow', "
        "outside the archive's folder"
    )
    nothing = make_tar(
        tmp_path / "dangling.tar", [tar_entry("app/copy", tarfile.LNKTYPE, "app/missing")]
    )
    assert refused(nothing, tmp_path / "out") == (
        "cannot unpack dangling.tar: the entry 'app/copy' is a hard link to 'app/missing', "
        "which is not a file earlier in the archive"
    )


# --- kinds of entries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (tarfile.CHRTYPE, "a character device"),
        (tarfile.BLKTYPE, "a block device"),
        (tarfile.FIFOTYPE, "a named pipe (FIFO)"),
    ],
)
def test_tar_device_files_are_refused(tmp_path: Path, kind: bytes, words: str) -> None:
    archive = make_tar(tmp_path / "dev.tar.gz", [("app/ok.js", b""), tar_entry("app/null", kind)])
    assert refused(archive, tmp_path / "out") == (
        f"cannot unpack dev.tar.gz: the entry 'app/null' is {words}; only files, folders "
        "and links are unpacked"
    )


def test_zip_device_file_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "dev.zip", [(zip_mode("app/sda", stat.S_IFBLK | 0o600), b"")])
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack dev.zip: the entry 'app/sda' is a block device; only files, folders "
        "and links are unpacked"
    )


def test_an_entry_twice_is_refused(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "twice.tar", [("app/a.js", b"one"), ("app/a.js", b"two")])
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack twice.tar: the entry 'app/a.js' appears twice"
    )


# --- limits -------------------------------------------------------------------------------------


def test_too_many_files_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    members = [(f"app/f{i}.js", b"x") for i in range(11)]
    limits = Limits(max_files=10)
    as_zip = make_zip(tmp_path / "many.zip", list(members))
    expected = (
        "it holds more than 10 entries, the limit (an app's node_modules does not belong "
        "in a ticket's archive)"
    )
    assert refused(as_zip, tmp_path / "out", limits) == f"cannot unpack many.zip: {expected}"
    as_tar = make_tar(tmp_path / "many.tar.gz", list(members))
    assert refused(as_tar, tmp_path / "out", limits) == f"cannot unpack many.tar.gz: {expected}"


def test_a_zip_bomb_is_refused_from_its_headers(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", [("app/zeros.bin", b"\0" * 20_000_000)])
    info = zipfile.ZipFile(archive).infolist()[0]
    ratio = info.file_size // info.compress_size
    start = time.monotonic()
    assert refused(archive, tmp_path / "out") == (
        f"cannot unpack bomb.zip: the entry 'app/zeros.bin' would unpack from "
        f"{info.compress_size} bytes to 20000000 ({ratio}:1, a zip bomb?); the limit is 200:1"
    )
    assert time.monotonic() - start < 1.0  # judged from the headers, never inflated


def test_total_size_over_the_limit_is_refused(tmp_path: Path) -> None:
    data = os.urandom(600_000)  # does not compress: the ratio is fine, the sum is not
    archive = make_zip(tmp_path / "big.zip", [("app/a.bin", data), ("app/b.bin", data)])
    assert refused(archive, tmp_path / "out", Limits(max_bytes=1_000_000)) == (
        "cannot unpack big.zip: its files would take more than 1 MB unpacked, the limit"
    )


def test_a_tar_gz_bomb_is_refused_before_its_data_is_inflated(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "bomb.tar.gz", [("app/zeros.bin", b"\0" * 20_000_000)])
    assert archive.stat().st_size < 100_000
    assert refused(archive, tmp_path / "out", Limits(max_bytes=5_000_000)) == (
        "cannot unpack bomb.tar.gz: its files would take more than 5 MB unpacked, the limit"
    )


def test_a_zip_whose_header_lies_about_its_size_is_refused_while_unpacking(
    tmp_path: Path,
) -> None:
    archive = make_zip(tmp_path / "lying.zip", [("app/data.bin", b"\0" * 5_000_000)])
    data = bytearray(archive.read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)  # "100 bytes unpacked": passes the checks
    archive.write_bytes(bytes(data))
    assert refused(archive, tmp_path / "out") == (
        "cannot unpack lying.zip: the entry 'app/data.bin' is damaged or its header lies "
        "about it (Bad CRC-32 for file 'app/data.bin')"
    )


# --- unreadable archives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "junk.zip",
            b"not a zip",
            "it is not a zip archive that can be read (File is not a zip file)",
        ),
        ("junk.tar.gz", b"\x1f\x8bnot gzip", "it is not a tar archive that can be read"),
        ("empty.tar", b"", "it is not a tar archive that can be read"),
    ],
)
def test_unreadable_archives_are_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    archive = tmp_path / name
    archive.write_bytes(content)
    assert refused(archive, tmp_path / "out").startswith(f"cannot unpack {name}: {message}")


def test_an_empty_zip_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "empty.zip", [])
    assert refused(archive, tmp_path / "out") == "cannot unpack empty.zip: the archive is empty"


# --- what the command refuses before it starts -----------------------------------------------


def test_repro_refuses_a_hostile_archive_with_exit_2_and_changes_nothing(
    tmp_path: Path, cli
) -> None:
    archive = make_zip(tmp_path / "t77.zip", [("app/dotcloud.yml", YML), ("../evil.js", b"")])
    result = cli("repro", archive, "-o", tmp_path)
    assert (result.code, result.out) == (2, "==> Unpacking t77.zip\n")
    assert result.err == (
        "dotkit: error: cannot unpack t77.zip: the entry '../evil.js' leads outside the "
        "archive's folder (..)\n"
    )
    home = Path(os.environ["DOTKIT_HOME"])
    assert not home.exists() or list(home.iterdir()) == []  # no app, no staging folder
    assert not (tmp_path / "repro-t77.zip").exists()


def test_repro_refuses_a_folder_without_an_app(tmp_path: Path, cli) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    result = cli("repro", tmp_path / "notes")
    assert result.code == 2
    assert result.err == (
        f"dotkit: error: {tmp_path / 'notes'} holds neither a dotcloud.yml (a dotCloud app) "
        "nor a .torque at its root or in a folder right under it (a nodeSocket app); give the "
        "app's root folder\n"
    )


def test_repro_refuses_other_files(tmp_path: Path, cli) -> None:
    (tmp_path / "app.rar").write_bytes(b"Rar!")
    result = cli("repro", tmp_path / "app.rar")
    assert (result.code, result.err) == (
        2,
        f"dotkit: error: {tmp_path / 'app.rar'} is neither a folder nor an archive "
        "(.zip, .tar.gz, .tgz, .tar)\n",
    )


def test_env_file_errors_are_listed_by_line_without_their_values(tmp_path: Path) -> None:
    env = tmp_path / "env.txt"
    env.write_text(
        "# the customer's dotcloud env\nAPI_TOKEN=hunter2-canary\n\nnot a pair hunter3\n"
        "DOTCLOUD_PROJECT=x\nexport NODE_ENV='production'\n"
    )
    with pytest.raises(UsageError) as caught:
        read_env_file(env)
    assert str(caught.value) == (
        "the env file has errors (values are not shown):\n"
        f"  {env}:4: expected KEY=VALUE with a variable name as KEY\n"
        f"  {env}:5: DOTCLOUD_PROJECT: names starting with DOTCLOUD_ are the platform's"
    )
    env.write_text("API_TOKEN=hunter2-canary\nexport NODE_ENV='production'\n")
    assert read_env_file(env) == {"API_TOKEN": "hunter2-canary", "NODE_ENV": "production"}


@pytest.mark.parametrize(
    ("given", "source", "ticket"),
    [
        ("ZD-4242", "x", "zd-4242"),
        (None, "Customer App (v2).tar.gz", "customer-app-v2"),
        (None, "shop.zip", "shop"),
        ("4242-" + "a" * 40, "x", "4242-" + "a" * 18),
    ],
)
def test_ticket_ids_follow_the_app_name_rule(given: str | None, source: str, ticket: str) -> None:
    assert ticket_id(given, Path(source)) == ticket
    assert len("ticket-" + ticket) <= 30


def test_a_ticket_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        ticket_id("!!!", Path("x"))
    assert str(caught.value) == (
        "--ticket '!!!' has no letters or digits to name the reproduction after; give one "
        "with --ticket ID"
    )
