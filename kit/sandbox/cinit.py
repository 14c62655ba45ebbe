"""``python -m kit.sandbox.cinit CONFIG``: the first process of every container.

It brings the loopback interface up when it is down (bubblewrap already does
so in a container's own network namespace), starts the relays that connect the
container to the router and to the other services, then becomes supervisord,
which runs the app's programs.

``python -m kit.sandbox.cinit --exec CONFIG -- COMMAND...`` runs COMMAND with
the app's environment from CONFIG instead (postinstall, ``dotkit run``): the
environment is read *inside* the container, so nothing the app can write ever
reaches a process on the host.

Inside a container this runs on Debian's Python with only a few kit modules
present (``kit.sandbox.cinit``, ``relay`` and ``pipe``): import nothing else.
"""

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys

from kit.sandbox.pipe import die_with_parent

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
# Variables of the container's start-up that its programs must not inherit.
RUNTIME_ONLY = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


def loopback_up() -> None:
    """``ip link set lo up`` without needing the ip tool (a no-op when it is up)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        if flags & IFF_UP:
            return
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def _environment(config: dict[str, object], keep: tuple[str, ...] = ()) -> dict[str, str]:
    env = {str(k): str(v) for k, v in dict(config["env"]).items()}  # type: ignore[call-overload]
    for key in keep:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def load_seccomp(fd: int) -> None:
    """Install the BPF program read from ``fd`` (for ``dotkit run``: bubblewrap is not there)."""
    import ctypes

    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    program = b"".join(chunks)

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    prog = Prog(len(program) // 8, program)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
    ]
    if libc.prctl(38, 1, None, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "cannot set no_new_privs")
    if libc.prctl(22, 2, ctypes.addressof(prog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        raise OSError(ctypes.get_errno(), "cannot load the seccomp filter")


def exec_with_env(argv: list[str]) -> int:
    """``--exec CONFIG [--seccomp-fd N] -- COMMAND...``: COMMAND with the app's environment."""
    if len(argv) >= 3 and argv[1] == "--seccomp-fd":
        load_seccomp(int(argv[2]))
        argv = [argv[0], *argv[3:]]
    if len(argv) < 3 or argv[1] != "--":
        print("cinit: usage: --exec CONFIG [--seccomp-fd N] -- COMMAND...", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        config = json.load(handle)
    env = _environment(config, keep=("TERM",))
    os.chdir(str(config["home"]))
    os.execvpe(argv[2], argv[2:], env)
    return 127  # not reached


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--exec":
        return exec_with_env(argv[1:])
    with open(argv[0], encoding="utf-8") as handle:
        config = json.load(handle)
    if config["netns"]:
        loopback_up()
    if config["relays"]:
        subprocess.Popen(
            [sys.executable, "-m", "kit.sandbox.relay", *config["relays"]],
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # ends with supervisord, which this process becomes
        )
    # supervisord may come from the kit's own runtime folder (when Debian's
    # package is missing): keep the module path for it alone, not for the app.
    path = os.environ.get("DOTKIT_SUPERVISOR_PATH")
    env = _environment(config)
    os.environ.clear()
    os.environ.update(env)
    if path:
        os.environ["PYTHONPATH"] = path
    os.chdir(config["home"])
    supervisord = ["-m", "supervisor.supervisord", "-n", "-c", config["supervisord"]]
    os.execv(sys.executable, [sys.executable, *supervisord])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
