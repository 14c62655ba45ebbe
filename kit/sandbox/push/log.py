"""The deployment log, in the platform's style, to its file and to the terminal.

``HH:MM:SS.ffffff: ---> Building the application...`` for the whole deployment,
``HH:MM:SS.ffffff: [www.0] Launching...`` for one service or instance. The lines
are what people, the docs and the notebooks read: their wording is kept as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

Echo = Callable[[str], None]


class DeployLog:
    def __init__(self, path: Path, echo: Echo | None, now: Callable[[], float]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle: TextIO = path.open("a", encoding="utf-8")
        self.echo = echo
        self.now = now

    def __call__(self, message: str, who: str | None = None) -> None:
        if self.handle.closed:
            return  # a line after the end (an interrupted push's last words) is dropped
        stamp = datetime.fromtimestamp(self.now()).strftime("%H:%M:%S.%f")
        prefix = f"[{who}] " if who else "---> "
        for line in message.splitlines() or [""]:
            text = f"{stamp}: {prefix}{line}"
            self.handle.write(text + "\n")
            self.handle.flush()
            if self.echo:
                self.echo(text)

    def close(self) -> None:
        self.handle.close()
