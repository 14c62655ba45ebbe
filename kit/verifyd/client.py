"""Handing a `dotkit verify` to a running verify server, before click is even imported.

A re-run of ``dotkit verify`` spends most of its time starting Python, importing
the CLI and stat-ing every file. The verify server (:mod:`kit.verifyd.server`,
started by ``dotkit verify --serve``) has all of that behind it: it keeps each
app's memo in memory and learns of changes from inotify. :func:`forward` sends
it the command line and prints what it answers; when there is no server, or it
declines (another environment, another kit), the command runs here as usual.

This module runs before anything else in every ``dotkit verify``, so it imports
nothing heavy: messages are NUL-separated fields (no JSON), which is exact, since
no command line, folder or environment value can hold a NUL. Both ends check
that the other is the same user (SO_PEERCRED), so no one else can answer.
"""

import os
import socket
import struct
import sys
import zlib
from typing import TextIO

PROTOCOL = "1"
# The variables a verify run's result can depend on; a server started with other
# values declines, and the command runs in the client instead.
ENV_KEYS = ("PATH", "HOME", "DOTKIT_HOME", "XDG_DATA_HOME", "LANG", "LC_ALL", "LC_CTYPE")
# Options the server does not take: they ask for a fresh run, help, or the server itself.
_LOCAL_OPTIONS = frozenset({"--no-cache", "--help", "-h", "--stop-server", "--"})
_CONNECT_TIMEOUT_S = 1.0
_MAGIC = "dotkit-verify"


def server_address() -> str:
    """The server's abstract socket: one per user, DOTKIT_HOME, kit version and Python.

    The name only finds the server; the server itself checks all of it again.
    """
    return f"\0{_MAGIC}-{os.getuid()}-{zlib.crc32(encode(identity())):08x}"


def identity() -> list[str]:
    """What a server must share with its clients: DOTKIT_HOME, kit version, Python."""
    from kit import __version__
    from kit.paths import home_path

    return [os.path.abspath(home_path()), __version__, sys.executable]  # noqa: PTH100


def environment() -> list[str]:
    """The environment a run depends on, as alternating names and values."""
    chosen = sorted((k, v) for k, v in os.environ.items() if k in ENV_KEYS or k.startswith("GIT_"))
    return [item for pair in chosen for item in pair]


def encode(fields: list[str]) -> bytes:
    return b"\0".join(os.fsencode(f) for f in fields)


def decode(data: bytes) -> list[str]:
    return [os.fsdecode(f) for f in data.split(b"\0")]


def same_user(sock: socket.socket) -> bool:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return bool(struct.unpack("3i", creds)[1] == os.getuid())


def ask(kind: str, fields: list[str], timeout: float | None = None) -> bytes | None:
    """The server's raw answer to a request; None when no server (of this user) answers."""
    if not sys.platform.startswith("linux"):
        return None  # abstract sockets and inotify: Linux only
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(_CONNECT_TIMEOUT_S)
            sock.connect(server_address())
            if not same_user(sock):
                return None
            sock.settimeout(timeout)
            sock.sendall(encode([_MAGIC, PROTOCOL, *identity(), kind, *fields]))
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks)


def ask_pid(kind: str, timeout: float) -> int | None:
    """The pid in the answer to ``ping`` or ``stop``; None when no server answers."""
    answer = ask(kind, [], timeout)
    if answer is None:
        return None
    status, _, pid = answer.partition(b"\0")
    return int(pid) if status == b"ok" and pid.isdigit() else None


def forward(argv: list[str]) -> int | None:
    """Run ``dotkit verify ...`` in the server: its exit code, or None to run it here."""
    if not argv or argv[0] != "verify" or _LOCAL_OPTIONS.intersection(argv[1:]):
        return None
    try:
        cwd = os.getcwd()  # noqa: PTH109
    except OSError:
        return None  # the folder was removed under us: let the CLI say so
    env = environment()
    answer = ask("run", [str(len(env)), *env, cwd, *argv])
    if answer is None:
        return None
    # ok NUL exit NUL len(stdout) NUL stdout stderr
    parts = answer.split(b"\0", 3)
    if len(parts) != 4 or parts[0] != b"ok":
        return None  # declined
    try:
        code, size = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    _write(sys.stdout, parts[3][:size])
    _write(sys.stderr, parts[3][size:])
    return code


def _write(stream: TextIO, data: bytes) -> None:
    if data:
        stream.buffer.write(data)
        stream.flush()
