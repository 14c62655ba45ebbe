"""Which Node.js a converted service asks for, and why.

The platform offered ``node_version`` v0.4.x, v0.6.x and v0.8.x. Unless told
otherwise (``--node-version``), the conversion reads the Gear's package.json:
when ``engines.node`` is satisfied by some of the platform's versions, the
newest of those is chosen and the report says so; when none is, the default
(v0.8.x) is kept and a finding says the code asks for a Node.js the platform
does not have. Told a version that ``engines.node`` excludes, the conversion
uses it and says so.
"""

from typing import NamedTuple

from kit.findings import Finding
from kit.js.packages import Package, branches_satisfying
from kit.platform.facts import CONVERT_NODE_VERSION, NODE_VERSIONS
from kit.platform.judge import judge_engines


class NodeChoice(NamedTuple):
    version: str
    reason: str
    source: str  # "--node-version", "engines.node" or "default"
    line: int | None  # of engines.node in package.json
    findings: tuple[Finding, ...] = ()


def choose_node_version(package: Package | None, explicit: str | None, path: str) -> NodeChoice:
    """The ``config: node_version`` for a Gear whose package.json is ``package``
    (at ``path``); ``explicit`` is what the command line asked for, if anything."""
    spec = package.engines_node if package is not None else None
    line = package.engines_line if package is not None else None
    if explicit is not None:
        found = judge_engines(path, package, explicit) if package is not None else None
        return NodeChoice(
            explicit,
            "asked for with --node-version",
            "--node-version",
            line,
            (found,) if found else (),
        )
    if spec is None:
        reason = (
            f"package.json names no engines.node; {CONVERT_NODE_VERSION} is the newest the "
            "platform offers"
        )
        return NodeChoice(CONVERT_NODE_VERSION, reason, "default", None)
    allowed = branches_satisfying(NODE_VERSIONS, spec)
    if allowed:
        reason = (
            f"engines.node is {spec!r}; {allowed[-1]} is the newest of the platform's "
            "versions that satisfies it"
        )
        return NodeChoice(allowed[-1], reason, "engines.node", line)
    found = judge_engines(path, package, CONVERT_NODE_VERSION) if package is not None else None
    why = (
        "is not a version range npm reads"
        if allowed is None
        else "is satisfied by none of the platform's versions"
    )
    reason = f"engines.node {spec!r} {why}; kept {CONVERT_NODE_VERSION}, the newest it offers"
    return NodeChoice(CONVERT_NODE_VERSION, reason, "engines.node", line, (found,) if found else ())
