"""What every step of a push is given: the request, where things are, the seams, the log,
and the journal of what the push has done so far."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import OperationFailed
from kit.platform.model import App
from kit.sandbox.backend import boxed
from kit.sandbox.dockerbox import DockerTarget
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.push.log import DeployLog
from kit.sandbox.records import AppRecord, Deployment, Move
from kit.sandbox.seams import Seams
from kit.sandbox.state import save_deployment


class PushFailed(OperationFailed):
    """The push did not deploy; the previous revision keeps serving."""

    exit_code = 2  # what the 0.9.8 CLI exited with when a deployment failed (deploy_fail)

    def __init__(self, message: str, record: Deployment | None = None) -> None:
        super().__init__(message)
        self.record = record


@dataclass(frozen=True)
class Request:
    """What was asked: new code from ``source``, or a stored ``revision`` again."""

    source: Path | None
    revision: str | None = None
    git: bool = False
    clean: bool = False
    ready_timeout: float = 60.0
    build_timeout: float = 15 * 60.0
    node: str = "platform"  # "platform": config: node_version's build; "host": this machine's


class Journal:
    """The deployment's record, saved each time it changes.

    Each step writes what it is about to do before it does it (a container about
    to start, ``~/data`` about to move, a service about to switch), so that a push
    killed at any point can be undone by :mod:`kit.sandbox.push.recover`.
    """

    def __init__(self, app: AppLayout, record: Deployment) -> None:
        self.app = app
        self.record = record
        self.committed = False  # the app record names the new containers: no going back
        save_deployment(app, record)

    def update(self, **changes: Any) -> None:
        self.record = dataclasses.replace(self.record, **changes)
        save_deployment(self.app, self.record)

    def starting(self, cid: str) -> None:
        self.update(new_containers=(*self.record.new_containers, cid))

    def moving(self, move: Move) -> None:
        self.update(moves=(*self.record.moves, move))

    def switching(self, service: str) -> None:
        if service not in self.record.switched:
            self.update(switched=(*self.record.switched, service))


@dataclass(frozen=True)
class Context:
    """Where the push happens and with what; the same for every step."""

    layout: Layout
    app: AppLayout
    backend: str
    request: Request
    seams: Seams
    log: DeployLog
    journal: Journal
    docker: DockerTarget | None = None  # the docker backend's engine and image

    @property
    def dep_id(self) -> str:
        return self.journal.record.id

    @property
    def netns(self) -> bool:
        return boxed(self.backend)


@dataclass(frozen=True)
class Plan:
    """The checked app of this revision and the app record it deploys with (ports and
    passwords assigned)."""

    app: App
    revision: str
    record: AppRecord

    @property
    def counts(self) -> dict[str, int]:
        return {s.name: self.record.instances(s) for s in self.app.code_services}

    @property
    def tcp_ports(self) -> dict[str, int]:
        return dict(self.record.tcp_ports)
