"""``apps/NAME/runtime.json``: what the platform process runs for an app, so that a new
platform process (after a crash) starts the same containers and routes again.

Written by the platform process alone; read by it on start and by a push that needs
an old container's spec (to start it again if its ``~/data`` must go back).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.sandbox.backend import ContainerSpec
from kit.sandbox.fields import Fields, StateError
from kit.sandbox.layout import AppLayout
from kit.sandbox.records import FORMAT, ROUTE, check_format, container_spec
from kit.sandbox.state import read_record, write_json


@dataclass(frozen=True)
class Route:
    listen: tuple[str, ...]
    backends: tuple[str, ...]


@dataclass(frozen=True)
class Runtime:
    """``apps/NAME/runtime.json``: what the platform process should be running for the app."""

    containers: Mapping[str, ContainerSpec] = dataclasses.field(default_factory=dict)
    routes: Mapping[str, Route] = dataclasses.field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "containers": {cid: spec._asdict() for cid, spec in self.containers.items()},
            "routes": {
                name: {"listen": list(r.listen), "backends": list(r.backends)}
                for name, r in self.routes.items()
            },
        }

    @classmethod
    def from_data(cls, data: object, where: str, hint: str) -> Runtime:
        f = Fields(data, where, hint)
        check_format(f)
        containers = {cid: container_spec(c) for cid, c in f.objects("containers").items()}
        for cid, spec in containers.items():
            if spec.cid != cid:
                raise f.fail(f"containers.{cid}", "the spec of the container named by its key")
        routes = {}
        for name, r in f.objects("routes").items():
            if not ROUTE.fullmatch(name):
                raise f.fail(f"routes.{name}", "a route named SERVICE.PORT")
            routes[name] = Route(r.text_list("listen"), r.text_list("backends"))
        return cls(containers, routes)


def load_runtime(app: AppLayout) -> Runtime:
    """What the platform process last ran for ``app`` (nothing when it never ran any)."""
    if not app.runtime.is_file():
        return Runtime()
    hint = f"the platform process cannot restore {app.name}; fix or remove the file"
    runtime = read_record(app.runtime, Runtime.from_data, hint)
    strangers = sorted(cid for cid, spec in runtime.containers.items() if spec.app != app.name)
    if strangers:
        raise StateError(f"{app.runtime}: {strangers[0]} belongs to another application; {hint}")
    return runtime


def save_runtime(app: AppLayout, runtime: Runtime) -> None:
    """Write ``runtime``, unless the app is gone (destroyed while a container stopped)."""
    if app.root.is_dir():
        write_json(app.runtime, runtime.to_data())
