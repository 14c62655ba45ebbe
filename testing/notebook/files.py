"""Files as a reader wants to see them: a folder tree, a numbered listing, a diff."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


def tree(root: Path, *, new: Iterable[str] = (), skip: Iterable[str] = ()) -> str:
    """``root`` drawn as the porting guide draws an app; files in ``new`` are marked."""
    marked, skipped = set(new), {".git", "node_modules", ".dotcloud", *skip}

    def walk(folder: Path, prefix: str) -> list[str]:
        entries = sorted(
            (p for p in folder.iterdir() if p.name not in skipped),
            key=lambda p: p.name.lstrip(".").lower(),
        )
        lines = []
        for index, entry in enumerate(entries):
            last = index == len(entries) - 1
            rel = entry.relative_to(root).as_posix()
            mark = "   <- new" if rel in marked else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{entry.name}{mark}")
            if entry.is_dir() and not entry.is_symlink():
                lines += walk(entry, prefix + ("    " if last else "│   "))
        return lines

    return "\n".join([f"{root.name}/", *walk(root, "")])


def listing(path: Path, *, first: int = 1, last: int | None = None) -> str:
    """A text file with line numbers; a tab shows as ``→   `` so it can be seen."""
    lines = path.read_text(encoding="utf-8").splitlines()
    end = len(lines) if last is None else last
    return "\n".join(
        f"{n:>3} | {line.replace(chr(9), '→   ')}".rstrip()
        for n, line in enumerate(lines, start=1)
        if first <= n <= end
    )


def diff(before: str, after: str, name: str, *, context: int = 1) -> str:
    """A unified diff of two versions of the file ``name``, as ``git diff`` shows it."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
            n=context,
        )
    ).rstrip("\n")


def edit(path: Path, old: str, new: str, *, root: Path | None = None) -> str:
    """Replace the one occurrence of ``old`` in ``path`` with ``new``; return the diff."""
    before = path.read_text(encoding="utf-8")
    if before.count(old) != 1:
        raise ValueError(f"{path.name}: expected {old!r} exactly once")
    after = before.replace(old, new)
    path.write_text(after, encoding="utf-8")
    name = path.relative_to(root).as_posix() if root else path.name
    return diff(before, after, name)
