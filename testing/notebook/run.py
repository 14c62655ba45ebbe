"""Commands a notebook runs, and what they printed, as a user would see it.

Nothing here hides or rewrites output: clock times, ports, process ids and
temporary paths are printed as they are, and nbval's sanitizer
(``notebooks/sanitize.cfg``) masks them when it compares a new run with the
stored one.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

COMMAND_TIMEOUT = 300.0


class Run(NamedTuple):
    """One finished command: what was typed, its exit code and what it printed."""

    command: str
    code: int
    out: str
    err: str = ""

    def __repr__(self) -> str:
        return f"<{self.command}: exit {self.code}>"

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def text(self) -> str:
        """Both streams: standard output, then standard error."""
        return self.out + self.err

    def lines(self, *needles: str) -> list[str]:
        """The lines that contain any of ``needles`` (every line without one)."""
        return [
            line
            for line in self.text.splitlines()
            if not needles or any(needle in line for needle in needles)
        ]

    def show(self, *needles: str) -> None:
        """Print the command as typed, its exit code if not 0, and its lines (with ``needles``)."""
        print(f"$ {self.command}" + (f"    # exit {self.code}" if self.code else ""))
        for line in self.lines(*needles):
            print(line)


class Typed(Run):
    """A :class:`Run` typed at a :class:`Terminal`: already printed, so a notebook
    does not show it a second time as the cell's value."""

    __slots__ = ()

    def _ipython_display_(self) -> None:
        pass


class Reply(NamedTuple):
    """An HTTP answer from a service."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def run(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float = COMMAND_TIMEOUT
) -> Run:
    """Run ``argv`` and wait; the two streams are kept apart."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(shlex.join(argv), done.returncode, done.stdout, done.stderr)


class Terminal:
    """A shell prompt in a folder: ``term("dotkit push")`` runs the line as a user types it.

    The line goes to ``bash -c`` with the sandbox's environment (``dotkit`` on
    the ``PATH``, a fixed git identity), its two streams arrive interleaved as on a
    terminal, and it is printed after a ``$`` prompt. ``term("cd FOLDER")``
    changes the folder for the next lines.
    """

    def __init__(self, cwd: Path, env: Mapping[str, str], *, quiet: bool = False) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self.quiet = quiet

    def __call__(self, line: str, *, timeout: float = COMMAND_TIMEOUT, show: bool = True) -> Run:
        words = shlex.split(line)
        if words[:1] == ["cd"] and len(words) == 2:
            target = (self.cwd / words[1]).resolve()
            if not target.is_dir():
                raise FileNotFoundError(f"cd: {words[1]}: no such folder")
            self.cwd = target
            done = Typed(line, 0, "")
        else:
            child = subprocess.run(
                ["bash", "-c", line],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
            done = Typed(line, child.returncode, child.stdout)
        if show and not self.quiet:
            done.show()
        return done


def tool_env(base: Mapping[str, str], home: Path, bin_dir: Path) -> dict[str, str]:
    """The environment of the notebook's commands: its own ``DOTKIT_HOME``, plain output,
    ``dotkit`` first on the ``PATH``, and a fixed git author and date so commits repeat."""
    return {
        **base,
        "DOTKIT_HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '/usr/bin:/bin')}",
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "COLUMNS": "100",
        "GIT_AUTHOR_NAME": "Notebook",
        "GIT_AUTHOR_EMAIL": "notebook@example.com",
        "GIT_COMMITTER_NAME": "Notebook",
        "GIT_COMMITTER_EMAIL": "notebook@example.com",
        "GIT_AUTHOR_DATE": "2013-04-25T12:00:00Z",
        "GIT_COMMITTER_DATE": "2013-04-25T12:00:00Z",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        # A new repository's branch is main; a submodule may come from a local folder.
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "init.defaultBranch",
        "GIT_CONFIG_VALUE_0": "main",
        "GIT_CONFIG_KEY_1": "protocol.file.allow",
        "GIT_CONFIG_VALUE_1": "always",
    }
