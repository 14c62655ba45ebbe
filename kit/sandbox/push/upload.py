"""Step 1: the code arrives. An upload as the platform's CLI made it, or a stored revision.

rsync mode sends the folder as the 0.9.8 CLI's ``rsync`` did: everything but
``.git``, ``.hg`` and ``*.pyc`` at any depth and the patterns of the root's
``.dotcloudignore`` (:data:`kit.platform.facts.RSYNC_EXCLUDES`). It never read
``.gitignore``, and ``node_modules`` went like any folder. git mode sends the
last commit. Links that point outside the tree are left out, as
``rsync --safe-links`` did.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from kit.appfs import list_app_files
from kit.git import run_git
from kit.platform.facts import BUILD_FILE, RSYNC_EXCLUDE_FROM, RSYNC_EXCLUDES
from kit.sandbox.layout import AppLayout
from kit.sandbox.push.context import Context, PushFailed, Request
from kit.sandbox.seams import Clock, Runner


class Uploaded(NamedTuple):
    revision: str
    root: Path
    files: tuple[str, ...]


def receive(ctx: Context, request: Request) -> Uploaded:
    """The revision to deploy, logged as the platform did."""
    if request.revision is not None:
        root = ctx.app.revision(request.revision)
        if not root.is_dir():
            raise PushFailed(
                f"there is no revision {request.revision}; dotkit revisions lists them"
            )
        ctx.journal.update(revision=request.revision)
        ctx.log(f"Deploying the stored revision {request.revision}")
        return Uploaded(request.revision, root, tuple(list_app_files(root, ignore_files=())))
    source = request.source
    assert source is not None, "a push has a source or a revision"
    if not (source / BUILD_FILE).is_file():
        raise PushFailed(f"no {BUILD_FILE} in {source}; push from the app's root folder")
    rev, dest = upload(
        source, ctx.app, git=request.git, runner=ctx.seams.runner, clock=ctx.seams.clock
    )
    dropped = drop_unsafe_links(dest)
    files = tuple(list_app_files(dest, ignore_files=()))  # the app's own (no node_modules)
    ctx.journal.update(revision=rev)
    ctx.log(f'Pushed {len(rsync_files(dest))} files from "{source}" as revision {rev}')
    if dropped:
        ctx.log(
            f"Left out {len(dropped)} link(s) pointing outside the app, as the "
            f"platform's uploader did: {', '.join(dropped[:5])}"
        )
    return Uploaded(rev, dest, files)


def upload(
    source: Path, app: AppLayout, *, git: bool, runner: Runner, clock: Clock
) -> tuple[str, Path]:
    """Copy the app as the platform's uploader would; the revision's name and folder."""
    if git:
        return _git_upload(source, app)
    rev = f"rsync-{int(clock.time() * 1000)}"
    dest = app.revision(rev)
    dest.mkdir(parents=True)
    for rel in rsync_files(source):
        src, target = source / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        else:
            shutil.copy2(src, target)
    return rev, dest


def _git_upload(source: Path, app: AppLayout) -> tuple[str, Path]:
    """The last commit's files, written by git itself (which writes no file through a
    link and no path outside the folder), with everything in the repository that could
    run a program turned off (:func:`kit.git.run_git`)."""
    head = run_git(source, "rev-parse", "--short=7", "HEAD").stdout.strip()
    if not re.fullmatch(r"[0-9a-f]{7,40}", head):
        raise PushFailed(f"{source} has no commit to push (git rev-parse HEAD: {head[:80]!r})")
    rev = f"git-{head}"
    dest = app.revision(rev)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # A private index: the repository's own is never touched.
    env = {**os.environ, "GIT_INDEX_FILE": str(app.revisions / f".{rev}.index")}
    try:
        for args in (("read-tree", "HEAD"), ("checkout-index", "--all", f"--prefix={dest}/")):
            done = run_git(source, *args, env=env)
            if done.returncode != 0:
                raise PushFailed(f"git {args[0]} failed in {source}: {done.stderr.strip()[-500:]}")
    finally:
        Path(env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
    return rev, dest


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in RSYNC_EXCLUDES)


def _ignore_spec(root: Path) -> Any:
    """The root's .dotcloudignore (gitignore syntax, close to rsync's), or None."""
    path = root / RSYNC_EXCLUDE_FROM
    if path.is_symlink() or not path.is_file():
        return None
    import pathspec

    from kit.safeio import read_text

    lines = read_text(path).splitlines()
    return pathspec.GitIgnoreSpec.from_lines(
        line for line in lines if not line.lstrip().startswith(";")
    )


def rsync_files(root: Path) -> list[str]:
    """The files (and links, never followed) the CLI's rsync sent from ``root``, sorted."""
    spec = _ignore_spec(root)
    found: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(root / rel_dir if rel_dir else root) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                is_dir = entry.is_dir(follow_symlinks=False)
                if _excluded(entry.name):
                    continue
                if spec is not None and spec.match_file(rel + "/" if is_dir else rel):
                    continue
                if is_dir:
                    stack.append(rel)
                elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    found.append(rel)  # devices, sockets and FIFOs stay behind, as with rsync
    return sorted(found)


def drop_unsafe_links(root: Path) -> list[str]:
    """Remove links that are absolute or climb out of the tree; the names removed."""
    dropped = []
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            continue
        target = path.readlink()
        inside = (path.parent / target).resolve().is_relative_to(root.resolve())
        if target.is_absolute() or not inside:
            path.unlink()
            dropped.append(path.relative_to(root).as_posix())
    return dropped
