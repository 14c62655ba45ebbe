"""Code rules: what a nodejs service's JavaScript does that dotCloud will not support.

The JavaScript of each nodejs service (the ``.js``, ``.mjs`` and ``.cjs`` files
under its approot, and its entry scripts whatever their names) is analysed once
per content by :mod:`kit.js.analysis`, through the cache in
:mod:`kit.verify.fast.jscache`. The rules themselves are judged in
:mod:`kit.platform.ports` and :mod:`kit.platform.judge`, which ``dotkit convert``
uses too, against the service as ``dotcloud.yml`` describes it (ports,
environment, instances). A port read from another module is followed there
(:mod:`kit.verify.loaded`), and so are the files node loads, for the Node.js
version rules.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, MutableMapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from kit.findings import Finding
from kit.js.analysis import JsAnalysis, not_served
from kit.js.link import Linker
from kit.platform import judge as rules
from kit.platform import ports
from kit.platform.facts import ENVIRONMENT_JSON, HTTP_PORT
from kit.platform.model import Service
from kit.verify import loaded
from kit.verify.fast.jscache import EMPTY, PARALLEL_MIN_BYTES, IndexEntry, analyse_app
from kit.verify.fast.modcache import ModuleStore
from kit.verify.model import Rule, Target

SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
MODULES_CACHE_NAME = "js-modules.sqlite3"  # beside the JavaScript cache

HTTP_PORT_NOT_8080 = Rule(
    slug=ports.HTTP_RULE,
    severity=ports.SEVERITIES[ports.HTTP_RULE],
    category="code",
    summary="An HTTP server listens on a port other than 8080.",
    explanation=(
        "dotCloud's router sends a nodejs service's web traffic to port 8080 inside its "
        "container, and nowhere else: a server on 3000 or 3535 starts, looks healthy in its "
        "logs, and is never reached. The platform does not set PORT either, so "
        "`process.env.PORT || 3000` quietly becomes 3000, and an environment value in "
        "dotcloud.yml that the code reads as its port counts the same. The number is followed "
        "where real code keeps it: a variable, Express's app.set('port', ...), a config module "
        "(`require('./config').port`), and the finding says where it is written. Listen on "
        f"{HTTP_PORT}, as a number or as `{ports.PLATFORM_OR_8080}`: apps of the time read "
        "PORT_NODEJS, which the platform is believed to set to 8080 (no documentation says "
        "so), and the fallback keeps the port right either way."
    ),
    bad="www/server.js:\nvar app = require('express')();\n"
    "app.set('port', process.env.PORT || 3000);\napp.listen(app.get('port'));",
    good="www/server.js:\nvar app = require('express')();\n"
    "app.set('port', process.env.PORT_NODEJS || 8080);\napp.listen(app.get('port'));",
)
TCP_PORT_UNDECLARED = Rule(
    slug=ports.TCP_UNDECLARED_RULE,
    severity=ports.SEVERITIES[ports.TCP_UNDECLARED_RULE],
    category="code",
    summary="A TCP server runs in a service that declares no TCP port.",
    explanation=(
        "Only HTTP on 8080 reaches a service by default. Raw TCP (a `net` or `tls` server, "
        "however the module was bound: `var net = require('net')`, an implicit global, "
        "destructuring, `require('net').createServer`) is reachable only on ports declared "
        "under `ports:` in dotcloud.yml; the platform then assigns each one a number and "
        "passes it as PORT_<NAME>. Declare the port and have the server listen on that "
        "variable."
    ),
    bad="www/server.js:\nrequire('net').createServer(echo).listen(process.env.PORT_SERVER);",
    good="dotcloud.yml:\nwww:\n  type: nodejs\n  approot: www\n  ports:\n    server: tcp\n",
)
TCP_PORT_HARDCODED = Rule(
    slug=ports.TCP_HARDCODED_RULE,
    severity=ports.SEVERITIES[ports.TCP_HARDCODED_RULE],
    category="code",
    summary="A TCP server listens on a fixed port instead of the one dotCloud assigns.",
    explanation=(
        "dotCloud picks the number of every declared TCP port when the service is deployed, "
        "and it can differ from one deployment to the next. A server that listens on 7000, "
        "or on a variable the platform does not set (or that dotcloud.yml fixes), is not "
        "where the platform routes the traffic. Read PORT_<NAME> for the port declared under "
        "`ports:` (or the same key in /home/dotcloud/environment.json). A TCP server is never "
        "moved to 8080: that port is the HTTP router's."
    ),
    bad="www/chat.js:\nvar net = require('net');\nvar port = process.env.CHAT_PORT || 7000;\n"
    "net.createServer(onClient).listen(port);",
    good="www/chat.js:\nvar net = require('net');\n"
    "net.createServer(onClient).listen(process.env.PORT_SERVER);",
)
UDP_NOT_SUPPORTED = Rule(
    slug=ports.UDP_RULE,
    severity=ports.SEVERITIES[ports.UDP_RULE],
    category="code",
    summary="A UDP socket (dgram) binds a port, and the platform routes no UDP to it.",
    explanation=(
        "UDP is not supported by the platform: what reaches a service is HTTP on 8080 "
        "through the router and TCP on the ports declared under `ports:`. A `dgram` socket "
        "binds and waits, and nothing ever arrives (a statsd server's metrics, a syslog "
        "receiver). Take the data over TCP or HTTP instead, or run that part elsewhere."
    ),
    bad="www/stats.js:\nvar dgram = require('dgram');\nvar socket = dgram.createSocket('udp4');\n"
    "socket.bind(8125);",
    good="www/stats.js:\nvar net = require('net');\n"
    "net.createServer(onClient).listen(process.env.PORT_SERVER);",
)
LOCALHOST_SERVICE = Rule(
    slug=rules.LOCALHOST_RULE,
    severity=rules.SEVERITIES[rules.LOCALHOST_RULE],
    category="code",
    summary="Code connects to a database or service on localhost.",
    explanation=(
        "On nodeSocket a database could run beside the app; on dotCloud every service, "
        "databases included, runs in its own container, so localhost is only the service "
        "itself. The address may be written (`'mongodb://localhost/app'`), left out (a "
        "client called with no host connects to its default, 127.0.0.1: "
        "`redis.createClient()`, `mysql.createConnection({user: 'root'})`, `new pg.Client()`), "
        "or read from an environment variable that dotcloud.yml sets to localhost. Declare "
        "the database as a service in dotcloud.yml and read its address from "
        "DOTCLOUD_<SERVICE>_<PORT>_URL (or _HOST and _PORT), which the platform sets in the "
        "environment and in /home/dotcloud/environment.json."
    ),
    bad="www/db.js:\nmongoose.connect('mongodb://localhost/app');",
    good="www/db.js:\nmongoose.connect(process.env.DOTCLOUD_DB_MONGODB_URL);",
)
DATA_DIR_WITH_INSTANCES = Rule(
    slug=rules.DATA_RULE,
    severity=rules.SEVERITIES[rules.DATA_RULE],
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
WRITE_IN_CODE_TREE = Rule(
    slug=rules.CODE_TREE_RULE,
    severity=rules.SEVERITIES[rules.CODE_TREE_RULE],
    category="code",
    summary="Code writes files into its own folder, which the next push replaces.",
    explanation=(
        "Every push builds new containers from the pushed code: ~/current (the approot, "
        "where supervisord starts the program) holds what was pushed and nothing else. An "
        "upload folder (multer's `dest`, a diskStorage `destination`, Express 3's "
        "`bodyParser({uploadDir})`), a JSON file the app saves, a relative path or one under "
        "__dirname: all of it is gone after the next push, and each instance has its own "
        "anyway. Write under ~/data (`process.env.HOME + '/data'`), the one folder kept "
        "across pushes (see data-dir-with-instances for its costs), or keep the data in a "
        "data service."
    ),
    bad="www/app.js:\nvar multer = require('multer');\nvar upload = multer({ dest: 'uploads/' });",
    good="www/app.js:\nvar multer = require('multer');\n"
    "var upload = multer({ dest: process.env.HOME + '/data/uploads/' });",
)
RULES: tuple[Rule, ...] = (
    HTTP_PORT_NOT_8080,
    TCP_PORT_UNDECLARED,
    TCP_PORT_HARDCODED,
    UDP_NOT_SUPPORTED,
    LOCALHOST_SERVICE,
    DATA_DIR_WITH_INSTANCES,
    WRITE_IN_CODE_TREE,
    *loaded.RULES,
)


def check_code(
    app: Target,
    *,
    cache_path: Path | None,
    index: MutableMapping[str, IndexEntry] | None = None,
    changed: AbstractSet[str] | None = None,
    jobs: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> list[Finding]:
    """Findings of the code rules for every nodejs service of ``app``.

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
        if f.endswith(SCRIPT_SUFFIXES)
        and ("node_modules" not in f or not _in_node_modules(f))
        and not not_served(f)
    )
    present = frozenset(app.files)
    entries = {s.name: loaded.entry_scripts(app, s, present) for s in services}
    owned = {s.name: sorted({*_under(scripts, s.approot), *entries[s.name]}) for s in services}
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
    modules = cache_path.with_name(MODULES_CACHE_NAME) if cache_path is not None else None
    store = ModuleStore(app.root, modules, {rel: entry[3] for rel, entry in new_index.items()})
    findings: set[Finding] = set()
    try:
        link = loaded.linker(app, store)
        for service in services:
            for path in owned[service.name]:
                analysis = analyses.get(path, EMPTY)
                if analysis is not EMPTY:  # most files: nothing to judge
                    findings.update(judge(app, service, path, analysis, link))
        findings.update(loaded.check_loaded(services, entries, store, sorted(app.files)))
    finally:
        store.save()
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


def judge(
    app: Target, service: Service, path: str, analysis: JsAnalysis, link: Linker | None = None
) -> Iterable[Finding]:
    """The findings one file's analysis gives in ``service``."""
    for listen in analysis.listens:
        if link is not None and listen.port.module is not None:
            listen = listen._replace(port=link.link(path, listen.port))
        for problem in ports.judge_listen(listen, path, service):
            yield Finding(
                problem.rule,
                problem.severity,
                path,
                listen.line,
                listen.column,
                problem.message,
                problem.fix,
            )
    for connection in analysis.connections:
        found = rules.judge_connection(connection, path, service, app.services)
        if found is not None:
            yield found
    for write in analysis.data_writes:
        yield rules.judge_write(write, path, service)


__all__ = ["ENVIRONMENT_JSON", "RULES", "SCRIPT_SUFFIXES", "check_code", "judge"]
