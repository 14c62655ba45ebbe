"""The kit's one way to run another program.

Every subprocess goes through :func:`run`: argv lists only (never a shell, so
user data is never parsed as shell syntax), output captured as text, and one
readable :class:`CommandFailed` that names the command, the exit code and the
last lines of output. The child runs in its own session so that, on a timeout
or Ctrl-C, the whole process group is stopped, not only the first process:
children it started cannot keep the pipes open and hang the kit.
"""

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed

TAIL_LINES = 10
_SHOWN_COMMAND_CHARS = 200
_DRAIN_SECONDS = 5


class Completed(NamedTuple):
    """A program that ran to the end, with what it printed."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandFailed(OperationFailed):
    """A program could not be started, did not finish in time, or failed."""

    def __init__(
        self,
        message: str,
        argv: Sequence[str],
        returncode: int | None = None,
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.argv = tuple(argv)
        self.returncode = returncode  # None when it never ran or was stopped
        self.stdout = stdout
        self.stderr = stderr


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input: bytes | None = None,
) -> Completed:
    """Run ``argv`` and wait for it; ``env`` replaces the environment when given.

    Raises :class:`CommandFailed` when the program is missing, runs past
    ``timeout`` seconds, or (with ``check``) exits with a non-zero status.
    """
    args = tuple(argv)
    if not args:
        raise CommandFailed("cannot run an empty command", args)
    try:
        child = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(_start_error(args, cwd, exc), args) from None
    try:
        out, err = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = _stop(child)
        raise CommandFailed(
            f"{_show(args)} did not finish within {timeout:g} seconds and was stopped",
            args,
            None,
            _text(out),
            _text(err),
        ) from None
    except BaseException:
        _stop(child)  # Ctrl-C or a broken pipe: leave nothing running behind us
        raise
    done = Completed(args, child.returncode, _text(out), _text(err))
    if check and done.returncode != 0:
        raise CommandFailed(_exit_message(done), args, done.returncode, done.stdout, done.stderr)
    return done


def _start_error(args: tuple[str, ...], cwd: Path | None, exc: OSError) -> str:
    program = args[0]
    if cwd is not None and exc.filename is not None and str(exc.filename) == str(cwd):
        return f"cannot run {program}: the folder {cwd} does not exist or is not a folder"
    if isinstance(exc, FileNotFoundError):
        what = "no such file" if "/" in program else "not installed"
        return f"cannot run {program}: {what}"
    if isinstance(exc, PermissionError):
        return f"cannot run {program}: permission denied (is it executable?)"
    return f"cannot run {program}: {exc.strerror or exc}"


def _stop(child: "subprocess.Popen[bytes]") -> tuple[bytes, bytes]:
    """Kill the child's whole process group and collect what it printed."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(child.pid, signal.SIGKILL)
    try:
        return child.communicate(timeout=_DRAIN_SECONDS)
    except subprocess.TimeoutExpired:
        # Something outside the group still holds the pipes; give up on the output.
        child.kill()
        child.wait()
        return b"", b""


def _exit_message(done: Completed) -> str:
    if done.returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-done.returncode).name}"
        except ValueError:
            how = f"was killed by signal {-done.returncode}"
    else:
        how = f"failed with exit code {done.returncode}"
    message = f"{_show(done.argv)} {how}"
    tail = output_tail(done.stdout, done.stderr)
    return f"{message}:\n{tail}" if tail else f"{message} (no output)"


def output_tail(stdout: str, stderr: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-blank lines of stdout then stderr, indented."""
    kept = [line for line in (stdout + "\n" + stderr).splitlines() if line.strip()]
    return "\n".join("  " + line for line in kept[-lines:])


def _show(args: tuple[str, ...]) -> str:
    shown = shlex.join(args).replace("\n", "\\n")  # one line, whatever the arguments
    if len(shown) > _SHOWN_COMMAND_CHARS:
        shown = shown[: _SHOWN_COMMAND_CHARS - 3] + "..."
    return f"`{shown}`"


def _text(data: bytes | None) -> str:
    # Tools print in the locale's encoding, and file names may be any bytes:
    # a replacement character beats an exception in the middle of a report.
    return (data or b"").decode("utf-8", errors="replace")


def stream(
    argv: Sequence[str],
    *,
    on_line: Callable[[str], None],
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``argv``, handing each line of its output (stdout and stderr) to ``on_line``.

    For long steps whose output the user should watch (npm install, hooks).
    Raises :class:`CommandFailed` like :func:`run` on a missing program, a
    timeout (the whole process group is stopped) or a non-zero exit.
    """
    import selectors
    import time

    args = tuple(argv)
    try:
        child = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(_start_error(args, cwd, exc), args) from None
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    tail: list[str] = []
    buffer = b""
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    _stop(child)
                    raise CommandFailed(
                        f"{_show(args)} did not finish within {timeout:g} seconds and was stopped",
                        args,
                    )
                if not selector.select(timeout=min(left, 0.5)):
                    continue
                chunk = os.read(child.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    line = _text(raw).rstrip("\r")
                    tail = [*tail[-(TAIL_LINES - 1) :], line]
                    on_line(line)
        if buffer:
            on_line(_text(buffer))
        returncode = child.wait(timeout=max(0.1, deadline - time.monotonic()))
    except BaseException:
        _stop(child)
        raise
    if returncode != 0:
        done = Completed(args, returncode, "\n".join(tail), "")
        raise CommandFailed(_exit_message(done), args, returncode, done.stdout, "")
    return returncode
