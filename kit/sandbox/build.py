"""The builder: one build container per code service, with a snapshot cache.

Like the platform, each build starts from the snapshot the previous build left
(unless ``--clean``), lays the new code over it, runs ``prebuild``, ``npm
install`` when there is a package.json, and ``postbuild``, then snapshots the
result. The build container shares the host's network (npm needs the
registry) but not its PID namespace, and sees only its own home.

With a Node.js build (:class:`Node`), the build container shows it read-only at
``/opt/node``: hooks find it first on ``PATH``, and ``npm install`` (the
machine's npm on the machine's node, which can reach today's registry) compiles
native addons against its headers. What the installed tree means for that
version (packages whose ``engines`` exclude it, addons that did not build) is
reported in the log by package name.
"""

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed
from kit.nodejs import npm
from kit.platform.facts import BUILD_TIMEOUT_S
from kit.platform.model import Service
from kit.proc import CommandFailed, output_tail
from kit.sandbox.backend import HOME, ContainerSpec, boxed, host_env, isolated_argv, process_env
from kit.sandbox.dockerbox import DockerTarget
from kit.sandbox.isolation.rootfs import NODE_BIN, NODE_DIR, PATH, scrub_reserved
from kit.sandbox.seams import HOST, Runner

BUILD_TIMEOUT = BUILD_TIMEOUT_S


class BuildFailed(OperationFailed):
    """A hook or npm install failed, or the build ran out of time."""


class BuildResult(NamedTuple):
    snapshot: Path
    seconds: float
    restored: bool


Log = Callable[[str], None]
NPM_STEP = "npm install"


class Node(NamedTuple):
    """The Node.js build a service is built for: its version and its host folder."""

    version: str  # "0.8.28"
    folder: Path


def node_label(node: Node | None) -> str:
    """How the build cache names the Node.js a build was made for."""
    return f"v{node.version}" if node else "this machine's node"


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def cache_key(
    service: Service,
    code: Path,
    node_version: str,
    hooks: dict[str, str],
    node: str | None = None,
) -> dict[str, str | None]:
    approot = code / service.approot
    manifests = [approot / n for n in ("package.json", "package-lock.json", "npm-shrinkwrap.json")]
    digests = [d for d in map(_digest, manifests) if d]
    return {
        "package_json": hashlib.sha256("".join(digests).encode()).hexdigest()[:12]
        if digests
        else None,
        "node_version": node_version,
        "node": node,
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
    if previous.get("node") != key.get("node"):
        return False, (
            f"Node.js changed ({previous.get('node') or 'unknown'} -> {key.get('node')}): "
            "native addons must be built again, starting from an empty build container"
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
    """Lay new code over a restored snapshot, keeping what npm installed (unless the
    upload brought a node_modules of its own, which then wins, as the upload's files do)."""
    code = work / "code"
    modules = code / approot / "node_modules"
    kept = work / ".node_modules.kept"
    if kept.exists():
        shutil.rmtree(kept)
    if modules.is_dir() and not (revision / approot / "node_modules").is_dir():
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
    node: Node | None = None,
    docker: DockerTarget | None = None,
) -> BuildResult:
    started = time.monotonic()
    deadline = started + timeout
    snapshot, work = build_dir / "snapshot", build_dir / "work"
    key_file = build_dir / "key.json"
    if work.exists():
        shutil.rmtree(work)
    key = cache_key(service, revision, node_version, hooks, node_label(node))
    previous = json.loads(key_file.read_text()) if key_file.is_file() else None
    restore, why = cache_decision(previous, key, clean=clean, has_snapshot=snapshot.is_dir())
    log(f"Build cache: {why}")
    same_manifest = previous is not None and previous.get("package_json") == key["package_json"]
    has_manifest = (revision / service.approot / "package.json").is_file()
    steps: list[tuple[str, str]] = []
    if hooks.get("prebuild"):
        steps.append(("prebuild", hooks["prebuild"]))
    if (revision / service.approot / "node_modules").is_dir():
        log("node_modules came with the upload: it replaces the snapshot's")
    if has_manifest and not (restore and same_manifest):
        steps.append((NPM_STEP, " ".join(npm.INSTALL_COMMAND)))
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
        step = Step(work, backend, hidden, log, deadline, timeout, runner, node, docker)
        for name, command in steps:
            _run_step(step, name, command)
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


class Step(NamedTuple):
    """What every step of one build shares."""

    work: Path
    backend: str
    hidden: list[str]
    log: Log
    deadline: float
    limit: float
    runner: Runner
    node: Node | None
    docker: DockerTarget | None = None


def _step_command(step: Step, name: str, command: str) -> tuple[list[str], dict[str, str]]:
    """The host argv and environment that run one step in the build container."""
    isolated = boxed(step.backend)
    node_dir = str(step.node.folder) if step.node and isolated else ""
    spec = ContainerSpec(
        cid="build", app="", service="", instance=0, home=str(step.work),
        sockets=str(step.work / ".dotkit"), services=str(step.work / ".dotkit"), env={},
        http=False, tcp_ports={}, peers=[], hidden=step.hidden, backend=step.backend,
        node=node_dir, engine=step.docker.engine if step.docker else "",
        image=step.docker.image if step.docker else "",
    )  # fmt: skip
    env = {"npm_config_update_notifier": "false", "npm_config_loglevel": "warn"}
    # Hooks run in a login shell, which finds the service's node first; npm runs as
    # the machine's npm on the machine's node (the old builds' npm cannot reach
    # today's registry), building addons against the service's node's headers.
    shell = "-lc"
    if name == NPM_STEP and step.node is not None:
        headers = NODE_DIR if isolated else str(step.node.folder)
        env.update(npm.install_env(step.node.version, headers))
        if isolated:
            shell, env["PATH"] = "-c", f"{PATH}:{NODE_BIN}"
    if isolated:
        inner = ["/bin/sh", shell, f"cd {HOME}/current && {command}"]
        return isolated_argv(spec, inner, netns=False, env=env), host_env(spec)
    argv = ["/bin/sh", "-lc", f"cd {step.work}/current && {command}"]
    return argv, process_env(spec, {"HOME": str(step.work), **env})


def _run_step(step: Step, name: str, command: str) -> None:
    left = step.deadline - time.monotonic()
    if left <= 0:
        raise BuildFailed(f"the build ran past its time limit ({step.limit:g} s) before {name}")
    step.log(f"Running {name}: {command}")
    (step.work / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
    argv, env = _step_command(step, name, command)
    output: list[str] = []

    def on_line(line: str) -> None:
        output.append(line)
        if not npm.is_noise(line):
            step.log(f"  {line}")

    try:
        step.runner.stream(argv, on_line=on_line, env=env, timeout=left)
        scrub_reserved(step.work)  # what the platform writes later must not be a hook's link
    except CommandFailed as exc:
        if exc.returncode is None:
            raise BuildFailed(
                f"{name} (`{command}`) ran past the build's time limit of {step.limit:g} s "
                "and was stopped"
            ) from None
        if name == NPM_STEP and step.node is not None:
            _report(step, npm.findings([], step.node.version, npm.failed_builds(output)))
        tail = output_tail(exc.stdout, exc.stderr)
        raise BuildFailed(
            f"{name} (`{command}`) failed with exit code {exc.returncode}"
            + (f":\n{tail}" if tail else "")
        ) from None
    if name == NPM_STEP and step.node is not None:
        _report(step, npm.findings(npm.scan(step.work / "current"), step.node.version))


def _report(step: Step, found: list[npm.NpmFinding]) -> None:
    """npm's findings in the build log, warnings first, each naming its package."""
    for finding in sorted(found, key=lambda f: f.severity != "warning"):
        step.log(f"npm {finding.severity}: {finding.message}")
