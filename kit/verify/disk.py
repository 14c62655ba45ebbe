"""What the checks ask of the disk beyond the listing, asked so the answers are kept.

The build-file, supervisor and project checks look at more than the list of the
app's files: the bytes of dotcloud.yml and each supervisord.conf, whether an
ignored file exists, where an approot resolves, what a link points to. Asked
through :class:`Disk`, each question and its answer is remembered, and
:func:`still_true` asks them all again: when every answer is the same, so are
the checks' findings, and :mod:`kit.verify.fast.memo` reuses them without running the
checks (or importing the YAML, JSON Schema and supervisor libraries they use).

A file's bytes are remembered by size, mtime and inode, like the stat index of
:mod:`kit.verify.fast.jscache`, and never trusted when the file changed within
:data:`kit.appfs.RACY_WINDOW_NS` of being read.
"""

import errno
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from kit.appfs import RACY_WINDOW_NS

# (question, path relative to the root) -> the answer; answers are plain values.
Answers = dict[tuple[str, str], object]


class Disk:
    """The app's folder, answering the checks' questions and remembering each answer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.answers: Answers = {}
        self._racy = time.time_ns() - RACY_WINDOW_NS

    def _keep(self, question: str, rel: str, answer: object) -> None:
        self.answers[(question, rel)] = answer

    def _asked(self, question: str, rel: str) -> object:
        answer = _ask(question, self.root, rel)
        self._keep(question, rel, answer)
        return answer

    def is_file(self, rel: str) -> bool:
        return bool(self._asked("is_file", rel))

    def is_dir(self, rel: str) -> bool:
        return bool(self._asked("is_dir", rel))

    def exists(self, rel: str) -> bool:
        return bool(self._asked("exists", rel))

    def inside(self, rel: str) -> bool:
        """Whether ``rel``, links resolved, is the root or below it."""
        return bool(self._asked("inside", rel))

    def subfolders(self, rel: str) -> list[str]:
        """The names of the folders in ``rel``, sorted; none when it is not a folder."""
        return list(cast(tuple[str, ...], self._asked("subfolders", rel)))

    def readlink(self, rel: str) -> str | None:
        """What the link ``rel`` points to; None when it is not a link (any more)."""
        answer = self._asked("readlink", rel)
        return answer if isinstance(answer, str) else None

    def read(self, rel: str) -> bytes:
        """The bytes of ``rel``; raises OSError as reading would (the error is remembered)."""
        _, data = self.read_limited(rel, None)
        return data if data is not None else b""  # None only past a limit

    def read_limited(self, rel: str, limit: int | None) -> tuple[int, bytes | None]:
        """The size of ``rel`` and its bytes, or None for the bytes when past ``limit``.

        The app is untrusted: a FIFO is never waited on, and neither it, a device nor
        a link that leads out of the app is read (OSError, as for a missing file).
        """
        try:
            if not self.inside(rel):
                raise OSError(errno.EXDEV, "a link out of the app", rel)
            fd = os.open(self.root / rel, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            with open(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise OSError(errno.EINVAL, "not a regular file", rel)
                data = None if limit is not None and info.st_size > limit else handle.read()
        except OSError as exc:
            self._keep("read", rel, ("error", exc.errno))
            raise
        trusted = info.st_mtime_ns < self._racy
        signature = (info.st_size, info.st_mtime_ns, info.st_ino) if trusted else None
        self._keep("read", rel, signature)
        return info.st_size, data


def _ask(question: str, root: Path, rel: str) -> object:
    # Plain os calls on strings: a re-run asks a few hundred of these.
    base = os.fspath(root)
    path = f"{base}/{rel}"
    if question == "readlink":
        try:
            return os.readlink(path)  # noqa: PTH115
        except OSError:
            return None
    if question == "subfolders":
        try:
            with os.scandir(path) as entries:
                return tuple(sorted(e.name for e in entries if e.is_dir()))
        except OSError:
            return ()
    if question == "inside":
        real, top = os.path.realpath(path), os.path.realpath(base)
        return real == top or real.startswith(top.rstrip("/") + "/")
    try:
        info = os.stat(path)  # noqa: PTH116 (through links, as reading does)
    except OSError as exc:
        return ("error", exc.errno) if question == "read" else False
    if question == "read":
        return (info.st_size, info.st_mtime_ns, info.st_ino)
    if question == "is_file":
        return stat.S_ISREG(info.st_mode)
    if question == "is_dir":
        return stat.S_ISDIR(info.st_mode)
    if question == "exists":
        return True
    raise ValueError(f"no such question: {question}")


def still_true(root: Path, answers: Mapping[tuple[str, str], object]) -> bool:
    """Whether asking every question again gives the same answers."""
    for (question, rel), answer in answers.items():
        if answer is None and question == "read":
            return False  # read too soon after a change to be trusted
        if _ask(question, root, rel) != answer:
            return False
    return True
