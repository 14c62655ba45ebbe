"""A deployment as the sandbox records it: ``$DOTKIT_HOME/apps/APP/deployments/dN.json``.

The record is the platform's own account of a push (the same keys as
``dotkit push --format json``): id, number, status, started, finished, revision,
backend, clean, urls, instances (``{"www.0": {cid, ready_at, ready_seconds}}``),
failed_requests, downtime (``{service: seconds}``) and error. The notebooks read
it instead of the push's log wording; the log itself is kept beside it, to be
shown as it was printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .tables import Shown, Table


class Instance(NamedTuple):
    """One container a deployment started, and when it first answered."""

    name: str  # "gear1.0"
    cid: str  # "gear1.0-d2"
    ready_at: float  # wall clock, seconds since the epoch
    ready_seconds: float  # from its start to its first answer


class Deployment(Shown):
    """One deployment's record, and the output of the command that made it (if any)."""

    def __init__(self, record: dict[str, Any], output: str = "", log: str = "") -> None:
        self.record = record
        self.output = output  # what `dotkit push` printed, both streams
        self.log = log  # the deployment's log file, as `dotkit dlogs` shows it
        self.id = str(record.get("id", "?"))
        self.number = int(record.get("number", 0))
        self.status = str(record.get("status", "?"))
        self.revision = str(record.get("revision") or "?")
        self.backend = str(record.get("backend", "?"))
        self.clean = bool(record.get("clean"))
        self.started = float(record.get("started") or 0.0)
        finished = record.get("finished")
        self.finished = float(finished) if finished is not None else None
        self.urls: dict[str, str] = dict(record.get("urls") or {})
        self.instances = tuple(
            Instance(name, str(i["cid"]), float(i["ready_at"]), float(i["ready_seconds"]))
            for name, i in sorted((record.get("instances") or {}).items())
        )
        failed = record.get("failed_requests")
        self.failed_requests = int(failed) if failed is not None else None
        self.downtime: dict[str, float] = {
            k: float(v) for k, v in (record.get("downtime") or {}).items()
        }
        self.error = str(record.get("error") or "")

    @classmethod
    def read(cls, record_file: Path, output: str = "") -> Deployment:
        log_file = record_file.with_suffix(".log")
        log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() else ""
        return cls(json.loads(record_file.read_text(encoding="utf-8")), output, log)

    @property
    def ok(self) -> bool:
        return self.status == "deployed"

    @property
    def seconds(self) -> float | None:
        """From the start of the push to the end of the deployment."""
        return None if self.finished is None else self.finished - self.started

    def instance(self, name: str) -> Instance:
        for instance in self.instances:
            if instance.name == name:
                return instance
        raise KeyError(name)

    def lines(self, *needles: str) -> list[str]:
        """The lines of the deployment's log (``dotkit dlogs``) that contain any of
        ``needles``, as printed, clock included."""
        text = self.log or self.output
        return [line for line in text.splitlines() if any(n in line for n in needles)]

    def show(self, *needles: str) -> None:
        """Print those lines."""
        for line in self.lines(*needles):
            print(line)

    def summary(self) -> str:
        took = f" in {self.seconds:.2f} s" if self.seconds is not None else ""
        return f"push {self.id} of revision {self.revision}: {self.status}{took}"

    def notes(self) -> Iterator[str]:
        if self.failed_requests is not None:
            yield f"router: {self.failed_requests} failed requests while switching"
        for service, seconds in sorted(self.downtime.items()):
            yield f"~/data: {service} was down for {seconds:.2f} s"
        if self.error:
            yield f"error: {self.error.splitlines()[0]}"

    def table(self) -> Table:
        title = "\n  ".join([self.summary(), *self.notes()])
        return Table(
            ["instance", "container", "first answer"],
            [
                (i.name, i.cid, f"{i.ready_seconds * 1000:.0f} ms after it started")
                for i in self.instances
            ],
            title=title,
        )


def records(app_home: Path) -> list[Path]:
    """The deployment records of the app whose state folder is ``app_home``, oldest first."""
    folder = app_home / "deployments"
    found = folder.glob("d*.json") if folder.is_dir() else iter(())
    return sorted(found, key=lambda p: int(p.stem[1:]) if p.stem[1:].isdigit() else 0)
