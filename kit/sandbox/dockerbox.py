"""The docker backend: the sandbox's containers on a Docker engine.

The container is the one bubblewrap makes (:mod:`kit.sandbox.isolation.rootfs`
describes it: the home read-write with the platform's ``~/.dotkit`` read-only
over it, the socket folders the router and the other services reach it by,
the generated ``/etc`` files, the kit's few runtime modules), started from the
platform image (:mod:`kit.engine.image`) instead of the host's ``/usr``:
Debian's supervisor and Python, and for builds a current npm under
``/opt/node/build``. The engine gives the boundary: namespaces, no
capabilities, its default seccomp profile, a read-only root, and the memory,
process and CPU limits of ``dotkit scale``.

``python -m kit.sandbox.dockerbox PLAN`` is the host side of one start, as
the platform's user: it gives the container's folders to the container's host
user, writes the generated files to a private folder, runs ``docker run`` in
the foreground (its output is the container's), reports the container's first
process to the platform (``--info-fd``, as bubblewrap does) so that the router
can reach its network namespace, and removes the container and the files when
it ends, however it ends.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed
from kit.sandbox.isolation.limits import Limits
from kit.sandbox.isolation.rootfs import (
    HOME,
    LIB,
    NODE_DIR,
    PATH,
    SUPERVISOR_SOCKET_DIR,
    Box,
    data_files,
    host_binds,
)

BUILD_NODE_BIN = "/opt/node/build/bin"  # the build image's current node and npm
LABEL = "org.dotkit.sandbox"
_NAME = re.compile(r"[^a-zA-Z0-9_.-]+")
START_TIMEOUT = 120.0  # docker run, on a vfs engine, copies the image first
STAGING = "dotkit-box-"  # + the launcher's pid: the generated files of one start


class DockerTarget(NamedTuple):
    """Where a push on the docker backend runs its containers."""

    engine: str  # DOCKER_HOST
    image: str  # the platform image (its build image goes with it)


class DockerPlan(NamedTuple):
    """One container start, made by the platform from its own state."""

    box: Box
    name: str  # the container's name on the engine
    image: str
    engine: str  # DOCKER_HOST
    uid: int  # the container's user, on the host and inside
    gid: int
    limits: Limits
    sandbox: str  # the label every container of this sandbox carries
    info_fd: int | None = None

    def to_json(self) -> str:
        data = self._asdict()
        data["box"] = self.box._asdict()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> DockerPlan:
        data = json.loads(text)
        data["box"] = Box(**data["box"])
        data["limits"] = Limits(*data["limits"])
        return cls(**data)


def engine_problem(engine: str) -> str | None:
    """Why the Docker engine at ``engine`` cannot run containers, or None."""
    if shutil.which("docker") is None:
        return "the docker command is not installed (Debian package docker.io)"
    env = {"PATH": os.environ.get("PATH", PATH), "DOCKER_HOST": engine, "LANG": "C.UTF-8"}
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env=env, capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"the Docker engine at {engine} did not answer within 20 s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker engine answers at {engine} ({last})"
    return None


def ensure_target(cache: Path, say: Callable[[str], None], sql: bool = False) -> DockerTarget:
    """The engine (``DOCKER_HOST``, else the usual socket) and the platform image on it,
    built the first time (Debian from the package registry, a few minutes). With
    ``sql`` (an app with a mysql or postgresql service), the image with MariaDB and
    PostgreSQL, which all of that app's containers run on."""
    from kit.engine.docker import default_engine
    from kit.engine.image import build_platform_image

    engine = default_engine()
    problem = engine_problem(engine.host)
    if problem:
        raise OperationFailed(
            f"the docker backend needs a Docker engine: {problem}. Start one (as root: "
            "dockerd, or systemctl start docker) or point DOCKER_HOST at one; or create "
            "the app without --backend docker"
        )
    image, built = build_platform_image(engine, "platform", cache, say, sql=sql)
    ref = image.sql if sql else image.runtime
    if built:
        say(f"Built the platform image {ref}")
    return DockerTarget(engine.host, ref)


def sandbox_label(sandbox: str) -> str:
    """What every container of one sandbox is labelled with (a digest of its state folders)."""
    return hashlib.sha256(sandbox.encode()).hexdigest()[:12]


def container_name(sandbox: str, app: str, cid: str, kind: str = "service") -> str:
    """``dotkit-<sandbox>-<app>-<cid>``; a build or hook gets a name of its own run."""
    base = f"dotkit-{sandbox_label(sandbox)[:8]}-{app or 'build'}-{cid}"
    if kind != "service":
        base += f"-{kind}-{os.urandom(4).hex()}"
    return _NAME.sub("-", base)[:120]


def passwd(uid: int, gid: int) -> str:
    """The container's users: ``dotcloud`` is the host user the engine runs it as."""
    return (
        "root:x:0:0:root:/root:/bin/sh\n"
        f"dotcloud:x:{uid}:{gid}:dotCloud:{HOME}:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )


def group(gid: int) -> str:
    return f"root:x:0:\ndotcloud:x:{gid}:\nnogroup:x:65534:\n"


def staged_files(box: Box, kit_root: Path, uid: int, gid: int) -> dict[str, bytes]:
    """The generated files, by their path inside (the identity matches the engine's user)."""
    files = data_files(box, kit_root)
    files["/etc/passwd"] = passwd(uid, gid).encode()
    files["/etc/group"] = group(gid).encode()
    return files


def mounts(
    box: Box, staging: Path, etc: Sequence[str], node_parts: Sequence[str]
) -> list[tuple[str, str, bool]]:
    """(host path, path inside, writable) of every bind, in the order docker gets them.

    ``etc`` names the generated files outside the kit's runtime folder. The
    host's own tool folders (``extra_ro``) are not shown: the image has its own
    system. A Node.js build is shown part by part under ``/opt/node``, so that
    the build image's ``/opt/node/build`` stays visible beside it.
    """
    binds = [
        (source, inside, writable)
        for source, inside, writable in host_binds(box)
        if inside not in box.extra_ro and inside != NODE_DIR
    ]
    if box.sockets:  # the platform's path to supervisord's socket
        binds.append((box.sockets, SUPERVISOR_SOCKET_DIR, True))
    if box.node:
        binds += [(f"{box.node}/{part}", f"{NODE_DIR}/{part}", False) for part in node_parts]
    binds.append((str(staging / "lib"), LIB, False))
    binds += [(str(staging / "etc" / _flat(inside)), inside, False) for inside in sorted(etc)]
    return binds


def _flat(inside: str) -> str:
    return inside.lstrip("/").replace("/", "_")


def environment(box: Box) -> dict[str, str]:
    """What the command starts with: the platform's fixed values, then the box's own."""
    path = f"{NODE_DIR}/bin:{PATH}" if box.node else PATH
    if box.kind == "build":
        path = f"{path}:{BUILD_NODE_BIN}"
    env = {"HOME": HOME, "USER": "dotcloud", "LOGNAME": "dotcloud", "PATH": path}
    env.update(LANG="C.UTF-8", **box.env)
    if box.kind == "build" and BUILD_NODE_BIN not in env["PATH"].split(":"):
        env["PATH"] = f"{BUILD_NODE_BIN}:{env['PATH']}"  # npm: the build image's
    return env


def mount_option(source: str, inside: str, writable: bool) -> str:
    """``--mount``'s value: comma-separated fields, each quoted as CSV when it must be."""
    fields = ["type=bind", f"source={source}", f"target={inside}"]
    if not writable:
        fields.append("readonly")
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def run_args(
    plan: DockerPlan, staging: Path, etc: Sequence[str], node_parts: Sequence[str]
) -> list[str]:
    """``docker run``'s arguments (after ``docker``) for ``plan``."""
    box, limits = plan.box, plan.limits
    # --init: the engine's tini is the first process, as bubblewrap's init is, so a
    # command that ignores SIGTERM as PID 1 still ends when the container is stopped.
    args = ["run", "--rm", "--init", "--name", plan.name, "--label", f"{LABEL}={plan.sandbox}"]
    args += ["--hostname", box.hostname, "--user", f"{plan.uid}:{plan.gid}"]
    if box.kind != "service":
        # Standard input reaches the command, as bubblewrap passes it on: a data service's
        # initialiser reads its password there. The launcher's own is the caller's pipe
        # or /dev/null (kit.proc), so a command that reads it never waits.
        args.append("--interactive")
    if box.netns:
        args += ["--network", "none", "--sysctl", "net.ipv4.ip_unprivileged_port_start=0"]
    else:
        args += ["--network", "host"]  # builds reach the package registry, as bubblewrap's do
    args += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only"]
    args += ["--tmpfs", "/tmp:rw,exec,mode=1777", "--tmpfs", "/var/tmp:rw,exec,mode=1777"]
    args += ["--tmpfs", "/run:rw,mode=0755", "--shm-size", "64m"]
    args += ["--memory", str(limits.memory), "--memory-swap", str(limits.memory)]
    args += ["--pids-limit", str(limits.pids), "--cpu-shares", str(limits.cpu_shares)]
    for source, inside, writable in mounts(box, staging, etc, node_parts):
        args += ["--mount", mount_option(source, inside, writable)]
    for key, value in sorted(environment(box).items()):
        args += ["--env", f"{key}={value}"]
    args += ["--workdir", HOME, "--entrypoint", box.command[0], plan.image, *box.command[1:]]
    return args


# -- the host side of a start (runs as its own process) -----------------------------------


def _stage(plan: DockerPlan, kit_root: Path) -> tuple[Path, list[str]]:
    """The generated files in a private folder of the platform's; its path and the
    ``/etc`` files it holds."""
    _sweep(Path(tempfile.gettempdir()))
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-"))
    etc = []
    for inside, data in staged_files(plan.box, kit_root, plan.uid, plan.gid).items():
        if inside.startswith(LIB + "/"):
            target = staging / "lib" / inside[len(LIB) + 1 :]
        else:
            target = staging / "etc" / _flat(inside)
            etc.append(inside)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        target.write_bytes(data)
        target.chmod(0o444)
    (staging / "lib").mkdir(exist_ok=True, mode=0o755)
    for folder in [staging / "lib", *(staging / "lib").rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)
    return staging, etc


def _sweep(base: Path) -> None:
    """Remove the staging folders of launchers that are gone (one killed outright,
    say a build stopped at its time limit, cannot remove its own)."""
    for folder in base.glob(f"{STAGING}*-*"):
        pid = folder.name[len(STAGING) :].split("-", 1)[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        with contextlib.suppress(OSError):
            if folder.lstat().st_uid == os.geteuid() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)


def _docker(engine: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``docker ARGS`` against ``engine``, its output kept."""
    return subprocess.run(
        [_program(), *args], env=launcher_env(engine), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def _program() -> str:
    return shutil.which("docker", path=PATH) or "docker"


def _report_pid(plan: DockerPlan, child: subprocess.Popen[bytes]) -> None:
    """Tell the platform the container's first process, once the engine has started it."""
    if plan.info_fd is None:
        return
    pid = 0
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and child.poll() is None:
        done = _docker(plan.engine, "inspect", "--format", "{{.State.Pid}}", plan.name)
        found = done.stdout.strip()
        if done.returncode == 0 and found.isdigit() and int(found) > 0:
            pid = int(found)
            break
        time.sleep(0.05)
    with contextlib.suppress(OSError), os.fdopen(plan.info_fd, "w") as info:
        info.write(json.dumps({"child-pid": pid}) if pid else "{}")


def launch(plan: DockerPlan, kit_root: Path) -> int:
    """Run the container to its end; its exit status."""
    from kit.sandbox.isolation.enter import _pidfiles, give

    box = plan.box
    if box.private and box.sockets:
        _pidfiles(Path(box.private), Path(box.sockets))
    if os.geteuid() == 0 and plan.uid != 0:
        give(Path(box.home), plan.uid, plan.gid, skip=frozenset({".dotkit"}))
        for path in (box.logs, box.sockets):
            if path:
                give(Path(path), plan.uid, plan.gid)
    remove(plan.engine, plan.name)  # a container a killed launcher left
    staging, etc = _stage(plan, kit_root)
    node_parts = sorted(p.name for p in Path(box.node).iterdir()) if box.node else []
    from kit.sandbox.pipe import die_with_parent

    argv = [_program(), *run_args(plan, staging, etc, node_parts)]
    # In a session of its own, so that a SIGKILL for this launcher's group (a build
    # past its time limit) leaves docker run alive to hear of it and stop the
    # container: it is sent SIGTERM when this process dies, and passes it on.
    child = subprocess.Popen(
        argv, env=launcher_env(plan.engine), start_new_session=True, preexec_fn=die_with_parent
    )

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)  # docker run hands it to the container

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        _report_pid(plan, child)
        return child.wait()
    finally:
        remove(plan.engine, plan.name)
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str]) -> int:
    from kit.sandbox.pipe import die_with_parent

    die_with_parent()  # the platform (or the push) that started it owns it
    plan = DockerPlan.from_json(argv[1])
    return launch(plan, Path(__file__).resolve().parents[2])


def remove(engine: str, name: str) -> None:
    """``docker rm --force NAME``: gone if it was there."""
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        _docker(engine, "rm", "--force", name, timeout=60)


def launcher_argv(plan: DockerPlan) -> list[str]:
    return [sys.executable, "-m", "kit.sandbox.dockerbox", plan.to_json()]


def launcher_env(engine: str) -> dict[str, str]:
    return {"PATH": PATH, "LANG": "C.UTF-8", "DOCKER_HOST": engine}


def exec_args(
    name: str, command: Sequence[str], *, uid: int, gid: int, interactive: bool,
    env: Mapping[str, str],
) -> list[str]:  # fmt: skip
    """``docker exec``'s arguments for a command in a running container."""
    args = ["exec", "--user", f"{uid}:{gid}", "--workdir", HOME]
    if interactive:
        args += ["--interactive", "--tty"] if sys.stdin.isatty() else ["--interactive"]
    for key, value in sorted(env.items()):
        args += ["--env", f"{key}={value}"]
    return [*args, name, *command]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
