"""The platform's rules for code besides ports, judged once for every command.

Each function takes what :mod:`kit.js` found and the service it runs in, and
returns findings with the rule's slug and severity, so ``dotkit convert`` and
``dotkit verify`` say the same thing about the same code:

- ``localhost-service``: a client connecting to the loopback address, which on
  dotCloud is the service itself (through a URL, a host, a client's default, or
  an environment variable the service's settings point at localhost);
- ``data-dir-with-instances`` and ``write-in-code-tree``: files written under
  ``~/data`` (kept, one copy per instance, moved with downtime) or into the code
  (gone after the next push);
- ``node-version-syntax``, ``node-version-api`` and ``js-syntax-error``: code the
  chosen Node.js cannot parse or run, in the files node loads;
- ``node-version-engines`` and ``dependency-unpinned``: what package.json files
  say about installing the app.
"""

import re
from collections.abc import Mapping, Sequence

from kit.findings import Finding, Severity
from kit.js.features import edition_of
from kit.js.model import DataWrite, LocalConnection, ModuleFacts
from kit.js.packages import Dependency, Package, branches_satisfying, unpinned
from kit.platform.envkeys import data_port_name
from kit.platform.facts import BUILD_FILE, ENVIRONMENT_JSON, NODE_VERSIONS
from kit.platform.model import Service
from kit.platform.ports import Setting

LOCALHOST_RULE = "localhost-service"
DATA_RULE = "data-dir-with-instances"
CODE_TREE_RULE = "write-in-code-tree"
SYNTAX_RULE = "node-version-syntax"
API_RULE = "node-version-api"
PARSE_RULE = "js-syntax-error"
ENGINES_RULE = "node-version-engines"
UNPINNED_RULE = "dependency-unpinned"
SEVERITIES: dict[str, Severity] = {
    LOCALHOST_RULE: "warning",
    DATA_RULE: "warning",
    CODE_TREE_RULE: "warning",
    SYNTAX_RULE: "error",
    API_RULE: "warning",
    PARSE_RULE: "warning",
    ENGINES_RULE: "warning",
    UNPINNED_RULE: "warning",
}
_LOOPBACK = re.compile(r"(?:^|[/@\s]|^\[)(?:localhost|127\.0\.0\.1|::1)(?:$|[:/\]\s,?#])", re.I)
_PROTOCOL_NAMES = {"amqp": "RabbitMQ", "postgresql": "PostgreSQL", "memcache": "memcached"}
# Protocols a data service provides, by the service types that provide them.
_PROTOCOL_TYPES: dict[str, frozenset[str]] = {
    "mongodb": frozenset({"mongodb"}),
    "redis": frozenset({"redis"}),
    "mysql": frozenset({"mysql", "mysql-masterslave"}),
    "postgresql": frozenset({"postgresql", "postgis"}),
    "amqp": frozenset({"rabbitmq"}),
}
_NODE_FIX = (
    "the platform offers Node.js {versions}: write this part in ES5 (or compile it to ES5 "
    "with a tool such as Babel before pushing), or run a newer Node.js in a custom service"
)


def finding(
    rule: str,
    path: str,
    line: int | None,
    column: int | None,
    message: str,
    fix: str,
    severity: Severity | None = None,
) -> Finding:
    return Finding(rule, severity or SEVERITIES[rule], path, line, column, message, fix)


def is_loopback(value: str) -> bool:
    """Whether an address (a host or a URL) names this container itself."""
    return bool(_LOOPBACK.search(value.strip()))


# --- localhost ----------------------------------------------------------------------


def _endpoint_fix(services: Sequence[Service], protocol: str | None) -> str:
    types = _PROTOCOL_TYPES.get(protocol or "", frozenset())
    match = next((s for s in services if s.type in types), None)
    port_name = (data_port_name(sorted(types)[0]) or "<PORT>") if types else "<PORT>"
    owner = match.name if match is not None else "<SERVICE>"
    variable = f"DOTCLOUD_{owner.upper()}_{port_name.upper()}"
    fix = (
        f"read the address from the environment: process.env.{variable}_URL "
        f"(or _HOST and _PORT), also in {ENVIRONMENT_JSON}"
    )
    if match is None and types:
        fix = f"declare a {sorted(types)[0]} service in dotcloud.yml, then {fix}"
    return fix


def _protocol_name(protocol: str | None) -> str:
    if protocol is None or protocol == "tcp":
        return "another service"
    return "a " + _PROTOCOL_NAMES.get(protocol, protocol) + " service"


def _connection_subject(
    connection: LocalConnection, service: Service, settings: Mapping[str, Setting]
) -> str | None:
    """What makes the connection local, in words; None when the settings say it is not."""
    name, target = connection.env_name, connection.target
    value = service.environment.get(name) if name else None
    where = settings.get(name, Setting(BUILD_FILE)).path if name else ""
    if connection.via == "env":
        if value is None or not is_loopback(value):
            return None
        who = connection.call or "this code"
        return f"{who} reads its address from {name}, which {where} sets to {value!r}"
    if name is not None and value is not None:
        if not is_loopback(value):
            return None
        who = connection.call or "this code"
        return f"{name} is set to {value!r} in {where}, so {who} connects to it"
    if connection.via == "url":
        subject = f"{target} points at this container"
    elif connection.via == "default":
        subject = f"{connection.call}() names no host, so it connects to {target}"
    else:
        subject = f"{connection.call or 'this code'} connects to {target}"
    if name is not None:
        subject += f" (used when {name} is not set, and dotCloud does not set it)"
    return subject


def judge_connection(
    connection: LocalConnection,
    path: str,
    service: Service,
    services: Sequence[Service],
    settings: Mapping[str, Setting] = {},
) -> Finding | None:
    subject = _connection_subject(connection, service, settings)
    if subject is None:
        return None
    message = (
        f"{subject}; on dotCloud each service runs in its own container, so localhost is "
        f"{service.name!r} itself, not {_protocol_name(connection.protocol)}"
    )
    fix = _endpoint_fix(services, connection.protocol)
    return finding(LOCALHOST_RULE, path, connection.line, connection.column, message, fix)


# --- writes ------------------------------------------------------------------------


def judge_write(write: DataWrite, path: str, service: Service) -> Finding:
    at = (path, write.line, write.column)
    what = f"{write.function} puts uploads in" if write.upload else f"{write.function}() writes to"
    if write.where == "code":
        message = (
            f"{what} {write.target}, inside the code: every push builds new containers "
            "from the pushed code, so what was written there is gone after the next push"
        )
        fix = (
            "write under ~/data instead (process.env.HOME + '/data/...'), the one folder kept "
            "across pushes, or keep the data in a data service"
        )
        return finding(CODE_TREE_RULE, *at, message, fix)
    if service.instances > 1:
        message = (
            f"{what} {write.target}, but {service.name!r} runs {service.instances} instances "
            "and each has its own ~/data: what one instance writes, the others never see"
        )
        fix = (
            "keep shared state in a data service (redis, mongodb, mysql) declared in "
            "dotcloud.yml, or run a single instance"
        )
        return finding(DATA_RULE, *at, message, fix)
    message = (
        f"{what} {write.target}: dotCloud keeps ~/data across pushes by moving it, so every "
        f"push stops {service.name!r} while the data moves"
    )
    fix = (
        "nothing to do if that downtime is acceptable; to push without downtime, keep the "
        "state in a data service (redis, mongodb, mysql)"
    )
    return finding(DATA_RULE, *at, message, fix, "info")


# --- Node.js versions ----------------------------------------------------------------


def _uses(uses: int, loaded_by: str | None) -> str:
    parts = []
    if uses > 1:
        parts.append(f"{uses} uses in this file")
    if loaded_by:
        parts.append(f"loaded by {loaded_by}")
    return f" ({'; '.join(parts)})" if parts else ""


def judge_features(
    path: str, facts: ModuleFacts, node_version: str, loaded_by: str | None = None
) -> list[Finding]:
    """Code in a file node loads that ``node_version`` cannot parse or run."""
    versions = ", ".join(NODE_VERSIONS)
    out = []
    if facts.skipped is not None:
        message = f"not analysed, {facts.skipped}, though node loads it{_uses(1, loaded_by)}"
        fix = "check that node can load this file"
        return [finding(PARSE_RULE, path, None, None, message, fix)]
    if facts.syntax_error is not None:
        line, column = facts.syntax_error
        message = (
            "the JavaScript parser stops here: if node cannot parse the file either, the "
            "service does not start, and the kit's checks may miss what follows"
        )
        fix = "check the syntax at this point"
        out.append(finding(PARSE_RULE, path, line, column, message, fix))
    for feature in facts.features:
        if feature.kind == "api":
            message = (
                f"{feature.name} does not exist in Node.js {node_version}: the code fails "
                f"when it gets here{_uses(feature.uses, loaded_by)}"
            )
            fix = f"load a polyfill for {feature.name} before this code, or do without it"
            out.append(finding(API_RULE, path, feature.line, feature.column, message, fix))
            continue
        edition = edition_of(feature.name) or "newer"
        message = (
            f"{feature.name}: {edition} syntax, which Node.js {node_version} cannot parse, "
            f"so the service does not start{_uses(feature.uses, loaded_by)}"
        )
        fix = _NODE_FIX.format(versions=versions)
        out.append(finding(SYNTAX_RULE, path, feature.line, feature.column, message, fix))
    return out


def judge_engines(
    path: str, package: Package, node_version: str, dependency: str | None = None
) -> Finding | None:
    """``engines.node`` of the app (or an installed dependency) against the version."""
    spec = package.engines_node
    if spec is None:
        return None
    allowed = branches_satisfying(NODE_VERSIONS, spec)
    if allowed is None or node_version in allowed:
        return None
    offered = "; of the platform's versions, " + (
        f"{', '.join(allowed)} would" if allowed else f"none ({', '.join(NODE_VERSIONS)}) does"
    )
    if dependency is None:
        message = (
            f"engines.node asks for Node.js {spec!r}, which {node_version} does not "
            f"satisfy{offered}"
        )
        fix = (
            f"set config: node_version to {allowed[-1]}"
            if allowed
            else "make the app run on Node.js 0.8 (and say so in engines.node), or run a "
            "newer Node.js in a custom service"
        )
    else:
        version = f" {package.version}" if package.version else ""
        message = (
            f"{dependency}{version}, as installed in node_modules, needs Node.js {spec!r} "
            f"(its engines.node), which {node_version} does not satisfy{offered}"
        )
        fix = f"pin {dependency} in package.json to a version that supports Node.js {node_version}"
    return finding(ENGINES_RULE, path, package.engines_line, None, message, fix)


def judge_dependencies(path: str, dependencies: Sequence[Dependency]) -> list[Finding]:
    out = []
    for dep in dependencies:
        why = unpinned(dep.spec)
        if why is None:
            continue
        message = (
            f"{dep.name} {dep.spec!r} asks npm for {why}: every push's build may install a "
            "different version (one that needs a newer Node.js, or breaks the app)"
        )
        fix = f'pin it to the version the app works with, e.g. "{dep.name}": "1.2.x"'
        out.append(finding(UNPINNED_RULE, path, dep.line, dep.column, message, fix))
    return out
