"""The one writer: putting a converted app on disk without destroying anything.

A new output folder is built whole beside its destination and renamed into
place, so a failure leaves nothing half-written. An existing one (``--force``)
is updated file by file, never replaced: every file the last conversion wrote
and nobody changed since is updated, or removed when it is no longer produced;
every other file (a ``.git`` the user made there, ``.dotcloud/`` from ``dotkit
create``, their own files) is kept. A file the conversion would write over,
that the user edited since (or made, at a path the conversion now writes), is a
conflict: nothing is written and the files are named, unless
``overwrite_edited`` says to replace them. The manifest
(:mod:`kit.appfs.manifest`) is how the two are told apart.

Updating stages every new content beside its target first, then renames all of
them; the manifest is written last. Nothing is ever written through a symbolic
link in the output.
"""

import os
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.appfs.manifest import (
    MANIFEST,
    digest_bytes,
    link_digest,
    read_manifest,
    render_manifest,
    state_of,
)
from kit.errors import OperationFailed, UsageError
from kit.files import OutFile
from kit.platform.facts import BUILD_FILE

_KINDS = ("added", "updated", "replaced")
SHOWN = 8  # paths named in a message before "and N more"
# Never walked for the list of kept files: the user's repository, installed modules.
_NOT_WALKED = frozenset({".git", "node_modules"})
_RECORD_DIR = MANIFEST.split("/")[0]


class WriteOutcome(NamedTuple):
    """What a write did to the output folder, path by path."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # written last time, no longer produced, unedited
    left: tuple[str, ...] = ()  # written last time, no longer produced, edited since: left alone
    replaced: tuple[str, ...] = ()  # edited since, overwritten as asked
    kept: tuple[str, ...] = ()  # never written by a conversion: the user's


class _Desired(NamedTuple):
    content: bytes | None  # None: a symbolic link
    link: str | None
    mode: int
    digest: str


def listing(paths: Sequence[str], limit: int = SHOWN) -> str:
    shown = ", ".join(paths[:limit])
    more = len(paths) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def check_destination(src: Path, out: Path, *, force: bool) -> None:
    """Refuse destinations that would lose the user's work."""
    src_r, out_r = src.resolve(), out.resolve()
    if out_r == src_r or src_r.is_relative_to(out_r):
        raise UsageError(
            f"the output folder {out} would contain or replace the source app {src}; "
            "choose another folder with -o"
        )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"{out} exists and is not a folder; choose another -o")
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise UsageError(
            f"{out} already exists; add --force to update it (your own files there are "
            "kept), or choose another -o"
        )
    if not (out / MANIFEST).is_file() and not (out / BUILD_FILE).exists():
        raise UsageError(
            f"{out} is not empty and holds no earlier conversion (no {MANIFEST}, no "
            f"{BUILD_FILE}); refusing to write into it even with --force"
        )


def _desired(src: Path, copy: Iterable[str], generated: Sequence[OutFile]) -> dict[str, _Desired]:
    out: dict[str, _Desired] = {}
    for rel in copy:
        path = src / rel
        if path.is_symlink():
            target = str(path.readlink())
            out[rel] = _Desired(None, target, 0o777, link_digest(target))
            continue
        try:
            data = path.read_bytes()
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError as exc:
            raise OperationFailed(f"could not read {path}: {exc.strerror or exc}") from None
        out[rel] = _Desired(data, None, mode, digest_bytes(data))
    for item in generated:
        out[item.path] = _Desired(item.content, None, item.mode, digest_bytes(item.content))
    return out


def _put(target: Path, wanted: _Desired) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if wanted.link is not None:
        target.symlink_to(wanted.link)
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(target, flags, wanted.mode & 0o777 or 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(wanted.content or b"")
    os.chmod(target, wanted.mode & 0o7777)


def _write_fresh(out: Path, files: dict[str, _Desired], manifest: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkdir fails if the name exists, so two runs can never share a staging folder.
    staging = out.parent / f".{out.name}.{os.getpid()}.{time.monotonic_ns()}.dotkit-tmp"
    staging.mkdir(mode=0o700)
    try:
        for rel, wanted in files.items():
            _put(staging / rel, wanted)
        _put(staging / MANIFEST, _Desired(manifest, None, 0o644, ""))
        staging.chmod(0o755)
        if out.exists():
            out.rmdir()  # empty: checked before
        staging.rename(out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OperationFailed(f"could not write {out}: {exc}") from None


def _through_link(out: Path, rel: str) -> bool:
    """Whether a folder on the way to ``rel`` in ``out`` is a link or not a folder."""
    current = out
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            info = current.lstat()
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            return True
    return False


class _Plan(NamedTuple):
    write: dict[str, str]  # path -> "added" / "updated" / "replaced"
    unchanged: list[str]
    remove: list[str]
    left: list[str]
    conflicts: list[str]  # edited since, or the user's: replaced only when asked
    blocked: list[str]  # behind a link, or a folder where a file goes: never written


def _plan(out: Path, files: dict[str, _Desired], before: dict[str, str]) -> _Plan:
    plan = _Plan({}, [], [], [], [], [])
    for rel, wanted in sorted(files.items()):
        current = state_of(out / rel)
        if _through_link(out, rel) or current.kind == "other":
            plan.blocked.append(rel)
        elif current.kind == "missing":
            plan.write[rel] = "added"
        elif current.digest == wanted.digest:
            plan.unchanged.append(rel)
        elif before.get(rel) == current.digest:
            plan.write[rel] = "updated"
        else:
            plan.conflicts.append(rel)
    for rel, recorded in sorted(before.items()):
        if rel in files or _through_link(out, rel):
            continue
        current = state_of(out / rel)
        if current.kind == "missing":
            continue
        (plan.remove if current.digest == recorded else plan.left).append(rel)
    return plan


def _kept(out: Path, ours: set[str]) -> list[str]:
    """The entries of ``out`` no conversion wrote: whole folders named once."""
    kept: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(out / rel_dir if rel_dir else out), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if rel in ours or rel in (MANIFEST, _RECORD_DIR):
                continue
            if entry.is_dir(follow_symlinks=False):
                inside = any(p.startswith(rel + "/") for p in ours)
                if entry.name in _NOT_WALKED or not inside:
                    kept.append(rel + "/")
                else:
                    stack.append(rel)
            else:
                kept.append(rel)
    return sorted(kept)


def _apply(out: Path, files: dict[str, _Desired], plan: _Plan, manifest: bytes) -> None:
    staged: list[tuple[Path, Path]] = []
    tag = f".{os.getpid()}.{time.monotonic_ns()}.dotkit-tmp"
    try:
        for rel in plan.write:
            target = out / rel
            temp = target.with_name(target.name + tag)
            _put(temp, files[rel])
            staged.append((temp, target))
        manifest_path = out / MANIFEST
        temp = manifest_path.with_name(manifest_path.name + tag)
        _put(temp, _Desired(manifest, None, 0o644, ""))
    except OSError as exc:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise OperationFailed(f"could not write {out}: {exc}") from None
    try:
        for temp_path, target in staged:
            temp_path.replace(target)
        for rel in plan.remove:
            (out / rel).unlink(missing_ok=True)
        temp.replace(manifest_path)
    except OSError as exc:
        raise OperationFailed(f"could not finish writing {out}: {exc}") from None


def write_tree(
    src: Path,
    out: Path,
    copy: Iterable[str],
    generated: Sequence[OutFile],
    *,
    force: bool,
    overwrite_edited: bool = False,
) -> WriteOutcome:
    """Copy ``copy`` from ``src`` and add ``generated`` at ``out``; see the module's
    docstring for what happens to an existing ``out``."""
    check_destination(src, out, force=force)
    files = _desired(src, copy, generated)
    digests = {rel: wanted.digest for rel, wanted in files.items()}
    manifest = render_manifest(digests, src.resolve().name)
    if not out.exists() or not any(out.iterdir()):
        _write_fresh(out, files, manifest)
        return WriteOutcome(added=tuple(sorted(files)))
    before = read_manifest(out)
    plan = _plan(out, files, before)
    if plan.blocked:
        raise UsageError(
            f"{out} has links, folders or special files where the conversion writes: "
            f"{listing(plan.blocked)}; nothing was written"
        )
    if plan.conflicts and not overwrite_edited:
        raise UsageError(
            f"{out} has files the conversion would overwrite that were changed since it "
            f"wrote them (or that it did not write): {listing(plan.conflicts)}; nothing was "
            "written. Make those changes in the source app (or move the files aside) and "
            "convert again, or add --overwrite-edited to replace them"
        )
    write = dict(plan.write)
    write.update(dict.fromkeys(plan.conflicts, "replaced"))
    plan = plan._replace(write=write)
    _apply(out, files, plan, manifest)
    how = {kind: tuple(r for r, k in write.items() if k == kind) for kind in _KINDS}
    return WriteOutcome(
        added=how["added"],
        updated=how["updated"],
        unchanged=tuple(plan.unchanged),
        removed=tuple(plan.remove),
        left=tuple(plan.left),
        replaced=how["replaced"],
        kept=tuple(_kept(out, set(files) | set(before))),
    )
