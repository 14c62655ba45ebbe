"""Converting a nodeSocket app to a dotCloud app, in memory.

:func:`convert_app` takes what the shell read from disk (one :class:`GearInput`
per Gear) and returns a :class:`Conversion`: the services, the files to write,
one report row per source key, and every finding. It raises
:class:`~kit.errors.InputError` carrying all the errors at once when the app
cannot be converted, so nothing is ever written from a half-understood app.
"""

from collections.abc import Sequence
from typing import NamedTuple

from kit.convert.gear import GearResult, Options, convert_gear
from kit.convert.gears import GearInput
from kit.convert.migration import GUIDE_TERMS, LOSSY_ACTIONS, CodeEdit, ReportRow
from kit.convert.naming import assign_service_names
from kit.convert.render import ServicePlan, key_lines, render_build_file
from kit.convert.rows import PendingRow
from kit.convert.torque import parse_torque
from kit.errors import InputError
from kit.files import OutFile
from kit.findings import Finding, sorted_findings
from kit.platform import judge, ports
from kit.platform.facts import BUILD_FILE, NODE_VERSIONS, TORQUE_FILE

# Errors in what the conversion reads stop it; errors the platform would meet in the
# code (a port, a Node.js version) are reported with the result, as verify reports them.
CODE_RULES = frozenset(ports.SEVERITIES) | frozenset(judge.SEVERITIES)


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
    if options.node_version is not None and options.node_version not in NODE_VERSIONS:
        raise InputError(
            f"node_version {options.node_version!r} is not one the platform offers "
            f"({', '.join(NODE_VERSIONS)})"
        )
    names = assign_service_names([g.dirname for g in gears])
    converted: list[GearResult] = []
    secrets: set[str] = set()
    for gear, name in zip(gears, names, strict=True):
        torque_path = _join(gear.approot, TORQUE_FILE)
        torque, parse_findings = parse_torque(gear.torque, torque_path)
        findings.extend(parse_findings)
        if torque is None:
            continue
        result = convert_gear(gear, name.name, torque, options, findings, secrets)
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
                    PendingRow(
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
    errors = [f for f in findings if f.severity == "error" and f.rule not in CODE_RULES]
    if errors:
        raise InputError(
            f"{len(errors)} problem{'s stop' if len(errors) != 1 else ' stops'} the conversion; "
            "nothing was written",
            sorted_findings(findings),
        )
    return _assemble(converted, options, findings, secrets)


def _assemble(
    gears: list[GearResult], options: Options, findings: list[Finding], secrets: set[str]
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


__all__ = [
    "LOSSY_ACTIONS",
    "Conversion",
    "GearInput",
    "Options",
    "ReportRow",
    "convert_app",
]
