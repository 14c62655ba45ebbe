"""Memory, process and CPU limits per container, with Linux control groups.

Each container gets a group of its own, nested under the group the platform
process itself runs in (so the sandbox stays inside whatever limits its owner
has) and named ``dotkit-<sandbox>/<app>/<container>``. Version 1 hierarchies
(one mount per controller: ``memory``, ``pids``, ``cpu``) are what these
machines have; a unified version 2 hierarchy with those controllers enabled
works too. Where neither is writable, limits are not enforced and
:func:`mechanism` says so, for ``dotkit doctor``.

The memory limit counts everything the container's processes use (page cache
included, which the kernel reclaims first); past it the kernel's OOM killer
kills a process *of that group* and bumps a counter, which :meth:`Group.usage`
reads so the platform can say "killed: out of memory (limit 512M)".
"""

import contextlib
import errno
import hashlib
import os
import re
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from kit.sandbox.isolation.limits import Limits, format_size

CONTROLLERS = ("memory", "pids", "cpu")
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CgroupError(OSError):
    """A control group could not be made, limited, joined or removed."""


def part(name: str) -> str:
    """``name`` as one safe path component (hostile names become a digest)."""
    if _SAFE.fullmatch(name) and name not in (".", ".."):
        return name
    return "x-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def relative(sandbox: str, app: str, cid: str) -> Path:
    """Where a container's group sits below the platform's own group."""
    digest = hashlib.sha256(sandbox.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return Path(f"dotkit-{digest}") / part(app or "-") / part(cid)


class Hierarchy(NamedTuple):
    """Where each controller is mounted, and this process's group in it."""

    version: int  # 1 or 2; 0 when none is usable
    roots: dict[str, Path]  # controller -> the directory of the platform's own group

    def describe(self) -> str:
        if self.version == 1:
            names = ", ".join(sorted(self.roots))
            return f"cgroups v1 ({names}) under {_common(self.roots.values())}"
        if self.version == 2:
            return f"cgroups v2 under {next(iter(self.roots.values()))}"
        return (
            "none: no writable cgroup hierarchy here, "
            "so memory, process and CPU limits are not enforced"
        )


def _common(paths: Iterable[Path]) -> str:
    return os.path.commonpath([str(p) for p in paths])


def _mounts(mountinfo: str) -> tuple[dict[str, Path], Path | None]:
    v1: dict[str, Path] = {}
    v2: Path | None = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3:
            continue
        point = Path(fields[4].replace("\\040", " "))
        if tail[0] == "cgroup2":
            v2 = v2 or point
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                if option in CONTROLLERS:
                    v1.setdefault(option, point)
    return v1, v2


def _own(proc_cgroup: str) -> dict[str, str]:
    """Controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    own: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            own[controller] = parts[2]
    return own


def discover(proc: Path = Path("/proc")) -> Hierarchy:
    """The hierarchy to use here: v1 controllers where mounted and writable, else v2."""
    try:
        v1, v2 = _mounts((proc / "self" / "mountinfo").read_text())
        own = _own((proc / "self" / "cgroup").read_text())
    except OSError:
        return Hierarchy(0, {})
    roots = {
        c: v1[c] / own[c].lstrip("/")
        for c in CONTROLLERS
        if c in v1 and c in own and os.access(v1[c] / own[c].lstrip("/"), os.W_OK)
    }
    if "memory" in roots and "pids" in roots:
        return Hierarchy(1, roots)
    if v2 is not None and "" in own:
        base = v2 / own[""].lstrip("/")
        try:
            enabled = (base / "cgroup.controllers").read_text().split()
        except OSError:
            enabled = []
        if {"memory", "pids"} <= set(enabled) and os.access(base, os.W_OK):
            return Hierarchy(2, {"unified": base})
    return Hierarchy(0, {})


class Usage(NamedTuple):
    oom_kills: int  # processes the kernel killed for want of memory
    memory_failures: int  # times the limit was hit (reclaim or kill)
    forks_refused: int  # forks refused by the process limit


class Group:
    """One container's group in every controller of ``hierarchy``."""

    def __init__(self, hierarchy: Hierarchy, rel: Path) -> None:
        self.hierarchy = hierarchy
        self.rel = rel
        self.dirs = {c: root / rel for c, root in hierarchy.roots.items()}

    @property
    def enabled(self) -> bool:
        return bool(self.dirs)

    def create(self, limits: Limits) -> None:
        for controller, path in self.dirs.items():
            try:
                path.mkdir(parents=True, exist_ok=True)
                if self.hierarchy.version == 2:
                    _enable_v2(self.hierarchy.roots[controller], self.rel)
            except OSError as exc:
                raise CgroupError(
                    exc.errno, f"cannot create the control group {path}: {exc.strerror}"
                ) from None
            for name, value in _settings(self.hierarchy.version, controller, limits):
                _write(path / name, value, optional=name.startswith("memory.memsw"))

    def attach(self, pid: int) -> None:
        for path in self.dirs.values():
            _write(path / "cgroup.procs", str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
        return found

    def usage(self) -> Usage:
        if self.hierarchy.version == 2:
            events = _keyed(self.dirs.get("unified"), "memory.events")
            pids = _keyed(self.dirs.get("unified"), "pids.events")
            return Usage(events.get("oom_kill", 0), events.get("max", 0), pids.get("max", 0))
        oom = _keyed(self.dirs.get("memory"), "memory.oom_control")
        return Usage(
            oom.get("oom_kill", 0),
            _number(self.dirs.get("memory"), "memory.failcnt"),
            _keyed(self.dirs.get("pids"), "pids.events").get("max", 0),
        )

    def sweep(self, marker: str, older_than: float = 60.0) -> int:
        """Remove empty groups beside this one whose names hold ``marker``; how many went.

        A launcher killed outright cannot remove its build's or hook's group;
        the next one does. Young groups are left: another launcher may be about
        to join one. A group that still has processes refuses to go (EBUSY).
        """
        removed = 0
        now = time.time()
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                for sibling in path.parent.iterdir():
                    if marker not in sibling.name or sibling == path or not sibling.is_dir():
                        continue
                    with contextlib.suppress(OSError):
                        if now - sibling.stat().st_mtime > older_than:
                            sibling.rmdir()
                            removed += 1
        return removed

    def remove(self, timeout: float = 5.0) -> None:
        """Kill whatever is left in the group, then remove its directories."""
        deadline = time.monotonic() + timeout
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for controller, path in self.dirs.items():
            root = self.hierarchy.roots[controller]
            for level in (path, path.parent, path.parent.parent):  # container, app, sandbox
                if level == root:
                    break
                try:
                    level.rmdir()
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    if exc.errno in (errno.EBUSY, errno.ENOTEMPTY) and level != path:
                        break  # another container of the app, or another app, still there
                    raise CgroupError(exc.errno, f"cannot remove {level}: {exc}") from None


def _settings(version: int, controller: str, limits: Limits) -> list[tuple[str, str]]:
    if version == 2:
        out = [("memory.max", str(limits.memory)), ("memory.swap.max", "0")]
        out += [("pids.max", str(limits.pids))]
        if limits.cpu_shares:
            out.append(("cpu.weight", str(max(1, min(10000, limits.cpu_shares * 100 // 1024)))))
        return out
    if controller == "memory":
        value = str(limits.memory)
        # Without swap the limit is the limit; memsw exists only with swap accounting.
        return [("memory.limit_in_bytes", value), ("memory.memsw.limit_in_bytes", value)]
    if controller == "pids":
        return [("pids.max", str(limits.pids))]
    if controller == "cpu" and limits.cpu_shares:
        return [("cpu.shares", str(limits.cpu_shares))]
    return []


def _enable_v2(root: Path, rel: Path) -> None:
    """Let each level below ``root`` hand the controllers down to its children."""
    level = root
    for name in rel.parts:
        for controller in ("+memory", "+pids", "+cpu"):
            with contextlib.suppress(OSError):
                (level / "cgroup.subtree_control").write_text(controller)
        level = level / name


def _write(path: Path, value: str, *, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        if optional and exc.errno in (errno.ENOENT, errno.EINVAL, errno.EACCES):
            return
        raise CgroupError(exc.errno, f"cannot write {value} to {path}: {exc.strerror}") from None


def _keyed(directory: Path | None, name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    if directory is None:
        return out
    with contextlib.suppress(OSError):
        for line in (directory / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[key] = int(value)
    return out


def _number(directory: Path | None, name: str) -> int:
    if directory is None:
        return 0
    try:
        return int((directory / name).read_text().strip())
    except (OSError, ValueError):
        return 0


def oom_message(limits: Limits) -> str:
    return f"killed: out of memory (limit {format_size(limits.memory)})"
