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
from kit.convert.gears import GearInput
from kit.convert.migration import GUIDE_CONFIG, GUIDE_PORTS, Action, CodeEdit, ReportRow
from kit.convert.nodever import choose_node_version
from kit.convert.render import ServicePlan, UncarriableValue, render_supervisord
from kit.convert.torque import EnvVar, Torque
from kit.files import OutFile
from kit.findings import Finding
from kit.js.packages import read_package
from kit.platform.facts import BUILD_FILE, ENVIRONMENT_JSON, HTTP_PORT, SUPERVISORD_FILE
from kit.platform.model import Service
from kit.platform.names import env_key_problem, normalize_env_key
from kit.platform.ports import Setting
from kit.secrets import has_secret, is_secret_key, shown_value

SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")


class Options(NamedTuple):
    node_version: str | None = None  # None: from engines.node, else the default
    fix: bool = False
    source_name: str = "app"


class PendingRow(NamedTuple):
    """A report row whose target line is found once the build file is rendered."""

    row: ReportRow
    target_key: tuple[str, ...] | None = None


class GearResult(NamedTuple):
    source: GearInput
    service: str
    torque: Torque
    plan: ServicePlan
    conf: OutFile
    rows: list[PendingRow]
    edits: list[CodeEdit]


class _Rows:
    def __init__(self, gear: GearInput, service: str, torque: Torque) -> None:
        self.gear, self.service, self.torque = gear, service, torque
        self.rows: list[PendingRow] = []

    def add(
        self,
        source: str,
        action: Action,
        old: str,
        new: str,
        line: int | None,
        target: tuple[str | None, tuple[str, ...] | None, int | None],
        reason: str,
        guide: str = GUIDE_CONFIG,
        source_path: str | None = None,
    ) -> None:
        path, key, target_line = target
        row = ReportRow(
            self.gear.dirname,
            self.service,
            source,
            action,
            old,
            new,
            source_path or self.torque.path,
            line,
            path,
            target_line,
            reason,
            guide,
        )
        self.rows.append(PendingRow(row, key))


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


class _Environment(NamedTuple):
    values: list[tuple[str, str]]
    secret_keys: set[str]
    settings: dict[str, Setting]
    ok: bool


def _drop_port(rows: _Rows, findings: list[Finding], var: EnvVar, listened: str | None) -> None:
    if listened is None:
        reason = (
            f"HTTP services listen on port {HTTP_PORT} on dotCloud; a port setting has no "
            "meaning there"
        )
    else:
        reason = (
            f"the code listens on it ({listened}); on dotCloud an HTTP server listens on "
            f"{HTTP_PORT} and a TCP port is assigned, so a port setting is not carried over"
        )
    rows.add(
        f"env.{var.key}",
        "dropped",
        var.value,
        "",
        var.pos.line,
        (None, None, None),
        reason,
        GUIDE_PORTS,
    )
    findings.append(
        Finding(
            "port-dropped",
            "info",
            rows.torque.path,
            var.pos.line,
            var.pos.column,
            f'env "{var.key}" ({var.value}) was dropped: on dotCloud an HTTP service must listen '
            f"on port {HTTP_PORT}, and TCP ports are assigned by the platform",
            f"make the code listen on {HTTP_PORT} (dotkit convert --fix does it for a literal "
            "port)",
        )
    )


def _env_error(
    findings: list[Finding], torque: Torque, var: EnvVar, message: str, fix: str
) -> None:
    rule = "env-key-collision" if "both become" in message else "env-key-invalid"
    findings.append(Finding(rule, "error", torque.path, var.pos.line, var.pos.column, message, fix))


def _environment(
    rows: _Rows, findings: list[Finding], secrets: set[str], port_reads: dict[str, str]
) -> _Environment:
    """The ``env`` keys as dotcloud.yml environment; port settings left behind."""
    torque = rows.torque
    out = _Environment([], set(), {}, True)
    seen: dict[str, EnvVar] = {}
    for var in torque.env:
        norm = normalize_env_key(var.key)
        if var.key.lower() == "port" or norm in port_reads:
            _drop_port(rows, findings, var, port_reads.get(norm))
            continue
        problem = env_key_problem(norm)
        if problem or norm in seen:
            first = seen.get(norm)
            message = (
                f'env "{var.key}" cannot become an environment variable: {problem}'
                if problem or first is None
                else f'env "{var.key}" and "{first.key}" (line {first.pos.line}) both become {norm}'
            )
            fix = (
                "rename the key to letters, digits, - . and _ (not starting with a digit)"
                if problem
                else "rename or remove one of them"
            )
            _env_error(findings, torque, var, message, fix)
            out = out._replace(ok=False)
            continue
        seen[norm] = var
        out.values.append((norm, var.value))
        out.settings[norm] = Setting(torque.path, var.pos.line, var.pos.column)
        if has_secret(var.key, var.value):
            secrets.add(var.value)
        if is_secret_key(var.key):
            out.secret_keys.add(norm)
        _env_row(rows, var, norm)
    return out


def _env_row(rows: _Rows, var: EnvVar, norm: str) -> None:
    shown = shown_value(var.key, var.value)
    notes = []
    if norm != var.key:
        notes.append(f"variable names are upper-case with _ ({var.key} -> {norm})")
    if var.source_kind != "string":
        notes.append(f"the {var.source_kind} is written as the string {shown!r}")
    rows.add(
        f"env.{var.key}",
        "changed" if notes else "converted",
        f"{var.key}={shown}",
        f"{norm}={shown}",
        var.pos.line,
        (BUILD_FILE, (rows.service, "environment", norm), None),
        "; ".join(notes) or "carried over as is",
    )


def _command(rows: _Rows, findings: list[Finding], conf_path: str) -> str | None:
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


def _route(rows: _Rows, tcp: bool) -> None:
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
    rows = _Rows(gear, service, torque)
    files_ok = _check_files(gear, torque, findings)
    code = GearCode(gear)
    environment = _environment(rows, findings, secrets, _port_reads(code))
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
