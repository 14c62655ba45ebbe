"""The 0.9.8 CLI's output framing, as pure functions of what a command found.

``==>`` lines for what is happening, ``=== app`` / ``== service`` / ``=== svc.N``
headers, ``key: value`` blocks and plain tables, in the order and words the
real ``dotcloud`` printed them (``cmd_info_app``, ``cmd_info_service``,
``cmd_status``, ``cmd_dlist``). Where the sandbox has something the platform
did not (the backend, a container's home on this machine), it comes after the
real lines, never in place of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import NamedTuple


def kv(pairs: Iterable[tuple[str, str]], indent: str = "") -> list[str]:
    """``key:   value`` lines, the values aligned."""
    items = list(pairs)
    width = max((len(k) for k, _ in items), default=0) + 2
    return [f"{indent}{(k + ':').ljust(width)}{v}".rstrip() for k, v in items]


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart."""
    if not rows:
        return []
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


class ServiceRow(NamedTuple):
    name: str
    type: str
    containers: int
    memory: str  # "512M", or "N/A" where limits are not enforced
    url: str  # "-" when it has none


def info_app(
    name: str, flavor: str, revision: str | None, deployment: str | None, rows: Sequence[ServiceRow]
) -> list[str]:
    out = [f"=== {name}"]
    out += kv([
        ("flavor", flavor),
        ("cost to date", "Free"),
        ("revision", revision or "(nothing pushed yet)"),
        ("deployment", deployment or "-"),
        ("services", ""),
    ])  # fmt: skip
    if not rows:
        out.append("Warning: It looks like you haven't deployed your application.")
        out.append("Warning: Run dotkit push to deploy and see the information about your stack.")
        return out
    header = ("name", "type", "containers", "reserved memory", "url")
    body = [(r.name, r.type, str(r.containers), r.memory, r.url) for r in sorted(rows)]
    return out + table([header, *body])


class InstanceInfo(NamedTuple):
    number: int
    host: str  # the container's host name
    container: str  # its id
    runtime: str  # "nodejs/v0.8.28"
    revision: str
    ports: Sequence[tuple[str, str]]  # (name, url) of its non-HTTP ports
    running: bool
    home: str


def info_service(
    service: str,
    type_: str,
    memory: str,
    config: Sequence[tuple[str, str]],
    urls: Sequence[str],
    instances: Sequence[InstanceInfo],
) -> list[str]:
    out = [f"== {service}"]
    shown_config = ", ".join(f"{k}: {v}" for k, v in config) or "-"
    out += kv([
        ("type", type_),
        ("instances", str(len(instances))),
        ("reserved memory", memory),
        ("config", shown_config),
        ("URLs", "N/A" if not urls else ""),
    ])  # fmt: skip
    out += [f"  - {url}" for url in urls]
    for item in instances:
        ports = ", ".join(f"{n}: {u}" for n, u in item.ports) or "-"
        out += ["", f"=== {service}.{item.number}"]
        out += kv([
            ("datacenter", "sandbox (this machine)"),
            ("host", item.host),
            ("container", item.container),
            ("service revision", item.runtime),
            ("revision", item.revision),
            ("ports", ports),
            ("running", "yes" if item.running else "no"),
            ("home", item.home),
        ])  # fmt: skip
    return out


Programs = Sequence[tuple[str, str, str]]  # (name, state, description) per program


def status(service: str, instances: Sequence[tuple[int, bool, Programs]]) -> list[str]:
    """``==> Probing status ...`` then ``www.0: up`` and, below each, its programs as
    ``supervisorctl status`` shows them."""
    out = [f'==> Probing status for service "{service}"...']
    for index, up, programs in instances:
        out.append(f"{service}.{index}: {'up' if up else 'down'}")
        out += [f"    {name:<12} {state:<9} {about}".rstrip() for name, state, about in programs]
    return out


class DeploymentRow(NamedTuple):
    started: float
    revision: str | None
    id: str
    status: str


def dlist(app: str, rows: Sequence[DeploymentRow]) -> list[str]:
    """The deployments, oldest first, then the real CLI's hints."""
    out = [f"deployment date     revision                 deploy_id [application {app}]"]
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.started))
        out.append(f"{when} {row.revision or '-':24} {row.id:<6} {row.status}")
    if len(rows) > 1:
        out += ["-- <hint> display previous deployment's logs:", f"dotkit dlogs {rows[-2].id}"]
    out += ["-- <hint> display latest deployment's logs:", "dotkit dlogs latest"]
    return out
