"""Applications and their deployments, on disk.

The records are typed (:mod:`kit.sandbox.records`); this module reads and writes
their files (and :func:`read_record` and :func:`write_json` serve the other state
files: :mod:`kit.sandbox.runtime`, :mod:`kit.sandbox.folders`). Every write goes to
a temporary file that is renamed into place, so a crash never leaves half a file,
and state files are readable by their owner only (they hold the data services'
passwords). Reading never writes: assigning a port or
a deployment number is a change of the record that its caller saves.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kit.errors import OperationFailed, UsageError
from kit.sandbox.fields import StateError, parse_json
from kit.sandbox.layout import AppLayout, Layout, check_app_name
from kit.sandbox.records import DEPLOYMENT_ID, AppRecord, Deployment
from kit.sandbox.rundir import ensure_home

T = TypeVar("T")


class SaveFailed(OperationFailed):
    """A state file could not be written (a full disk, say); the old one is as it was."""


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise SaveFailed(f"could not save {path}: {exc.strerror or exc}; it is unchanged") from None


def read_record(path: Path, parse: Callable[[object, str, str], T], hint: str) -> T:
    return parse(parse_json(path, hint), str(path), hint)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- applications ---------------------------------------------------------------------------


def app_hint(name: str) -> str:
    return f"fix it, or start the application over with: dotkit -A {name} destroy"


def create_app(
    layout: Layout,
    name: str,
    *,
    now: Callable[[], float] = time.time,
    backend: str | None = None,
) -> AppRecord:
    check_app_name(name)
    ensure_home(layout)  # where the sandbox begins: the owner's alone from the start
    app = layout.app(name)
    if app.meta.exists():
        raise UsageError(f'application "{name}" already exists; pick another name')
    record = AppRecord(name=name, created=now(), backend=backend)
    save_app(layout, record)
    return record


def require_app(layout: Layout, name: str) -> None:
    """That ``name`` exists (without reading it: a damaged app can still be destroyed)."""
    if not layout.app(check_app_name(name)).meta.is_file():
        raise UsageError(f'there is no application "{name}"; create it with: dotkit create {name}')


def load_app(layout: Layout, name: str) -> AppRecord:
    require_app(layout, name)
    path = layout.app(name).meta
    record = read_record(path, AppRecord.from_data, app_hint(name))
    if record.name != name:
        raise StateError(f'{path}: "name" should be "{name}", the folder\'s name; {app_hint(name)}')
    return record


def save_app(layout: Layout, record: AppRecord) -> None:
    write_json(layout.app(record.name).meta, record.to_data())


def list_apps(layout: Layout) -> list[str]:
    if not layout.apps.is_dir():
        return []
    return sorted(p.name for p in layout.apps.iterdir() if (p / "app.json").is_file())


# -- deployments ----------------------------------------------------------------------------


def deployment_path(app: AppLayout, dep_id: str) -> Path:
    return app.deployments / f"{dep_id}.json"


def deployment_log(app: AppLayout, dep_id: str) -> Path:
    return app.deployments / f"{dep_id}.log"


def load_deployment(app: AppLayout, dep_id: str) -> Deployment:
    return read_record(deployment_path(app, dep_id), Deployment.from_data, app_hint(app.name))


def save_deployment(app: AppLayout, record: Deployment) -> None:
    write_json(deployment_path(app, record.id), record.to_data())


def list_deployments(app: AppLayout) -> list[Deployment]:
    if not app.deployments.is_dir():
        return []
    ids = [p.stem for p in app.deployments.glob("*.json") if DEPLOYMENT_ID.fullmatch(p.stem)]
    return sorted((load_deployment(app, i) for i in ids), key=lambda r: r.number)


def find_deployment(app: AppLayout, ref: str) -> Deployment:
    records = list_deployments(app)
    if not records:
        raise UsageError(f'application "{app.name}" has no deployments yet; run dotkit push')
    if ref == "latest":
        return records[-1]
    for record in records:
        if ref in (record.id, str(record.number)):
            return record
    raise UsageError(f"no deployment {ref!r}; dotkit dlist shows them")
