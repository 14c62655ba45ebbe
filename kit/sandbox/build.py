"""The builder: one build container per code service, with a snapshot cache.

Like the platform, each build starts from the snapshot the previous build left
(unless ``--clean``), lays the new code over it, runs ``prebuild``, ``npm
install`` when there is a package.json, and ``postbuild``, then snapshots the
result. The build container shares the host's network (npm needs the
registry) but not its PID namespace, and sees only its own home.
"""

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed
from kit.platform.facts import BUILD_TIMEOUT_S
from kit.platform.model import Service
from kit.proc import CommandFailed, output_tail
from kit.sandbox.backend import HOME, ContainerSpec, bwrap_argv, host_env, process_env
from kit.sandbox.isolation.rootfs import scrub_reserved
from kit.sandbox.seams import HOST, Runner

BUILD_TIMEOUT = BUILD_TIMEOUT_S


class BuildFailed(OperationFailed):
    """A hook or npm install failed, or the build ran out of time."""


class BuildResult(NamedTuple):
    snapshot: Path
    seconds: float
    restored: bool


Log = Callable[[str], None]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def cache_key(
    service: Service, code: Path, node_version: str, hooks: dict[str, str]
) -> dict[str, str | None]:
    approot = code / service.approot
    manifests = [approot / n for n in ("package.json", "package-lock.json", "npm-shrinkwrap.json")]
    digests = [d for d in map(_digest, manifests) if d]
    return {
        "package_json": hashlib.sha256("".join(digests).encode()).hexdigest()[:12]
        if digests
        else None,
        "node_version": node_version,
        "prebuild": hooks.get("prebuild"),
        "postbuild": hooks.get("postbuild"),
    }


def cache_decision(
    previous: dict[str, str | None] | None,
    key: dict[str, str | None],
    *,
    clean: bool,
    has_snapshot: bool,
) -> tuple[bool, str]:
    """Whether to restore the last snapshot, and why, in words for the log."""
    if clean:
        return False, "clean build requested (--clean): starting from an empty build container"
    if not has_snapshot or previous is None:
        return False, "no previous build to start from (clean build)"
    if previous.get("node_version") != key["node_version"]:
        return False, (
            f"node_version changed ({previous.get('node_version')} -> {key['node_version']}): "
            "starting from an empty build container"
        )
    changes = []
    if previous.get("package_json") != key["package_json"]:
        changes.append(
            f"package.json changed ({previous.get('package_json') or 'none'} -> "
            f"{key['package_json'] or 'none'}), npm install will update node_modules"
        )
    for hook in ("prebuild", "postbuild"):
        if previous.get(hook) != key[hook]:
            changes.append(f"the {hook} hook changed")
    if changes:
        return True, "restoring the previous build snapshot; " + "; ".join(changes)
    return True, (
        f"restoring the previous build snapshot: package.json unchanged "
        f"(sha256 {key['package_json'] or 'none'}), node_version {key['node_version']}, "
        "hooks unchanged"
    )


def _replace_code(work: Path, revision: Path, approot: str) -> None:
    """Lay new code over a restored snapshot, keeping what npm installed."""
    code = work / "code"
    modules = code / approot / "node_modules"
    kept = work / ".node_modules.kept"
    if modules.is_dir():
        modules.rename(kept)
    if code.exists():
        shutil.rmtree(code)
    shutil.copytree(revision, code, symlinks=True)
    if kept.is_dir():
        target = code / approot / "node_modules"
        if target.exists():
            shutil.rmtree(target)
        kept.rename(target)


def _set_current(home: Path, approot: str) -> None:
    current = home / "current"
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to("code" if approot == "." else f"code/{approot}")


def build_service(
    *,
    service: Service,
    build_dir: Path,
    revision: Path,
    node_version: str,
    hooks: dict[str, str],
    clean: bool,
    backend: str,
    hidden: list[str],
    log: Log,
    timeout: float = BUILD_TIMEOUT,
    runner: Runner = HOST,
) -> BuildResult:
    started = time.monotonic()
    deadline = started + timeout
    snapshot, work = build_dir / "snapshot", build_dir / "work"
    key_file = build_dir / "key.json"
    if work.exists():
        shutil.rmtree(work)
    key = cache_key(service, revision, node_version, hooks)
    previous = json.loads(key_file.read_text()) if key_file.is_file() else None
    restore, why = cache_decision(previous, key, clean=clean, has_snapshot=snapshot.is_dir())
    log(f"Build cache: {why}")
    same_manifest = previous is not None and previous.get("package_json") == key["package_json"]
    has_manifest = (revision / service.approot / "package.json").is_file()
    steps: list[tuple[str, str]] = []
    if hooks.get("prebuild"):
        steps.append(("prebuild", hooks["prebuild"]))
    if has_manifest and not (restore and same_manifest):
        steps.append(("npm install", "npm install --no-audit --no-fund"))
    elif has_manifest:
        log("npm install skipped: package.json unchanged, node_modules come from the snapshot")
    if hooks.get("postbuild"):
        steps.append(("postbuild", hooks["postbuild"]))
    try:
        if restore and not steps:
            # Nothing will run that could fail half-way, so the snapshot itself is
            # reused (renamed, not copied) and only the code in it is replaced.
            snapshot.rename(work)
        elif restore:
            runner.run(
                ["cp", "-a", str(snapshot), str(work)],
                timeout=max(1.0, deadline - time.monotonic()),
            )
        else:
            work.mkdir(parents=True)
        _replace_code(work, revision, service.approot)
        _set_current(work, service.approot)
        for name, command in steps:
            _run_step(name, command, work, backend, hidden, log, deadline, timeout, runner)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = build_dir / "snapshot.old"
    if old.exists():
        shutil.rmtree(old)
    if snapshot.exists():
        snapshot.rename(old)
    work.rename(snapshot)
    shutil.rmtree(old, ignore_errors=True)
    key_file.write_text(json.dumps(key))
    return BuildResult(snapshot, time.monotonic() - started, restore)


def _run_step(
    name: str,
    command: str,
    work: Path,
    backend: str,
    hidden: list[str],
    log: Log,
    deadline: float,
    limit: float,
    runner: Runner,
) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise BuildFailed(f"the build ran past its time limit ({limit:g} s) before {name}")
    log(f"Running {name}: {command}")
    spec = ContainerSpec(
        cid="build", app="", service="", instance=0, home=str(work), sockets=str(work / ".dotkit"),
        services=str(work / ".dotkit"), env={}, http=False, tcp_ports={}, peers=[],
        hidden=hidden, backend=backend,
    )  # fmt: skip
    (work / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
    inner = ["/bin/sh", "-lc", f"cd {HOME}/current && {command}"]
    npm = {"npm_config_update_notifier": "false", "npm_config_loglevel": "warn"}
    if backend == "bwrap":
        argv = bwrap_argv(spec, inner, netns=False, env=npm)
        env = host_env()  # the build's environment is set inside the container
    else:
        argv = ["/bin/sh", "-lc", f"cd {work}/current && {command}"]
        env = process_env(spec, {"HOME": str(work), **npm})
    try:
        runner.stream(argv, on_line=lambda line: log(f"  {line}"), env=env, timeout=left)
        scrub_reserved(work)  # what the platform writes later must not be a hook's link
    except CommandFailed as exc:
        if exc.returncode is None:
            raise BuildFailed(
                f"{name} (`{command}`) ran past the build's time limit of {limit:g} s "
                "and was stopped"
            ) from None
        tail = output_tail(exc.stdout, exc.stderr)
        raise BuildFailed(
            f"{name} (`{command}`) failed with exit code {exc.returncode}"
            + (f":\n{tail}" if tail else "")
        ) from None
