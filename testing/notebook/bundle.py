"""A support bundle written by ``dotkit repro``, opened as a colleague would open it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from .reports import Findings
from .tables import Shown, Table


class Bundle(Shown):
    """The files of ``repro-TICKET.zip``, read without unpacking them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.files = {
                info.filename: archive.read(info)
                for info in archive.infolist()
                if not info.is_dir()
            }
        self.prefix = path.stem + "/"

    def names(self) -> list[str]:
        """The files, without the bundle's top folder."""
        return [name.removeprefix(self.prefix) for name in self.files]

    def text(self, name: str) -> str:
        return self.files[self.prefix + name].decode("utf-8", errors="replace")

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))

    def findings(self) -> Findings:
        data = self.json("findings.json")
        return Findings.from_json(
            data["findings"], f"the bundle's findings.json ({self.path.name})"
        )

    def section(self, name: str, heading: str) -> str:
        """One ``## heading`` section of a Markdown file of the bundle."""
        text = self.text(name)
        start = text.find(f"## {heading}")
        if start < 0:
            raise KeyError(heading)
        end = text.find("\n## ", start + 1)
        return text[start : end if end >= 0 else None].strip()

    def table(self) -> Table:
        def what(name: str) -> str:
            return next((v for k, v in HOLDS.items() if name.startswith(k)), "")

        return Table(
            ["file", "what it holds"],
            [(name, what(name)) for name in self.names()],
            title=f"{self.path.name}: {len(self.files)} files",
        )


# What each file of a bundle holds (docs/support.md has the same table).
HOLDS = {
    "summary.md": "the verdict, the findings that explain it, the probes, what to run next",
    "summary.html": "the same summary, to open in a browser",
    "repro.json": "the ticket, the verdict and the commands, for programs",
    "findings.json": "every finding of dotkit verify",
    "probes.json": "what each service answered",
    "versions.json": "the kit, node, npm, supervisord, the backend, the OS",
    "migration-report": "what became of each .torque key",
    "deployment.log": "the push's log",
    "build.log": "the build steps alone",
    "logs/": "the last lines of each log of each running instance",
    "environment/": "each instance's environment.json, secrets masked",
}
