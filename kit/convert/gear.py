"""One Gear to one nodejs service, step by step.

The steps read like the report they produce: the Gear's files (a supervisord.conf
the conversion would replace, the start script), its ``env`` (normalised names,
quoted values, port settings left behind), the start command, its ports (a Gear
serving TCP gets one), the Node.js version, and then the code: the port rule
with its fixes, and the other rules as findings.
"""

from difflib import get_close_matches
from typing import NamedTuple

from kit.convert.code import GearCode, join
from kit.convert.codecheck import review_code, review_packages
from kit.convert.codeports import TCP_PORT_ENV, TCP_PORT_NAME, review_ports
from kit.convert.environment import environment as read_environment
from kit.convert.gears import GearInput
from kit.convert.migration import GUIDE_PORTS, CodeEdit
from kit.convert.nodever import choose_node_version
from kit.convert.render import ServicePlan, UncarriableValue, render_supervisord
from kit.convert.rows import PendingRow, Rows
from kit.convert.torque import Torque
from kit.files import OutFile
from kit.findings import Finding
from kit.js.packages import read_package
from kit.platform.facts import BUILD_FILE, ENVIRONMENT_JSON, HTTP_PORT, SUPERVISORD_FILE
from kit.platform.model import Service

SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")


class Options(NamedTuple):
    node_version: str | None = None  # None: from engines.node, else the default
    fix: bool = False
    source_name: str = "app"


class GearResult(NamedTuple):
    source: GearInput
    service: str
    torque: Torque
    plan: ServicePlan
    conf: OutFile
    rows: list[PendingRow]
    edits: list[CodeEdit]


def _line(torque: Torque, key: str) -> int | None:
    pos = torque.positions.get(key)
    return pos.line if pos else None


def _check_files(gear: GearInput, torque: Torque, findings: list[Finding]) -> bool:
    ok = True
    if SUPERVISORD_FILE in gear.files:
        findings.append(
            Finding(
                "supervisord-exists",
                "error",
                join(gear.approot, SUPERVISORD_FILE),
                None,
                None,
                "the Gear already has a supervisord.conf, which the conversion would replace",
                "rename or remove it; the conversion writes one from the .torque",
            )
        )
        ok = False
    if torque.start not in gear.files:
        candidates = sorted(p for p in gear.files if p.endswith(SCRIPT_SUFFIXES))
        close = get_close_matches(torque.start, candidates, n=1)
        pos = torque.value_positions["start"]
        findings.append(
            Finding(
                "start-missing",
                "error",
                torque.path,
                pos.line,
                pos.column,
                f'"start" names {torque.start}, which is not in the Gear',
                (f"did you mean {close[0]}? " if close else "")
                + "give the path of the entry script relative to the Gear folder",
            )
        )
        ok = False
    return ok


def _command(rows: Rows, findings: list[Finding], conf_path: str) -> str | None:
    torque = rows.torque
    argv = ("node", torque.start, *torque.parameters)
    try:
        conf_text, command_line = render_supervisord(argv, source=torque.path)
    except UncarriableValue as exc:
        pos = torque.positions.get("parameters") or torque.positions["start"]
        findings.append(
            Finding(
                "supervisord-value",
                "error",
                torque.path,
                pos.line,
                pos.column,
                f"{exc.value!r} cannot be passed on the command line: {exc.reason}",
                "remove the line break, or read the value from an environment variable",
            )
        )
        return None
    target = (conf_path, None, command_line)
    rows.add(
        "start",
        "converted",
        torque.start,
        f"command = node {torque.start}",
        _line(torque, "start"),
        target,
        "supervisord starts the entry script with node",
    )
    if torque.parameters:
        rows.add(
            "parameters",
            "converted",
            " ".join(torque.parameters),
            "appended to the command",
            _line(torque, "parameters"),
            target,
            "parameters become the script's arguments",
        )
    return conf_text


def _route(rows: Rows, tcp: bool) -> None:
    torque = rows.torque
    if torque.route is None:
        return
    line = _line(torque, "route")
    if tcp:
        rows.add(
            "route",
            "changed",
            torque.route,
            f"ports: {TCP_PORT_NAME}: tcp",
            line,
            (BUILD_FILE, (rows.service, "ports", TCP_PORT_NAME), None),
            "the Gear serves TCP: the platform assigns the port, read it from "
            f"{TCP_PORT_ENV} or {ENVIRONMENT_JSON}",
            GUIDE_PORTS,
        )
    else:
        rows.add(
            "route",
            "dropped",
            torque.route or '""',
            "",
            line,
            (None, None, None),
            f"dotCloud's router sends HTTP to port {HTTP_PORT} of every instance; there is no "
            "route to set",
            GUIDE_PORTS,
        )


def _port_reads(code: GearCode) -> dict[str, str]:
    """Environment variables the code reads a port from, with where it listens."""
    reads: dict[str, str] = {}
    for path, listen in code.listens():
        name = listen.port.env_name
        if name is not None and name not in reads:
            reads[name] = f"{path}:{listen.line}"
    return reads


def convert_gear(
    gear: GearInput,
    service: str,
    torque: Torque,
    options: Options,
    findings: list[Finding],
    secrets: set[str],
) -> GearResult | None:
    """The Gear as a service plan, its supervisord.conf, report rows and code edits;
    None when an error (added to ``findings``) stops it."""
    rows = Rows(gear, service, torque)
    files_ok = _check_files(gear, torque, findings)
    code = GearCode(gear)
    environment = read_environment(rows, findings, secrets, _port_reads(code))
    conf_path = join(gear.approot, SUPERVISORD_FILE)
    conf_text = _command(rows, findings, conf_path)
    if conf_text is None:
        return None
    tcp = code.serves_tcp
    _route(rows, tcp)
    package_path = join(gear.approot, "package.json")
    package = (
        read_package(dict(gear.data)["package.json"]) if "package.json" in dict(gear.data) else None
    )
    choice = choose_node_version(package, options.node_version, package_path)
    findings.extend(choice.findings)
    if choice.source == "engines.node" and package is not None:
        rows.add(
            "engines.node",
            "changed" if choice.findings else "converted",
            package.engines_node or "",
            f"config: node_version: {choice.version}",
            choice.line,
            (BUILD_FILE, (service, "config", "node_version"), None),
            choice.reason,
            source_path=package_path,
        )
    if not (files_ok and environment.ok):
        return None
    ports = ((TCP_PORT_NAME, "tcp"),) if tcp else ()
    plan = ServicePlan(
        name=service,
        approot=gear.approot,
        node_version=choice.version,
        environment=tuple(environment.values),
        ports=ports,
        argv=("node", torque.start, *torque.parameters),
        secret_keys=frozenset(environment.secret_keys),
    )
    judged = Service(
        name=service,
        type="nodejs",
        approot=gear.approot,
        line=None,
        instances=1,
        ports=dict(ports),
        environment=dict(environment.values),
        process=None,
        processes={},
        approot_ok=True,
        config={"node_version": choice.version},
    )
    review = review_ports(
        code, gear=gear.dirname, service=judged, settings=environment.settings, fix=options.fix
    )
    findings.extend(review.findings)
    rows.rows.extend(PendingRow(r) for r in review.rows)
    entry = code.entry(torque.start)
    findings.extend(
        review_code(
            code, service=judged, settings=environment.settings, entries=[entry] if entry else []
        )
    )
    findings.extend(review_packages(gear, package, choice.version))
    return GearResult(
        gear, service, torque, plan, OutFile(conf_path, conf_text.encode()), rows.rows, review.edits
    )
