"""A push that outlives its client, as a deployment on the platform did.

On dotCloud the deployment ran on the platform; the CLI only streamed its log,
and Ctrl-C (or a lost connection) stopped the stream, never the deployment. The
sandbox does the same: :func:`launch` starts the push in a process of its own
(``python -m kit.sandbox.push.background``), in a session of its own, so that
Ctrl-C, a closed terminal or a broken pipe reach the client alone. The push
process writes the deployment log (``dotkit dlogs`` reads it) and tells the
client, one line each, what happens:

``id dN``             the deployment's id, as soon as it has one
``log TEXT``          a line of the deployment log
``done JSON``         the deployment's record: it deployed
``failed JSON``       ``{"message", "record"}``: it did not deploy
``error JSON``        ``{"message", "exit"}``: it could not start (another push runs...)

When the client is gone, the push goes on and writes only its log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from kit.errors import EXIT_INTERRUPTED, KitError, OperationFailed
from kit.sandbox.layout import Layout
from kit.sandbox.push.context import PushFailed
from kit.sandbox.records import Deployment

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    """What to push: everything :func:`kit.sandbox.push.orchestrate.push` is asked."""

    home: str
    app: str
    source: str | None
    revision: str | None = None
    clean: bool = False
    git: bool = False
    ready_timeout: float = 60.0
    build_timeout: float = 15 * 60.0
    node: str = "platform"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        return cls(**json.loads(text))


class Relayed(KitError):
    """The push process could not start the push; its reason and exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StreamClosed(KitError):
    """The client stopped following; the deployment goes on without it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def ctrl_c_message(dep_id: str | None) -> str:
    """What the 0.9.8 CLI said when its log stream was closed with Ctrl-C."""
    return (
        "You've closed your log stream with Ctrl-C, but the deployment is still running "
        "in the background.\nIf you want to continue following your deployment, try:\n"
        f"dotkit dlogs {dep_id or 'latest'}"
    )


def lost_message(dep_id: str | None) -> str:
    return (
        "The log stream was lost (its output was closed), but the deployment is still "
        "running in the background.\nIf you want to continue following your deployment, "
        f"try:\ndotkit dlogs {dep_id or 'latest'}"
    )


# -- the client's side --------------------------------------------------------------------


def launch(
    layout: Layout, job: Job, echo: Echo, before: Callable[[], None] = lambda: None
) -> Deployment:
    """Start the push in its own process, call ``before`` (the command's heading), and
    relay the push's log to ``echo``; its record.

    Raises :class:`PushFailed` when it did not deploy, :class:`StreamClosed` when
    this side stopped following (Ctrl-C, a broken pipe) while it goes on."""
    app = layout.app(job.app)
    app.root.mkdir(parents=True, exist_ok=True)
    errors = os.open(app.root / "push.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "kit.sandbox.push.background", job.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,  # Ctrl-C and a closed terminal stay on this side
        )
    finally:
        os.close(errors)
    assert worker.stdout is not None
    with worker.stdout as stream:
        try:
            before()
        except BrokenPipeError:
            _quiet_stdout()
            raise StreamClosed(lost_message(await_id(lines(stream))), 1) from None
        return follow(lines(stream), echo, job, later=lambda: lines(stream))


def lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\n")


def await_id(stream: Iterator[str]) -> str | None:
    """Read on (quietly) until the push names its deployment, so that what this side
    says names it too; None if it ends first or Ctrl-C comes again."""
    try:
        for line in stream:
            kind, _, rest = line.partition(" ")
            if kind == "id":
                return rest
            if kind in ("done", "failed", "error"):
                return None
    except KeyboardInterrupt:
        pass
    return None


def follow(
    stream: Iterator[str],
    echo: Echo,
    job: Job,
    later: Callable[[], Iterator[str]] | None = None,
) -> Deployment:
    """Relay the push process's lines; what it ended with. ``later`` gives the lines
    still to come after this side stops relaying (to learn the deployment's id)."""
    dep_id: str | None = None
    try:
        for line in stream:
            kind, _, rest = line.partition(" ")
            if kind == "id":
                dep_id = rest
            elif kind == "log":
                echo(rest)
            elif kind == "done":
                return Deployment.from_data(json.loads(rest), "the push process", "")
            elif kind == "failed":
                data = json.loads(rest)
                record = data.get("record")
                parsed = Deployment.from_data(record, "the push process", "") if record else None
                raise PushFailed(str(data["message"]), parsed)
            elif kind == "error":
                data = json.loads(rest)
                raise Relayed(str(data["message"]), int(data["exit"]))
    except KeyboardInterrupt:
        dep_id = dep_id or (await_id(later()) if later else None)
        raise StreamClosed(ctrl_c_message(dep_id), EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _quiet_stdout()
        dep_id = dep_id or (await_id(later()) if later else None)
        raise StreamClosed(lost_message(dep_id), 1) from None
    where = f"dotkit -A {job.app} dlogs {dep_id or 'latest'}"
    raise OperationFailed(f"the push process ended without saying how the push went; see {where}")


def _quiet_stdout() -> None:
    """After a broken pipe, send what is left for standard output nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def inline(
    layout: Layout, job: Job, echo: Echo, before: Callable[[], None] = lambda: None
) -> Deployment:
    """The push in this process (for tests of the commands, with fakes at the seams)."""
    from kit.sandbox.push.orchestrate import push

    before()
    return push(layout, job.app, Path(job.source) if job.source else None, echo=echo,
                revision=job.revision, clean=job.clean, git=job.git,
                ready_timeout=job.ready_timeout, build_timeout=job.build_timeout,
                node=job.node)  # fmt: skip


# -- the push process's side -----------------------------------------------------------


class Teller:
    """Writes the protocol's lines; once the client is gone, writes nothing more."""

    def __init__(self, out: IO[str]) -> None:
        self.out: IO[str] | None = out

    def __call__(self, kind: str, text: str) -> None:
        if self.out is None:
            return
        try:
            self.out.write(f"{kind} {text}\n")
            self.out.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.out = None  # the client went away; the push goes on


def run(job: Job, tell: Teller) -> int:
    from kit.sandbox.push.orchestrate import push

    layout = Layout(Path(job.home))
    try:
        record = push(layout, job.app, Path(job.source) if job.source else None,
                      revision=job.revision, clean=job.clean, git=job.git,
                      ready_timeout=job.ready_timeout, build_timeout=job.build_timeout,
                      node=job.node, echo=lambda line: tell("log", line),
                      started=lambda dep_id: tell("id", dep_id))  # fmt: skip
    except PushFailed as exc:
        data: dict[str, Any] = {
            "message": str(exc),
            "record": exc.record.to_data() if exc.record else None,
        }
        tell("failed", json.dumps(data))
        return exc.exit_code
    except KitError as exc:
        tell("error", json.dumps({"message": str(exc), "exit": exc.exit_code}))
        return exc.exit_code
    tell("done", json.dumps(record.to_data()))
    return 0


def main(argv: list[str]) -> int:
    import signal

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # no terminal of ours can hang up on us
    if len(argv) != 1:
        print("usage: python -m kit.sandbox.push.background JOB_JSON", file=sys.stderr)
        return 2
    return run(Job.from_json(argv[0]), Teller(sys.stdout))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
