"""``python -m kit.sandbox.cinit CONFIG``: the first process of every container.

It brings the loopback interface up (a new network namespace starts with it
down), starts the relays that connect the container to the router and to the
other services, then becomes supervisord, which runs the app's programs.
"""

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys

from kit.sandbox.backend import die_with_parent

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up() -> None:
    """``ip link set lo up`` without needing the ip tool."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def main(argv: list[str]) -> int:
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
    os.environ.clear()
    os.environ.update(config["env"])
    os.chdir(config["home"])
    supervisord = [
        sys.executable,
        "-m",
        "supervisor.supervisord",
        "-n",
        "-c",
        config["supervisord"],
    ]
    os.execv(sys.executable, supervisord)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
