"""One image build per code service, from the export folder.

The folder is the build context; ``.dockerignore`` lets only ``app/`` (the code
as a push uploads it) into it, so secrets and engine files never reach an image.
Each service's ``build/<service>/Dockerfile`` has two stages, as the platform
had a builder and service containers:

1. on ``dotkit/platform-build``: the code in ``~/code``, then
   ``start.py build``: ``~/current`` linked to the approot, ``prebuild``,
   ``npm install``, ``postbuild``, and the service's supervisord setup kept;
2. on ``dotkit/platform``: the built home only, with nothing of the builder.

Few steps on purpose: the ``vfs`` storage driver copies the whole file system
for every step.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Sequence

from kit.engine.image import START, node_bin
from kit.engine.rootfs import UID
from kit.export.environ import k8s_name
from kit.export.plan import CodePlan, Plan
from kit.files import OutFile
from kit.platform.facts import (
    CURRENT,
    HOME,
    SUPERVISOR_LOG_DIR,
    SUPERVISOR_SOCKET,
    SUPERVISORD_FILE,
)

APP_DIR = "app"
DOCKERIGNORE = "*\n!app\n"


def supervisord_conf(code: CodePlan) -> str:
    """The container's own supervisord setup: the platform's part, then the app's file."""
    lines = [
        "; supervisord for this service container, written by dotkit export.",
        "[unix_http_server]",
        f"file = {SUPERVISOR_SOCKET}",
        "",
        "[supervisord]",
        "nodaemon = true",
        "logfile = /dev/stdout",
        "logfile_maxbytes = 0",
        f"pidfile = {SUPERVISOR_SOCKET.rsplit('/', 1)[0]}/supervisord.pid",
        f"childlogdir = {SUPERVISOR_LOG_DIR}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl = unix://{SUPERVISOR_SOCKET}",
        "",
    ]
    service = code.service
    commands = dict(service.processes)
    if service.process:
        commands[service.name] = service.process
    for name, command in commands.items():
        argv = shlex.join(["/bin/sh", "-lc", f"exec {command}"]).replace("%", "%%")
        lines += [
            f"[program:{name}]",
            f"command = {argv}",
            f"directory = {CURRENT}",
            f"stdout_logfile = {SUPERVISOR_LOG_DIR}/{name}.log",
            f"stderr_logfile = {SUPERVISOR_LOG_DIR}/{name}_error.log",
            "",
        ]
    lines += ["[include]", f"files = {CURRENT}/{SUPERVISORD_FILE}", ""]
    return "\n".join(lines)


def build_spec(code: CodePlan) -> dict[str, object]:
    """What ``start.py build`` does for ``code``, and what ``start.py run`` reads later."""
    service = code.service
    return {
        "service": service.name,
        "approot": service.approot,
        "prebuild": service.prebuild,
        "postbuild": service.postbuild,
        "node_bin": node_bin(code.branch),
        "supervisord": supervisord_conf(code),
        "run": {
            "service": service.name,
            "postinstall": service.postinstall,
            "node_bin": node_bin(code.branch),
        },
    }


def dockerfile(plan: Plan, code: CodePlan) -> str:
    image = plan.options.image
    run = json.dumps(["/usr/bin/python3", START, "build", json.dumps(build_spec(code))])
    return "\n".join(
        [
            f"# The {code.service.name} service of {plan.options.app}, written by dotkit export.",
            "# Build from the export folder: docker build -f build/"
            f"{code.service.name}/Dockerfile .",
            f"FROM {image.build} AS build",
            f"COPY --chown={UID}:{UID} {APP_DIR}/ {HOME}/code/",
            f"RUN {run}",
            "",
            f"FROM {image.runtime}",
            f"COPY --from=build --chown={UID}:{UID} {HOME}/ {HOME}/",
            "",
        ]
    )


def dockerfile_path(code: CodePlan) -> str:
    return f"build/{code.service.name}/Dockerfile"


def code_digest(app_files: Sequence[OutFile]) -> str:
    """A digest of the code, so a changed app gets new image tags (and a rolling update)."""
    h = hashlib.sha256()
    for item in sorted(app_files):
        h.update(item.path.encode() + b"\0" + item.content + b"\0" + oct(item.mode).encode())
    return h.hexdigest()


def image_ref(plan: Plan, code: CodePlan, digest: str) -> str:
    tag = hashlib.sha256((digest + dockerfile(plan, code)).encode()).hexdigest()[:12]
    return f"dotkit-{plan.options.app}/{k8s_name(code.service.name)}:{tag}"


def context_files(plan: Plan) -> list[OutFile]:
    """The Dockerfiles and ``.dockerignore`` (the code itself is added by the caller)."""
    files = [OutFile(".dockerignore", DOCKERIGNORE.encode())]
    files += [OutFile(dockerfile_path(c), dockerfile(plan, c).encode()) for c in plan.code]
    return files


def build_script(plan: Plan, refs: dict[str, str]) -> OutFile:
    """``build-images.sh``: the builds the target needs, for engines that do not build."""
    lines = [
        "#!/bin/sh",
        "# Build the app's images from this folder (written by dotkit export).",
        "set -e",
        'cd "$(dirname "$0")"',
    ]
    for code in plan.code:
        argv = ["docker", "build", "--network", "host", "-f", dockerfile_path(code)]
        lines.append(shlex.join([*argv, "-t", refs[code.service.name], "."]))
    return OutFile("build-images.sh", ("\n".join(lines) + "\n").encode(), 0o755)
