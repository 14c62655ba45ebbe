"""The export's report: what of the app was carried over to the engine, and what was not.

As the conversion's report does for ``.torque`` keys, one row per thing the
platform did for the app: ``carried`` (the engine does it the same way),
``changed`` (it does it, differently: the row says how) or ``no equivalent``.
Values are never shown, so no secret can leak through the report.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from kit.export.plan import SQL_SERVICES, CodePlan, DataPlan, Plan
from kit.platform import envkeys
from kit.platform.facts import HTTP_PORT

CARRIED, CHANGED, NONE = "carried", "changed", "no equivalent"


class Row(NamedTuple):
    item: str
    outcome: str
    detail: str


_INSTANCE_ID = {
    "compose": (CHANGED, "Compose has no task slot: DOTCLOUD_SERVICE_ID is 0 in every replica"),
    "swarm": (CARRIED, "DOTCLOUD_SERVICE_ID is the task slot less one"),
    "kubernetes": (CARRIED, "DOTCLOUD_SERVICE_ID is the pod's ordinal"),
}
_DATA_DIR = {
    "compose": (CHANGED, "one named volume shared by the replicas (the platform: one each)"),
    "swarm": (CARRIED, "a volume per task slot, kept across updates"),
    "kubernetes": (CARRIED, "a PersistentVolumeClaim per pod"),
}
_PUSH = {
    "compose": (CHANGED, "`up` recreates the containers: downtime during the switch"),
    "swarm": (CHANGED, "a rolling update, one instance at a time; one instance: a short downtime"),
    "kubernetes": (CHANGED, "a rolling update of the StatefulSet, one pod at a time"),
}


def _published(plan: Plan, service: str, port: int) -> str:
    if plan.options.target == "kubernetes":
        return "a NodePort Service (its port numbers differ, as on the platform)"
    for route in plan.routes:
        if route.service == service and route.port == port:
            return f"host port {route.published}, through the router"
    return "not published"


def _code_rows(plan: Plan, code: CodePlan) -> list[Row]:
    s, target = code.service, plan.options.target
    rows = [Row(f"{s.name}: service", CARRIED, f"nodejs, an image built from {s.approot}")]
    wanted = s.node_version or ""
    if wanted == code.branch:
        rows.append(Row(f"{s.name}: node_version", CARRIED, f"{wanted}, from the platform image"))
    else:
        detail = f"{wanted} is not in the platform image; {code.branch} is used"
        rows.append(Row(f"{s.name}: node_version", CHANGED, detail))
    npm = "at image build, with a current npm (npm 1.x cannot reach today's registry)"
    rows.append(Row(f"{s.name}: npm install", CHANGED, npm))
    for hook, value in (("prebuild", s.prebuild), ("postbuild", s.postbuild)):
        if value is not None:
            rows.append(Row(f"{s.name}: {hook}", CARRIED, "run at image build, in the approot"))
    if s.postinstall is not None:
        rows.append(Row(f"{s.name}: postinstall", CARRIED, "run as each container starts"))
    if s.systempackages:
        rows.append(Row(f"{s.name}: systempackages", NONE, "not installed: add them to the image"))
    if s.environment:
        rows.append(Row(f"{s.name}: environment", CARRIED, f"{len(s.environment)} key(s)"))
    http = _published(plan, s.name, HTTP_PORT)
    if target == "kubernetes":
        http = "the Service on port 80 and the Ingress"
    rows.append(Row(f"{s.name}: HTTP on {HTTP_PORT}", CARRIED, http))
    for name, number in code.tcp:
        detail = f"PORT_{name.upper()}={number}; {_published(plan, s.name, number)}"
        if target != "kubernetes" and code.replicas > 1:
            detail += ", balanced over the instances (the platform gave each its own port)"
        rows.append(Row(f"{s.name}: port {name}", CHANGED, detail))
    for name, kind in s.ports.items():
        if kind == "udp":
            rows.append(Row(f"{s.name}: port {name}", NONE, "udp ports are not exported"))
    rows.append(Row(f"{s.name}: instances", CARRIED, f"{code.replicas} replica(s)"))
    rows.append(Row(f"{s.name}: instance number", *_INSTANCE_ID[target]))
    rows.append(Row(f"{s.name}: ~/data", *_DATA_DIR[target]))
    rows.append(Row(f"{s.name}: push", *_PUSH[target]))
    return rows


_SERVERS = {
    "redis": (CARRIED, "redis-server from Debian"),
    "mysql": (CHANGED, "MariaDB from Debian in place of MySQL, on the SQL image"),
    "postgresql": (CARRIED, "PostgreSQL from Debian, on the SQL image"),
}
_STORE = {
    "compose": "a named volume for its data",
    "swarm": "a named volume for its data",
    "kubernetes": "a PersistentVolumeClaim for its data",
}


def _data_rows(plan: Plan, data: DataPlan) -> list[Row]:
    s, target = data.service, plan.options.target
    outcome, server = _SERVERS[s.type]
    where = (
        "through its Service, inside the cluster only"
        if target == "kubernetes"
        else "on the engine's network only, not published on the host"
    )
    rows = [
        Row(f"{s.name}: {s.type}", outcome, f"{server}; {_STORE[target]}"),
        Row(f"{s.name}: password", CARRIED, f"generated, in secrets/{data.secret}"),
        Row(f"{s.name}: port {data.port_name}", CHANGED, f"{data.port} {where}"),
    ]
    if s.type in SQL_SERVICES:
        detail = f"{envkeys.DATA_LOGIN} from any host, made when the store first starts"
        rows.append(Row(f"{s.name}: login", CARRIED, detail))
    return rows


def rows(plan: Plan) -> list[Row]:
    out: list[Row] = []
    for code in plan.code:
        out += _code_rows(plan, code)
    for data in plan.data:
        out += _data_rows(plan, data)
    for skipped in plan.skipped:
        out.append(Row(f"{skipped.service.name}: {skipped.service.type}", NONE, skipped.reason))
    out.append(Row("environment: per-instance _N keys", NONE, "not set on any engine yet"))
    out.append(Row("environment: DOTCLOUD_<SVC>_SSH_*", NONE, "no SSH in the containers"))
    return out


def render_text(report: list[Row], *, target: str, output: str, next_steps: str) -> str:
    width = max((len(r.item) for r in report), default=0)
    lines = [f"Export to {target}: {output}", ""]
    for row in report:
        lines.append(f"  {row.item.ljust(width)}  {row.outcome:<13}  {row.detail}")
    counts = {o: sum(1 for r in report if r.outcome == o) for o in (CARRIED, CHANGED, NONE)}
    lines += ["", ", ".join(f"{n} {o}" for o, n in counts.items()) + ".", "", next_steps]
    return "\n".join(lines) + "\n"


def render_json(report: list[Row], *, target: str, output: str) -> str:
    document = {
        "target": target,
        "output": output,
        "rows": [r._asdict() for r in report],
    }
    return json.dumps(document, indent=2) + "\n"
