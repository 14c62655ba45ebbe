"""Converting a nodeSocket app to a dotCloud app, in memory.

:func:`convert_app` takes what the shell read from disk (one :class:`GearInput`
per Gear) and returns a :class:`Conversion`: the services, the files to write,
one report row per source key, and every finding. It raises
:class:`~kit.errors.InputError` carrying all the errors at once when the app
cannot be converted, so nothing is ever written from a half-understood app.
"""

from collections.abc import Sequence
from typing import NamedTuple

from kit.convert.codeports import TCP_PORT_ENV, TCP_PORT_NAME, Script, review_code
from kit.convert.migration import (
    GUIDE_CONFIG,
    GUIDE_PORTS,
    GUIDE_TERMS,
    LOSSY_ACTIONS,
    Action,
    CodeEdit,
    ReportRow,
)
from kit.convert.naming import assign_service_names
from kit.convert.render import (
    ServicePlan,
    UncarriableValue,
    key_lines,
    render_build_file,
    render_supervisord,
)
from kit.convert.torque import EnvVar, Torque, parse_torque
from kit.errors import InputError
from kit.files import OutFile
from kit.findings import Finding, has_errors, sorted_findings
from kit.js.analysis import analyze_js
from kit.platform.facts import (
    BUILD_FILE,
    CONVERT_NODE_VERSION,
    HTTP_PORT,
    NODE_VERSIONS,
    SUPERVISORD_FILE,
    TORQUE_FILE,
)
from kit.platform.names import env_key_problem, normalize_env_key
from kit.secrets import has_secret, is_secret_key, shown_value


class GearInput(NamedTuple):
    """One Gear as read from disk: its directory, ``.torque`` and code."""

    dirname: str
    approot: str
    torque: bytes
    files: frozenset[str]
    scripts: tuple[tuple[str, bytes], ...] = ()


class Options(NamedTuple):
    node_version: str = CONVERT_NODE_VERSION
    fix: bool = False
    source_name: str = "app"


class Conversion(NamedTuple):
    services: tuple[ServicePlan, ...]
    files: tuple[OutFile, ...]
    removed: tuple[str, ...]
    rows: tuple[ReportRow, ...]
    findings: tuple[Finding, ...]
    edits: tuple[CodeEdit, ...]
    secrets: frozenset[str]
    masked_build_file: str

    @property
    def lossy_rows(self) -> tuple[ReportRow, ...]:
        return tuple(row for row in self.rows if row.action in LOSSY_ACTIONS)


class _Row(NamedTuple):
    """A report row whose target line is found once the build file is rendered."""

    row: ReportRow
    target_key: tuple[str, ...] | None = None


class _Gear(NamedTuple):
    source: GearInput
    service: str
    torque: Torque
    plan: ServicePlan
    conf: OutFile
    rows: list[_Row]
    edits: list[CodeEdit]


def _join(approot: str, name: str) -> str:
    return name if approot == "." else f"{approot}/{name}"


def convert_app(
    gears: Sequence[GearInput],
    options: Options,
    *,
    root_label: str,
    root_has_build_file: bool = False,
) -> Conversion:
    """Convert every Gear; raise :class:`InputError` with all errors if any."""
    findings: list[Finding] = []
    if root_has_build_file:
        findings.append(
            Finding(
                rule="already-converted",
                severity="error",
                path=BUILD_FILE,
                line=None,
                column=None,
                message="the app already has a dotcloud.yml; it looks converted already",
                fix="convert the original nodeSocket app, or run dotkit verify on this one",
            )
        )
    if not gears:
        raise InputError(
            f"no Gears found in {root_label}",
            [
                Finding(
                    rule="no-gears",
                    severity="error",
                    path=root_label,
                    line=None,
                    column=None,
                    message="no Gear found: neither the folder nor any folder directly "
                    "inside it holds a .torque file",
                    fix="point dotkit at the nodeSocket app's root folder, the one whose "
                    "subfolders (Gear1, Gear2...) each hold a .torque",
                )
            ],
        )
    if options.node_version not in NODE_VERSIONS:
        raise InputError(
            f"node_version {options.node_version!r} is not one the platform offers "
            f"({', '.join(NODE_VERSIONS)})"
        )
    names = assign_service_names([g.dirname for g in gears])
    converted: list[_Gear] = []
    secrets: set[str] = set()
    for gear, name in zip(gears, names, strict=True):
        torque_path = _join(gear.approot, TORQUE_FILE)
        torque, parse_findings = parse_torque(gear.torque, torque_path)
        findings.extend(parse_findings)
        if torque is None:
            continue
        result = _convert_gear(gear, name.name, torque, options, findings, secrets)
        if result is not None:
            converted.append(result)
            if name.renamed:
                why = (
                    f"service names are at most 16 characters of a-z, 0-9 and _; "
                    f"{name.sanitized!r} was taken by an earlier Gear"
                    if name.collided
                    else "service names are at most 16 characters of a-z, 0-9 and _"
                )
                result.rows.insert(
                    0,
                    _Row(
                        ReportRow(
                            gear=gear.dirname,
                            service=name.name,
                            source="(Gear name)",
                            action="changed",
                            old=gear.dirname,
                            new=name.name,
                            source_path=gear.approot,
                            source_line=None,
                            target_path=BUILD_FILE,
                            target_line=None,
                            reason=why,
                            guide=GUIDE_TERMS,
                        ),
                        (name.name,),
                    ),
                )
            if name.collided:
                findings.append(
                    Finding(
                        rule="service-name-collision",
                        severity="warning",
                        path=gear.approot,
                        line=None,
                        column=None,
                        message=f"Gear {gear.dirname!r} would be service {name.sanitized!r} like "
                        f"an earlier Gear, so it became {name.name!r}",
                        fix="rename one of the Gear folders if you want a different service name",
                    )
                )
    if has_errors(findings):
        errors = [f for f in findings if f.severity == "error"]
        raise InputError(
            f"{len(errors)} problem{'s stop' if len(errors) != 1 else ' stops'} the conversion; "
            "nothing was written",
            sorted_findings(findings),
        )
    return _assemble(converted, options, findings, secrets)


def _convert_gear(  # noqa: C901 - being split into steps (issue 13)
    gear: GearInput,
    service: str,
    torque: Torque,
    options: Options,
    findings: list[Finding],
    secrets: set[str],
) -> _Gear | None:
    torque_path = torque.path
    conf_path = _join(gear.approot, SUPERVISORD_FILE)
    rows: list[_Row] = []
    ok = True

    def row(
        source: str,
        action: Action,
        old: str,
        new: str,
        line: int | None,
        target: str | None,
        key: tuple[str, ...] | None,
        reason: str,
        guide: str = GUIDE_CONFIG,
        target_line: int | None = None,
        source_path: str = torque_path,
    ) -> None:
        rows.append(
            _Row(
                ReportRow(
                    gear.dirname,
                    service,
                    source,
                    action,
                    old,
                    new,
                    source_path,
                    line,
                    target,
                    target_line,
                    reason,
                    guide,
                ),
                key,
            )
        )

    def pos_line(key: str) -> int | None:
        pos = torque.positions.get(key)
        return pos.line if pos else None

    if SUPERVISORD_FILE in gear.files:
        findings.append(
            Finding(
                rule="supervisord-exists",
                severity="error",
                path=conf_path,
                line=None,
                column=None,
                message="the Gear already has a supervisord.conf, which the conversion "
                "would replace",
                fix="rename or remove it; the conversion writes one from the .torque",
            )
        )
        ok = False
    if torque.start not in gear.files:
        candidates = sorted(p for p in gear.files if p.endswith((".js", ".mjs", ".cjs")))
        from difflib import get_close_matches

        close = get_close_matches(torque.start, candidates, n=1)
        pos = torque.value_positions["start"]
        findings.append(
            Finding(
                rule="start-missing",
                severity="error",
                path=torque_path,
                line=pos.line,
                column=pos.column,
                message=f'"start" names {torque.start}, which is not in the Gear',
                fix=(f"did you mean {close[0]}? " if close else "")
                + "give the path of the entry script relative to the Gear folder",
            )
        )
        ok = False

    # env: keys normalised, values carried as quoted strings, "port" dropped.
    environment: list[tuple[str, str]] = []
    seen: dict[str, EnvVar] = {}
    secret_keys: set[str] = set()
    for var in torque.env:
        if var.key.lower() == "port":
            row(
                f"env.{var.key}",
                "dropped",
                var.value,
                "",
                var.pos.line,
                None,
                None,
                f"HTTP services listen on port {HTTP_PORT} on dotCloud; a port setting "
                "has no meaning there",
                GUIDE_PORTS,
            )
            findings.append(
                Finding(
                    rule="port-dropped",
                    severity="info",
                    path=torque_path,
                    line=var.pos.line,
                    column=var.pos.column,
                    message=f'env "{var.key}" ({var.value}) was dropped: on dotCloud an HTTP '
                    f"service must listen on port {HTTP_PORT}, and TCP ports are assigned "
                    "by the platform",
                    fix=f"make the code listen on {HTTP_PORT} (dotkit convert --fix does it "
                    "for a literal port)",
                )
            )
            continue
        norm = normalize_env_key(var.key)
        problem = env_key_problem(norm)
        if problem:
            findings.append(
                Finding(
                    rule="env-key-invalid",
                    severity="error",
                    path=torque_path,
                    line=var.pos.line,
                    column=var.pos.column,
                    message=f'env "{var.key}" cannot become an environment variable: {problem}',
                    fix="rename the key to letters, digits, - . and _ (not starting with a digit)",
                )
            )
            ok = False
            continue
        if norm in seen:
            first = seen[norm]
            findings.append(
                Finding(
                    rule="env-key-collision",
                    severity="error",
                    path=torque_path,
                    line=var.pos.line,
                    column=var.pos.column,
                    message=f'env "{var.key}" and "{first.key}" (line {first.pos.line}) '
                    f"both become {norm}",
                    fix="rename or remove one of them",
                )
            )
            ok = False
            continue
        seen[norm] = var
        environment.append((norm, var.value))
        if has_secret(var.key, var.value):
            secrets.add(var.value)
        if is_secret_key(var.key):
            secret_keys.add(norm)
        shown = shown_value(var.key, var.value)
        notes = []
        if norm != var.key:
            notes.append(f"variable names are upper-case with _ ({var.key} -> {norm})")
        if var.source_kind != "string":
            notes.append(f"the {var.source_kind} is written as the string {shown!r}")
        row(
            f"env.{var.key}",
            "changed" if notes else "converted",
            f"{var.key}={shown}",
            f"{norm}={shown}",
            var.pos.line,
            BUILD_FILE,
            (service, "environment", norm),
            "; ".join(notes) or "carried over as is",
        )

    argv = ("node", torque.start, *torque.parameters)
    try:
        conf_text, command_line = render_supervisord(argv, source=torque_path)
    except UncarriableValue as exc:
        pos = torque.positions.get("parameters") or torque.positions["start"]
        findings.append(
            Finding(
                rule="supervisord-value",
                severity="error",
                path=torque_path,
                line=pos.line,
                column=pos.column,
                message=f"{exc.value!r} cannot be passed on the command line: {exc.reason}",
                fix="remove the line break, or read the value from an environment variable",
            )
        )
        return None
    row(
        "start",
        "converted",
        torque.start,
        f"command = node {torque.start}",
        pos_line("start"),
        conf_path,
        None,
        "supervisord starts the entry script with node",
        target_line=command_line,
    )
    if torque.parameters:
        row(
            "parameters",
            "converted",
            " ".join(torque.parameters),
            "appended to the command",
            pos_line("parameters"),
            conf_path,
            None,
            "parameters become the script's arguments",
            target_line=command_line,
        )

    scripts = [
        Script(_join(gear.approot, path), source, analyze_js(source))
        for path, source in gear.scripts
    ]
    tcp = any(s.analysis.serves_tcp for s in scripts)
    ports: tuple[tuple[str, str], ...] = ((TCP_PORT_NAME, "tcp"),) if tcp else ()
    if torque.route is not None:
        if tcp:
            row(
                "route",
                "changed",
                torque.route,
                f"ports: {TCP_PORT_NAME}: tcp",
                pos_line("route"),
                BUILD_FILE,
                (service, "ports", TCP_PORT_NAME),
                "the Gear serves TCP: the platform assigns the port, read it from "
                f"{TCP_PORT_ENV} or /home/dotcloud/environment.json",
                GUIDE_PORTS,
            )
        else:
            row(
                "route",
                "dropped",
                torque.route or '""',
                "",
                pos_line("route"),
                None,
                None,
                f"dotCloud's router sends HTTP to port {HTTP_PORT} of every instance; "
                "there is no route to set",
                GUIDE_PORTS,
            )
    if not ok:
        return None
    plan = ServicePlan(
        name=service,
        approot=gear.approot,
        node_version=options.node_version,
        environment=tuple(environment),
        ports=ports,
        argv=argv,
        secret_keys=frozenset(secret_keys),
    )
    review = review_code(
        gear=gear.dirname, service=service, scripts=scripts, tcp=tcp, fix=options.fix
    )
    findings.extend(review.findings)
    rows.extend(_Row(r) for r in review.rows)
    return _Gear(
        gear, service, torque, plan, OutFile(conf_path, conf_text.encode()), rows, review.edits
    )


def _assemble(
    gears: list[_Gear], options: Options, findings: list[Finding], secrets: set[str]
) -> Conversion:
    plans = [g.plan for g in gears]
    build_text = render_build_file(plans, source=options.source_name)
    masked = render_build_file(plans, source=options.source_name, mask=True)
    lines = key_lines(build_text)
    rows: list[ReportRow] = []
    for gear in gears:
        # Gear name first, then the .torque's keys in file order, then the code.
        ordered = sorted(
            gear.rows,
            key=lambda p: (
                p.row.source != "(Gear name)",
                p.row.source_path != gear.torque.path,
                p.row.source_line or 0,
            ),
        )
        for pending in ordered:
            r = pending.row
            if pending.target_key is not None:
                r = r._replace(target_line=lines.get(pending.target_key))
            rows.append(r)
    files = [OutFile(BUILD_FILE, build_text.encode())]
    files.extend(g.conf for g in gears)
    edits = [edit for g in gears for edit in g.edits]
    files.extend(OutFile(e.path, e.after) for e in edits)
    removed = tuple(_join(g.source.approot, TORQUE_FILE) for g in gears)
    return Conversion(
        services=tuple(plans),
        files=tuple(files),
        removed=removed,
        rows=tuple(rows),
        findings=tuple(sorted_findings(findings)),
        edits=tuple(edits),
        secrets=frozenset(secrets),
        masked_build_file=masked,
    )


__all__ = ["LOSSY_ACTIONS", "Conversion", "GearInput", "Options", "ReportRow", "convert_app"]
