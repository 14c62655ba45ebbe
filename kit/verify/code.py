"""Code rules: what a nodejs service's JavaScript does that dotCloud will not support.

The JavaScript of each nodejs service (the ``.js``, ``.mjs`` and ``.cjs`` files
under its approot) is analysed once per content by :mod:`kit.js.analysis`, through
the cache in :mod:`kit.verify.fast.jscache`; the rules here judge those analyses
against the service as ``dotcloud.yml`` describes it (ports, environment,
instances).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, MutableMapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from kit.findings import Finding
from kit.js.analysis import DataWrite, JsAnalysis, ListenCall, LocalConnection
from kit.platform.facts import ENVIRONMENT_JSON, HTTP_PORT
from kit.platform.model import Service
from kit.verify.fast.jscache import EMPTY, PARALLEL_MIN_BYTES, IndexEntry, analyse_app
from kit.verify.model import Rule, Target

SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
# Set by the platform to the HTTP front end's port, 8080, for a nodejs service.
PLATFORM_HTTP_PORT_VARS = frozenset({"PORT_NODEJS", "PORT_WWW", "PORT_HTTP"})
_TEXT_SHOWN = 80  # of a port expression, in messages
_PLATFORM_PORT_OR_8080 = f"process.env.PORT_NODEJS || {HTTP_PORT}"

HTTP_PORT_NOT_8080 = Rule(
    slug="http-port-not-8080",
    severity="error",
    category="code",
    summary="An HTTP server listens on a port other than 8080.",
    explanation=(
        "dotCloud's router sends a nodejs service's web traffic to port 8080 inside its "
        "container, and nowhere else: a server on 3000 or 3535 starts, looks healthy in its "
        "logs, and is never reached. The platform does not set PORT either, so "
        "`process.env.PORT || 3000` quietly becomes 3000. Listen on 8080, as a number or "
        "through PORT_NODEJS, which the platform sets to 8080."
    ),
    bad="www/server.js:\nrequire('http').createServer(h).listen(process.env.PORT || 3000);",
    good="www/server.js:\nrequire('http').createServer(h).listen(process.env.PORT_NODEJS || 8080);",
)
TCP_PORT_UNDECLARED = Rule(
    slug="tcp-port-undeclared",
    severity="error",
    category="code",
    summary="A TCP server runs in a service that declares no TCP port.",
    explanation=(
        "Only HTTP on 8080 reaches a service by default. Raw TCP (a `net` or `tls` server) "
        "is reachable only on ports declared under `ports:` in dotcloud.yml; the platform "
        "then assigns each one a number and passes it as PORT_<NAME>. Declare the port "
        "and have the server listen on that variable."
    ),
    bad="www/server.js:\nrequire('net').createServer(echo).listen(process.env.PORT_SERVER);",
    good="dotcloud.yml:\nwww:\n  type: nodejs\n  approot: www\n  ports:\n    server: tcp\n",
)
TCP_PORT_HARDCODED = Rule(
    slug="tcp-port-hardcoded",
    severity="error",
    category="code",
    summary="A TCP server listens on a fixed port instead of the one dotCloud assigns.",
    explanation=(
        "dotCloud picks the number of every declared TCP port when the service is deployed, "
        "and it can differ from one deployment to the next. A server that listens on 7000, "
        "or on a variable the platform does not set, is not where the platform routes the "
        "traffic. Read PORT_<NAME> for the port declared under `ports:` (or the same key "
        "in /home/dotcloud/environment.json)."
    ),
    bad="www/server.js:\nrequire('net').createServer(echo).listen(process.env.PORT || 7000);",
    good="www/server.js:\nrequire('net').createServer(echo).listen(process.env.PORT_SERVER);",
)
LOCALHOST_SERVICE = Rule(
    slug="localhost-service",
    severity="warning",
    category="code",
    summary="Code connects to a database or service on localhost.",
    explanation=(
        "On nodeSocket a database could run beside the app; on dotCloud every service, "
        "databases included, runs in its own container, so localhost is only the service "
        "itself. Declare the database as a service in dotcloud.yml and read its address "
        "from DOTCLOUD_<SERVICE>_<PORT>_URL (or _HOST and _PORT), which the platform sets "
        "in the environment and in /home/dotcloud/environment.json."
    ),
    bad="www/db.js:\nmongoose.connect('mongodb://localhost/app');",
    good="www/db.js:\nmongoose.connect(process.env.DOTCLOUD_DB_MONGODB_URL);",
)
DATA_DIR_WITH_INSTANCES = Rule(
    slug="data-dir-with-instances",
    severity="warning",
    category="code",
    summary="Code writes under ~/data, which each instance has its own copy of.",
    explanation=(
        "~/data (/home/dotcloud/data) is the one folder dotCloud keeps across pushes, and "
        "it has two costs. Each instance of a scaled service has its own ~/data, so a file "
        "written by instance 0 is missing on instance 1 (a warning when `instances` is more "
        "than 1). And keeping it means moving it: every push stops the service while the "
        "data moves, so there is no zero-downtime push (a note otherwise). Keep shared "
        "state in a data service such as redis, mongodb or mysql."
    ),
    bad="www/upload.js:\nfs.writeFileSync('/home/dotcloud/data/uploads.json', body);",
    good="www/upload.js:\nredis.set('uploads', body);",
)
RULES: tuple[Rule, ...] = (
    HTTP_PORT_NOT_8080,
    TCP_PORT_UNDECLARED,
    TCP_PORT_HARDCODED,
    LOCALHOST_SERVICE,
    DATA_DIR_WITH_INSTANCES,
)

# For localhost-service fixes: the port name in DOTCLOUD_<SVC>_<PORT>_URL, and the
# service types that provide it.
_PROTOCOL_PORTS: dict[str, tuple[str, frozenset[str]]] = {
    "mongodb": ("MONGODB", frozenset({"mongodb"})),
    "redis": ("REDIS", frozenset({"redis"})),
    "mysql": ("MYSQL", frozenset({"mysql", "mysql-masterslave"})),
    "postgresql": ("SQL", frozenset({"postgresql", "postgis"})),
    "amqp": ("AMQP", frozenset({"rabbitmq"})),
}
_PROTOCOL_NAMES = {"amqp": "RabbitMQ", "postgresql": "PostgreSQL", "memcache": "memcached"}


def check_code(
    app: Target,
    *,
    cache_path: Path | None,
    index: MutableMapping[str, IndexEntry] | None = None,
    changed: AbstractSet[str] | None = None,
    jobs: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> list[Finding]:
    """Findings of the five code rules for every nodejs service of ``app``.

    ``cache_path`` is the SQLite store of analyses by content; ``index``, when given,
    is the stat index of the last run (see :mod:`kit.verify.fast.jscache`), replaced in
    place by this run's; ``changed``, from a watcher, the only files that may differ.
    """
    services = [s for s in app.services if s.type == "nodejs" and s.approot_ok]
    # The listing already leaves node_modules out; npm rebuilds it on the platform
    # anyway, so its code is never the app's, even when a caller passes it in.
    scripts = sorted(
        f
        for f in app.files
        if f.endswith(SCRIPT_SUFFIXES) and ("node_modules" not in f or not _in_node_modules(f))
    )
    owned = {s.name: _under(scripts, s.approot) for s in services}
    wanted = {path for paths in owned.values() for path in paths}
    analyses, _, new_index = analyse_app(
        app.root,
        sorted(wanted),
        cache_path=cache_path,
        index=index,
        changed=changed,
        jobs=jobs,
        parallel_min_bytes=parallel_min_bytes,
    )
    if index is not None:
        index.clear()
        index.update(new_index)
    findings: set[Finding] = set()
    for service in services:
        for path in owned[service.name]:
            analysis = analyses.get(path, EMPTY)
            if analysis is not EMPTY:  # most files: nothing to judge
                findings.update(judge(app, service, path, analysis))
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.column or 0, f.rule))


def _in_node_modules(path: str) -> bool:
    return path.startswith("node_modules/") or "/node_modules/" in path


def _under(scripts: list[str], approot: str) -> list[str]:
    """The scripts under ``approot``; ``scripts`` is sorted, so it is one slice."""
    folder = approot.strip("/").removeprefix("./").rstrip("/")
    if folder in {".", ""}:
        return scripts
    start = bisect_left(scripts, folder + "/")
    end = bisect_left(scripts, folder + "0")  # "0" sorts right after "/"
    return scripts[start:end]


def judge(app: Target, service: Service, path: str, analysis: JsAnalysis) -> Iterable[Finding]:
    """The findings one file's analysis gives in ``service``."""
    for listen in analysis.listens:
        if listen.server == "tcp":
            yield from _tcp_findings(service, path, listen)
        else:
            finding = _http_finding(service, path, listen)
            if finding is not None:
                yield finding
    for connection in analysis.connections:
        yield _localhost_finding(app, service, path, connection)
    for write in analysis.data_writes:
        if write.where == "data":
            yield _data_finding(service, path, write)


# --- ports --------------------------------------------------------------------------


def _shown(listen: ListenCall) -> str:
    text = " ".join(listen.port.text.split())
    return text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 1] + "…"


def _http_finding(service: Service, path: str, listen: ListenCall) -> Finding | None:
    problem = _http_problem(service, listen)
    if problem is None:
        return None
    message, fix = problem
    return HTTP_PORT_NOT_8080.finding(path, listen.line, listen.column, message, fix)


def _http_problem(service: Service, listen: ListenCall) -> tuple[str, str] | None:
    port, call = listen.port, f"listen({_shown(listen)})"
    who = "the HTTP server" if listen.server == "http" else "the server"
    fix = f"listen on {HTTP_PORT}: .listen({HTTP_PORT}) or .listen({_PLATFORM_PORT_OR_8080})"
    if port.kind == "literal" and port.value != HTTP_PORT:
        return f"{who} listens on {port.value}; on dotCloud it must listen on {HTTP_PORT}", fix
    if port.kind not in {"env", "env-default"} or port.env_name is None:
        return None
    name = port.env_name
    if name in service.environment:
        value = service.environment[name].strip()
        if value == str(HTTP_PORT):
            return None
        return (
            f"{call} reads {name}, which dotcloud.yml sets to {value!r}; on dotCloud "
            f"{who} must listen on {HTTP_PORT}",
            f"set {name} to {HTTP_PORT} under environment: in dotcloud.yml, or {fix}",
        )
    if name in PLATFORM_HTTP_PORT_VARS:
        return None
    tcp = {f"PORT_{p.upper()}": p for p in service.tcp_ports}
    if name in tcp:
        return (
            f"{call} reads {name}, the port dotCloud assigns to the TCP port {tcp[name]!r}; "
            f"HTTP reaches the service only on {HTTP_PORT}",
            fix,
        )
    if port.kind == "env-default":
        if port.value == HTTP_PORT:
            return None
        shown = _shown(listen)
        if name not in shown:  # `listen(port)`: say what `port` is
            shown += f" (process.env.{name} || {port.value})"
        return (
            f"{shown} is not {HTTP_PORT} on dotCloud: the platform does not set {name}, "
            f"so the server listens on {port.value}",
            fix,
        )
    return (
        f"{call} reads {name}, which dotCloud does not set, so the server listens on a "
        f"random port; it must listen on {HTTP_PORT}",
        fix,
    )


def _tcp_findings(service: Service, path: str, listen: ListenCall) -> Iterable[Finding]:
    declared = service.tcp_ports
    if not declared:
        yield TCP_PORT_UNDECLARED.finding(
            path,
            listen.line,
            listen.column,
            f"a TCP server listens here, but the service {service.name!r} declares no TCP "
            "port: dotCloud routes TCP only to ports declared under ports: in dotcloud.yml",
            f"add `ports: {{server: tcp}}` to the service {service.name!r} in dotcloud.yml "
            "and listen on process.env.PORT_SERVER",
        )
    message = _tcp_problem(service, listen)
    if not declared and (listen.port.env_name or "").startswith("PORT_"):
        message = None  # reads the variable a declared port would set: declaring is the fix
    if message is not None:
        names = declared or ("server",)
        variables = " or ".join(f"process.env.PORT_{n.upper()}" for n in names)
        where = (
            f"the port {names[0]!r} under ports: in dotcloud.yml"
            if len(names) == 1
            else "a port declared under ports: in dotcloud.yml"
        )
        fix = f"listen on {variables} ({where}), or read it from {ENVIRONMENT_JSON}"
        yield TCP_PORT_HARDCODED.finding(path, listen.line, listen.column, message, fix)


def _tcp_problem(service: Service, listen: ListenCall) -> str | None:
    port, call = listen.port, f"listen({_shown(listen)})"
    assigned = {f"PORT_{name.upper()}" for name in service.tcp_ports}
    tail = "dotCloud assigns TCP ports when it deploys the service"
    if port.kind == "literal":
        return f"the TCP server listens on {port.value}, but {tail}"
    if port.kind not in {"env", "env-default"} or port.env_name is None:
        return None
    name = port.env_name
    if name in assigned:
        return None
    if name in service.environment:
        value = service.environment[name]
        return f"{call} reads {name}, which dotcloud.yml fixes at {value!r}, but {tail}"
    if port.kind == "env-default":
        return f"{call} falls back to {port.value}: the platform does not set {name}, and {tail}"
    return f"{call} reads {name}, which dotCloud does not set; {tail}"


# --- localhost and ~/data -----------------------------------------------------------


def _endpoint_fix(app: Target, protocol: str | None) -> str:
    port_name, types = _PROTOCOL_PORTS.get(protocol or "", ("<PORT>", frozenset()))
    match = next((s for s in app.services if s.type in types), None)
    service = match.name.upper() if match is not None else "<SERVICE>"
    variable = f"DOTCLOUD_{service}_{port_name}"
    fix = (
        f"read the address from the environment: process.env.{variable}_URL "
        f"(or _HOST and _PORT), also in {ENVIRONMENT_JSON}"
    )
    if match is None and types:
        kind = sorted(types)[0]
        fix = f"declare a {kind} service in dotcloud.yml, then {fix}"
    return fix


def _protocol_name(protocol: str | None) -> str:
    if protocol is None or protocol == "tcp":
        return "service"
    return _PROTOCOL_NAMES.get(protocol, protocol)


def _localhost_finding(
    app: Target, service: Service, path: str, connection: LocalConnection
) -> Finding:
    target = connection.target
    if connection.via == "url":
        subject = f"{target} points at this container"
    elif connection.via == "default":
        subject = f"{connection.call}() names no host, so it connects to {target}"
    else:
        subject = f"{connection.call or 'this code'} connects to {target}"
    message = (
        f"{subject}; on dotCloud each service runs in its own container, so localhost is "
        f"{service.name!r} itself, not a {_protocol_name(connection.protocol)} service"
    )
    return LOCALHOST_SERVICE.finding(
        path,
        connection.line,
        connection.column,
        message,
        _endpoint_fix(app, connection.protocol),
    )


def _data_finding(service: Service, path: str, write: DataWrite) -> Finding:
    if service.instances > 1:
        return DATA_DIR_WITH_INSTANCES.finding(
            path,
            write.line,
            write.column,
            f"{write.function}() writes to {write.target}, but {service.name!r} runs "
            f"{service.instances} instances and each has its own ~/data: what one instance "
            "writes, the others never see",
            "keep shared state in a data service (redis, mongodb, mysql) declared in "
            "dotcloud.yml, or run a single instance",
        )
    return DATA_DIR_WITH_INSTANCES.finding(
        path,
        write.line,
        write.column,
        f"{write.function}() writes to {write.target}: dotCloud keeps ~/data across pushes "
        f"by moving it, so every push stops {service.name!r} while the data moves",
        "nothing to do if that downtime is acceptable; to push without downtime, keep "
        "the state in a data service (redis, mongodb, mysql)",
        severity="info",
    )
