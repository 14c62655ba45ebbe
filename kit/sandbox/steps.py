"""``python3 -m kit.sandbox.steps``: a data service's one-time steps, in one container.

A MySQL or PostgreSQL service is initialised by a few commands in a row
(:func:`kit.sandbox.datastores.init_steps`), some of them fed a password on
standard input. Run one container per command and a Docker engine with the
``vfs`` storage driver copies the image for each: minutes for a database. So
the push starts one container running this module, which reads the steps as
JSON on its standard input (never on a command line: the inputs hold the
password), runs them in turn with their output passed through, and stops at
the first that fails, saying which on standard error and exiting with its
status. Runs inside containers: the standard library only, and no other kit
module (a step is anything with :class:`kit.sandbox.datastores.Step`'s two
fields; that module is carried into the platform image on its own, so it
cannot import this one either).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import IO, NamedTuple, Protocol


class AStep(Protocol):
    @property
    def argv(self) -> tuple[str, ...]: ...
    @property
    def input(self) -> bytes | None: ...


class Step(NamedTuple):
    argv: tuple[str, ...]
    input: bytes | None = None


def encode(steps: Sequence[AStep]) -> bytes:
    """The steps as this module reads them."""
    return json.dumps(
        [
            {
                "argv": list(step.argv),
                "input": None if step.input is None else base64.b64encode(step.input).decode(),
            }
            for step in steps
        ]
    ).encode()


def decode(data: bytes) -> list[Step]:
    """:func:`encode`'s steps back; ValueError if ``data`` is not a list of steps."""
    items = json.loads(data)
    if not isinstance(items, list):
        raise ValueError("expected a list of steps")
    steps = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"a step must be an object, not {item!r}")
        argv, given = item.get("argv"), item.get("input")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError(f"a step's argv must be a non-empty list of strings: {argv!r}")
        if given is not None and not isinstance(given, str):
            raise ValueError("a step's input must be base64 text or null")
        steps.append(Step(tuple(argv), None if given is None else base64.b64decode(given)))
    return steps


def run(steps: Sequence[AStep], err: IO[str]) -> int:
    """Each step in turn; 0, or the status of the first that failed (said on ``err``)."""
    for step in steps:
        name = step.argv[0].rsplit("/", 1)[-1]
        try:
            if step.input is None:
                done = subprocess.run(step.argv, stdin=subprocess.DEVNULL, check=False)
            else:
                done = subprocess.run(step.argv, input=step.input, check=False)
        except OSError as exc:
            print(f"dotkit: `{name}` could not start: {exc.strerror}", file=err)
            return 127
        if done.returncode != 0:
            print(f"dotkit: `{name}` exited with status {done.returncode}", file=err)
            return done.returncode if done.returncode > 0 else 1
    return 0


def main() -> int:
    try:
        steps = decode(sys.stdin.buffer.read())
    except ValueError as exc:
        print(f"dotkit: steps: {exc}", file=sys.stderr)
        return 2
    return run(steps, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
