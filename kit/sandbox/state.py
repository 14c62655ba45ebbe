"""Applications, deployments and connected folders, as small JSON files.

Every write goes to a temporary file that is renamed into place, so a crash
never leaves half a file.
"""

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from kit.errors import UsageError
from kit.platform.facts import CLI_VERSION, CONFIG_DIR
from kit.sandbox.layout import AppLayout, Layout, check_app_name

MAX_PARENTS = 256
TCP_PORT_BASE = 42800


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_app(layout: Layout, name: str) -> dict[str, Any]:
    check_app_name(name)
    app = layout.app(name)
    if app.meta.exists():
        raise UsageError(f'application "{name}" already exists; pick another name')
    data = {
        "name": name,
        "created": time.time(),
        "http_ports": {},
        "tcp_ports": {},
        "env": {},
        "scale": {},
        "current": None,
        "next_deployment": 1,
    }
    write_json(app.meta, data)
    return data


def load_app(layout: Layout, name: str) -> dict[str, Any]:
    app = layout.app(name)
    if not app.meta.is_file():
        raise UsageError(f'there is no application "{name}"; create it with: dotkit create {name}')
    data: dict[str, Any] = read_json(app.meta)
    return data


def save_app(layout: Layout, data: dict[str, Any]) -> None:
    write_json(layout.app(data["name"]).meta, data)


def list_apps(layout: Layout) -> list[str]:
    if not layout.apps.is_dir():
        return []
    return sorted(p.name for p in layout.apps.iterdir() if (p / "app.json").is_file())


def http_port(layout: Layout, data: dict[str, Any], service: str) -> int:
    ports: dict[str, int] = data["http_ports"]
    if service not in ports:
        ports[service] = free_port()
        save_app(layout, data)
    return ports[service]


def tcp_port(layout: Layout, data: dict[str, Any], key: str) -> int:
    ports: dict[str, int] = data["tcp_ports"]
    if key not in ports:
        ports[key] = TCP_PORT_BASE + len(ports)
        save_app(layout, data)
    return ports[key]


# -- deployments -------------------------------------------------------------------------


def deployment_path(app: AppLayout, dep_id: str) -> Path:
    return app.deployments / f"{dep_id}.json"


def deployment_log(app: AppLayout, dep_id: str) -> Path:
    return app.deployments / f"{dep_id}.log"


def list_deployments(app: AppLayout) -> list[dict[str, Any]]:
    if not app.deployments.is_dir():
        return []
    records = [read_json(p) for p in app.deployments.glob("*.json")]
    return sorted(records, key=lambda r: r["number"])


def find_deployment(app: AppLayout, ref: str) -> dict[str, Any]:
    records = list_deployments(app)
    if not records:
        raise UsageError(f'application "{app.name}" has no deployments yet; run dotkit push')
    if ref == "latest":
        return records[-1]
    for record in records:
        if ref in (record["id"], str(record["number"])):
            return record
    raise UsageError(f"no deployment {ref!r}; dotkit dlist shows them")


# -- connected folders -------------------------------------------------------------------


def find_connected(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``.dotcloud/config`` at or above ``start``, as the real CLI looks."""
    here = start.resolve()
    for folder in [here, *here.parents][:MAX_PARENTS]:
        config = folder / CONFIG_DIR / "config"
        if config.is_file():
            try:
                return folder, read_json(config)
            except (OSError, ValueError):
                raise UsageError(f"{config} is not valid JSON; run dotkit connect again") from None
    return None


def connect_folder(folder: Path, app: str, protocol: str = "rsync") -> Path:
    config = folder / CONFIG_DIR / "config"
    write_json(
        config,
        {
            "application": app,
            "version": CLI_VERSION,
            "push_protocol": protocol,
            "push_branch": None,
        },
    )
    return config


def disconnect_folder(folder: Path) -> bool:
    config = folder / CONFIG_DIR / "config"
    if not config.exists():
        return False
    config.unlink()
    if not any(config.parent.iterdir()):
        config.parent.rmdir()
    return True
