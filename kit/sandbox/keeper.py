"""``python -m kit.sandbox.keeper HOME``: keeps one sandbox's platform process running.

Containers die with the platform process (bubblewrap's ``--die-with-parent``:
nothing can outlive its owner and be lost). So that a platform process killed
with ``kill -9``, or crashed, does not leave the apps down until the next
command, this small process starts it and waits for it; when it dies of a
signal or a crash, the keeper starts it again at once, and the new one restores
every app from its ``runtime.json``. When the platform process ends of its own
accord (asked to stop: status 0), or refuses to run (another owns the home, or
its folders are not the owner's: :data:`EXIT_REFUSED`), the keeper ends too.
A platform process that keeps dying young is started at most
:data:`MAX_QUICK_DEATHS` times in a row, with growing pauses, then left down
(the next command starts it again).

The keeper reads no file of any app and takes no request: it runs one fixed
command. It holds ``platform/keeper.lock`` for as long as it lives, so each
sandbox has one keeper.
"""

from __future__ import annotations

import fcntl
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kit.sandbox.layout import Layout
from kit.sandbox.rundir import UnsafeFolder, ensure_home

EXIT_REFUSED = 3  # the platform process's status when it will not run at all (no restart)
PAUSES = (0.0, 0.2, 0.5, 1.0, 2.0, 5.0)
QUICK = 10.0  # a platform process that dies younger than this died "young"
MAX_QUICK_DEATHS = 6


def should_restart(status: int) -> bool:
    """Whether a platform process that ended with ``status`` is started again: killed by
    a signal (not a request to stop) or crashed (an uncaught error exits with 1)."""
    if status in (-signal.SIGTERM, -signal.SIGINT):
        return False
    return status < 0 or status == 1


def keep(
    start: Callable[[], subprocess.Popen[bytes]],
    *,
    stopping: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = print,
) -> int:
    """Run the platform process from ``start`` until it ends of its own accord (or
    ``stopping()`` says the keeper was asked to stop); its last status."""
    quick_deaths = 0
    while True:
        began = clock()
        process = start()
        status = _wait(process)
        if stopping() or not should_restart(status):
            return status
        quick_deaths = quick_deaths + 1 if clock() - began < QUICK else 1
        if quick_deaths > MAX_QUICK_DEATHS:
            say(f"keeper: the platform process died {quick_deaths - 1} times in a row; left down")
            return status
        pause = PAUSES[min(quick_deaths - 1, len(PAUSES) - 1)]
        how = f"signal {-status}" if status < 0 else f"status {status}"
        say(f"keeper: the platform process ended ({how}); starting it again in {pause:.1f} s")
        sleep(pause)
        if stopping():
            return status


def _wait(process: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # pragma: no cover - the keeper is signalled, not typed at
            continue


def platform_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "kit.sandbox.daemon", str(home)]


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kit.sandbox.keeper DOTKIT_HOME", file=sys.stderr)
        return 2
    layout = Layout(Path(argv[0]))
    try:
        ensure_home(layout)
    except UnsafeFolder as exc:
        print(f"keeper: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    lock = open(layout.keeper_lock, "a+")  # noqa: SIM115 - held for the process's lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another keeper looks after this sandbox
    current: list[subprocess.Popen[bytes]] = []
    asked: list[int] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(platform_command(layout.home), stdin=subprocess.DEVNULL)
        current[:] = [process]
        return process

    def stop(signum: int, _frame: object) -> None:
        # Asked to stop: the platform process stops its containers, then both end.
        asked.append(signum)
        for process in current:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def say(line: str) -> None:
        print(line, flush=True)  # to platform.log, beside the platform process's lines

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = keep(start, stopping=lambda: bool(asked), say=say)
    return 0 if status in (0, -signal.SIGTERM) else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
