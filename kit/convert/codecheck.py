"""What else a Gear's code does that the platform will not support, as manual steps.

The same rules as ``dotkit verify`` (:mod:`kit.platform.judge`), applied to the
service the conversion writes: clients reaching for localhost (directly, by a
client's default, or through an environment value the ``.torque`` sets to
localhost), files written into the code or under ``~/data``, code the chosen
Node.js cannot parse or run in the files node loads from the start script, and
what the Gear's package.json files ask of the build.
"""

from collections.abc import Mapping, Sequence

from kit.convert.code import GearCode, join
from kit.convert.gears import GearInput
from kit.findings import Finding
from kit.js.packages import Package, read_package
from kit.platform.judge import (
    finding,
    judge_connection,
    judge_dependencies,
    judge_engines,
    judge_features,
    judge_write,
)
from kit.platform.model import Service
from kit.platform.ports import Setting

NODE_MODULES_RULE = "node-modules-committed"  # the verifier's rule, same severity
_SHOWN = 5


def review_code(
    code: GearCode,
    *,
    service: Service,
    settings: Mapping[str, Setting],
    entries: Sequence[str],
) -> list[Finding]:
    """Findings about connections, writes and the Node.js the loaded code needs."""
    findings: list[Finding] = []
    for path, analysis in sorted(code.analyses.items()):
        for connection in analysis.connections:
            found = judge_connection(connection, path, service, (service,), settings)
            if found is not None:
                findings.append(found)
        findings += [judge_write(write, path, service) for write in analysis.data_writes]
    version = service.node_version or ""
    for item in code.loaded(list(entries)):
        facts = code.facts(item.path)
        if facts is None or item.path.endswith(".json"):
            continue
        by = f"{item.by}:{item.line}" if item.by is not None else None
        findings += judge_features(item.path, facts, version, by)
    return findings


def review_packages(gear: GearInput, package: Package | None, node_version: str) -> list[Finding]:
    """The Gear's dependencies: unpinned ranges, installed ones that need a newer
    Node.js, and a node_modules holding packages package.json does not list."""
    path = join(gear.approot, "package.json")
    findings: list[Finding] = []
    listed = {dep.name: dep for dep in package.dependencies} if package is not None else {}
    if package is not None:
        findings += judge_dependencies(path, package.dependencies)
    for name, data in gear.installed:
        theirs = read_package(data)
        found = judge_engines(path, theirs, node_version, name) if theirs else None
        if found is not None and name in listed:
            dep = listed[name]
            findings.append(found._replace(line=dep.line, column=dep.column))
    if gear.node_modules is not None:
        extra = [n for n in gear.node_modules if n not in listed and not n.startswith(".")]
        folder = join(gear.approot, "node_modules")
        if extra:
            shown = ", ".join(extra[:_SHOWN]) + (
                f" and {len(extra) - _SHOWN} more" if len(extra) > _SHOWN else ""
            )
            message = (
                f"{folder} holds {shown}, which package.json does not list: the conversion "
                "leaves node_modules out, and the platform's npm install installs only what "
                "package.json lists, so a require() of them fails there"
            )
            fix = (
                "add each module the code requires to dependencies in package.json "
                "(npm install --save NAME)"
            )
            findings.append(finding(NODE_MODULES_RULE, folder, None, None, message, fix, "warning"))
    return findings
