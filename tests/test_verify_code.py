from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.findings import Finding
from kit.js import analysis as jsanalysis
from kit.js.analysis import analyze_js, worth_parsing
from kit.platform.model import Service
from kit.verify.code import RULES, check_code
from kit.verify.fast import jscache
from kit.verify.model import Rule
from kit.verify.model import Target as App
from testing.apps import age, make_service, write_files

ENV_JSON = "/home/dotcloud/environment.json"
HTTP_FIX = "listen on 8080: .listen(8080) or .listen(process.env.PORT_NODEJS || 8080)"


def service(
    name: str = "www",
    *,
    type: str = "nodejs",
    approot: str = "www",
    instances: int = 1,
    ports: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    approot_ok: bool = True,
) -> Service:
    return make_service(
        name,
        type=type,
        approot=approot,
        instances=instances,
        ports=ports or {},
        environment=environment or {},
        approot_ok=approot_ok,
    )


def make_app(root: Path, files: Mapping[str, str | bytes], *services: Service) -> App:
    write_files(root, files)
    return App(root, tuple(sorted(files)), services or (service(),))


def check(app: App, **kwargs: object) -> list[Finding]:
    return check_code(app, cache_path=None, **kwargs)  # type: ignore[arg-type]


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- the rules themselves ---------------------------------------------------------


def test_rules_are_the_code_rules_with_words_and_examples() -> None:
    assert [r.slug for r in RULES] == [
        "http-port-not-8080",
        "tcp-port-undeclared",
        "tcp-port-hardcoded",
        "udp-not-supported",
        "localhost-service",
        "data-dir-with-instances",
        "write-in-code-tree",
        "node-version-syntax",
        "node-version-api",
        "js-syntax-error",
    ]
    for rule in RULES:
        assert rule.category == "code"
        assert rule.summary.endswith(".") and "\n" not in rule.summary
        assert len(rule.explanation) > 200


# The app each rule's examples are dropped into: the example replaces its file.
EXAMPLE_BASE = {
    "tcp-port-undeclared": "require('net').createServer(echo).listen(process.env.PORT_SERVER);",
    "tcp-port-hardcoded": "require('net').createServer(echo).listen(process.env.PORT_SERVER);",
}
EXAMPLE_PORTS = {"tcp-port-hardcoded": "  ports:\n    server: tcp\n"}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.slug)
def test_rule_examples_fail_and_pass(tmp_path: Path, rule: Rule) -> None:
    from kit.verify.buildfile import check_build_file

    for example, fires in ((rule.bad, True), (rule.good, False)):
        root = tmp_path / ("bad" if fires else "good")
        build = "www:\n  type: nodejs\n  approot: www\n" + EXAMPLE_PORTS.get(rule.slug, "")
        files = {
            "dotcloud.yml": build,
            "www/server.js": EXAMPLE_BASE.get(rule.slug, "var ok = 1;"),
        }
        path, _, content = example.partition(":\n")
        files[path] = content
        make_app(root, files)
        services, _ = check_build_file(root, sorted(files))
        app = App(root, tuple(sorted(files)), services)
        slugs = {f.rule for f in check(app)}
        assert (rule.slug in slugs) is fires, (example, slugs)


# --- http-port-not-8080 -----------------------------------------------------------


def test_http_env_default_that_the_platform_does_not_set(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "www/server.js": "var http = require('http');\n"
            "http.createServer(h).listen(process.env.PORT || 3000);\n"
        },
    )
    assert one(check(app)) == Finding(
        rule="http-port-not-8080",
        severity="error",
        path="www/server.js",
        line=2,
        column=22,
        message="process.env.PORT || 3000 is not 8080 on dotCloud: the platform does not set "
        "PORT, so the server listens on 3000",
        fix=HTTP_FIX,
    )


def test_http_env_default_through_a_variable_says_what_it_holds(tmp_path: Path) -> None:
    source = "var app = require('express')();\nvar port = process.env.PORT || 3000;\n"
    source += "app.listen(port);\n"
    finding = one(check(make_app(tmp_path, {"www/app.js": source})))
    assert (finding.line, finding.column) == (3, 5)
    assert finding.message == (
        "port (process.env.PORT || 3000, set on line 2) is not 8080 on dotCloud: the platform "
        "does not set PORT, so the server listens on 3000"
    )


def test_http_literal_port(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"www/app.js": "const app = require('express')();\n\napp.listen(3535);\n"},
    )
    assert one(check(app)) == Finding(
        "http-port-not-8080",
        "error",
        "www/app.js",
        3,
        5,
        "the HTTP server listens on 3535; on dotCloud it must listen on 8080",
        HTTP_FIX,
    )


def test_http_env_alone_and_unknown_server(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"www/a.js": "server.listen(process.env.APP_PORT);\nthing.listen(4000);\n"},
    )
    assert [(f.line, f.column, f.message) for f in check(app)] == [
        (
            1,
            8,
            "listen(process.env.APP_PORT) reads APP_PORT, which dotCloud does not set, so the "
            "server listens on a random port; it must listen on 8080",
        ),
        (2, 7, "the server listens on 4000; on dotCloud it must listen on 8080"),
    ]


def test_http_port_from_the_service_environment(tmp_path: Path) -> None:
    source = "var app = require('express')();\napp.listen(process.env.PORT || 3000);\n"
    files = {"www/server.js": source}
    assert check(make_app(tmp_path, files, service(environment={"PORT": "8080"}))) == []
    finding = one(check(make_app(tmp_path, files, service(environment={"PORT": "3000"}))))
    assert (finding.line, finding.column) == (2, 5)
    assert finding.message == (
        "listen(process.env.PORT || 3000) reads PORT, which dotcloud.yml sets to '3000'; "
        "on dotCloud the HTTP server must listen on 8080"
    )
    assert finding.fix == f"set PORT to 8080 under environment: in dotcloud.yml, or {HTTP_FIX}"


@pytest.mark.parametrize(
    "port",
    [
        "8080",
        "process.env.PORT_NODEJS || 8080",
        "process.env.PORT_NODEJS",
        "process.env.PORT || 8080",
        "port",
    ],
)
def test_http_on_8080_passes(tmp_path: Path, port: str) -> None:
    source = "var http = require('http');\nvar port = +process.argv[2];\n"
    source += f"http.createServer(h).listen({port});\n"
    assert check(make_app(tmp_path, {"www/server.js": source})) == []


def test_port_variables_the_service_does_not_declare(tmp_path: Path) -> None:
    # PORT_WWW exists only for a port declared `www: http`; PORT_HTTP was 80 in the one
    # real environment.json seen (a python service), never a nodejs service's 8080.
    source = "var http = require('http');\nhttp.createServer(h).listen(process.env.{});\n"
    files = {"www/server.js": source.format("PORT_WWW")}
    declared = service(ports={"www": "http"})
    assert check(make_app(tmp_path / "declared", files, declared)) == []
    finding = one(check(make_app(tmp_path / "undeclared", files)))
    assert finding.message == (
        "listen(process.env.PORT_WWW) reads PORT_WWW, which dotCloud does not set, so the "
        "server listens on a random port; it must listen on 8080"
    )
    files = {"www/server.js": source.format("PORT_HTTP")}
    assert one(check(make_app(tmp_path / "http", files))).rule == "http-port-not-8080"


# --- tcp-port-undeclared and tcp-port-hardcoded -------------------------------------

TCP_SERVER = "var net = require('net');\nnet.createServer(echo).listen({port});\n"


def test_tcp_server_without_a_declared_port(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"tcp/server.js": TCP_SERVER.format(port="process.env.PORT_SERVER")},
        service("tcp", approot="tcp"),
    )
    assert one(check(app)) == Finding(
        "tcp-port-undeclared",
        "error",
        "tcp/server.js",
        2,
        24,
        "a TCP server listens here, but the service 'tcp' declares no TCP port: dotCloud "
        "routes TCP only to ports declared under ports: in dotcloud.yml",
        "add `ports: {server: tcp}` to the service 'tcp' in dotcloud.yml and listen on "
        "process.env.PORT_SERVER",
    )


def test_tcp_server_on_its_declared_port_passes(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"tcp/server.js": TCP_SERVER.format(port="process.env.PORT_SERVER")},
        service("tcp", approot="tcp", ports={"server": "tcp"}),
    )
    assert check(app) == []


def test_tcp_literal_port(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"tcp/server.js": TCP_SERVER.format(port="7000")},
        service("tcp", approot="tcp", ports={"chat": "tcp"}),
    )
    assert one(check(app)) == Finding(
        "tcp-port-hardcoded",
        "error",
        "tcp/server.js",
        2,
        24,
        "the TCP server listens on 7000, but dotCloud assigns TCP ports when it deploys the "
        "service",
        "listen on process.env.PORT_CHAT (the port 'chat' under ports: in dotcloud.yml), or "
        f"read it from {ENV_JSON}",
    )


def test_tcp_env_default_with_another_name(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"tcp/server.js": TCP_SERVER.format(port="process.env.PORT || 7000")},
        service("tcp", approot="tcp", ports={"a": "tcp", "b": "udp"}),
    )
    finding = one(check(app))
    assert (finding.rule, finding.line, finding.column) == ("tcp-port-hardcoded", 2, 24)
    assert finding.message == (
        "listen(process.env.PORT || 7000) falls back to 7000: the platform does not set "
        "PORT, and dotCloud assigns TCP ports when it deploys the service"
    )
    assert finding.fix == (
        "listen on process.env.PORT_A or process.env.PORT_B (a port declared under ports: "
        f"in dotcloud.yml), or read it from {ENV_JSON}"
    )


def test_tcp_literal_in_an_undeclared_service_gets_both_findings(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"www/s.js": TCP_SERVER.format(port="7000")})
    assert [f.rule for f in check(app)] == ["tcp-port-hardcoded", "tcp-port-undeclared"]


# --- localhost-service ------------------------------------------------------------


def test_localhost_url_names_the_data_service(tmp_path: Path) -> None:
    source = "var mongoose = require('mongoose');\nmongoose.connect('mongodb://localhost/app');\n"
    app = make_app(
        tmp_path,
        {"www/db.js": source},
        service(),
        service("db", type="mongodb", approot="."),
    )
    assert one(check(app)) == Finding(
        "localhost-service",
        "warning",
        "www/db.js",
        2,
        18,
        "mongodb://localhost/app points at this container; on dotCloud each service runs in "
        "its own container, so localhost is 'www' itself, not a mongodb service",
        "read the address from the environment: process.env.DOTCLOUD_DB_MONGODB_URL "
        f"(or _HOST and _PORT), also in {ENV_JSON}",
    )


def test_localhost_default_host_and_positional_host(tmp_path: Path) -> None:
    source = (
        "var redis = require('redis');\n"
        "var a = redis.createClient();\n"
        "var b = redis.createClient(6379, '127.0.0.1');\n"
        "var c = mysql.createConnection({ host: 'localhost', user: 'root' });\n"
    )
    found = check(make_app(tmp_path, {"www/cache.js": source}))
    assert [(f.line, f.column, f.severity, f.message) for f in found] == [
        (
            2,
            15,
            "warning",
            "redis.createClient() names no host, so it connects to 127.0.0.1:6379; on dotCloud "
            "each service runs in its own container, so localhost is 'www' itself, not a redis "
            "service",
        ),
        (
            3,
            34,
            "warning",
            "redis.createClient connects to 127.0.0.1; on dotCloud each service runs in its own "
            "container, so localhost is 'www' itself, not a redis service",
        ),
        (
            4,
            40,
            "warning",
            "mysql.createConnection connects to localhost; on dotCloud each service runs in its "
            "own container, so localhost is 'www' itself, not another service",
        ),
    ]
    assert found[0].fix == (
        "declare a redis service in dotcloud.yml, then read the address from the environment: "
        f"process.env.DOTCLOUD_<SERVICE>_REDIS_URL (or _HOST and _PORT), also in {ENV_JSON}"
    )


def test_localhost_that_is_not_another_service_passes(tmp_path: Path) -> None:
    source = (
        "var redis = require('redis');\n"
        "var url = process.env.DOTCLOUD_CACHE_REDIS_URL;\n"
        "var c = redis.createClient(process.env.DOTCLOUD_CACHE_REDIS_PORT,\n"
        "  process.env.DOTCLOUD_CACHE_REDIS_HOST);\n"
        "console.log('open http://localhost:8080/ or ws://127.0.0.1:8080/');\n"
        "http.get({ host: 'localhost', port: 8080, path: '/health' }, cb);\n"
        "app.set('host', 'localhost');\n"
        "server.listen(8080, '127.0.0.1');\n"
    )
    assert check(make_app(tmp_path, {"www/ok.js": source})) == []


# --- data-dir-with-instances ------------------------------------------------------

DATA_WRITER = (
    "var fs = require('fs'), path = require('path');\n"
    "var DATA = path.join(process.env.HOME, 'data');\n"
    "fs.writeFileSync(path.join(DATA, 'state.json'), body);\n"
)


def test_data_dir_with_several_instances(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"www/state.js": DATA_WRITER}, service(instances=3))
    assert one(check(app)) == Finding(
        "data-dir-with-instances",
        "warning",
        "www/state.js",
        3,
        4,
        "fs.writeFileSync() writes to ~/data/state.json, but 'www' runs 3 instances and each "
        "has its own ~/data: what one instance writes, the others never see",
        "keep shared state in a data service (redis, mongodb, mysql) declared in dotcloud.yml, "
        "or run a single instance",
    )


def test_data_dir_with_one_instance_is_a_note(tmp_path: Path) -> None:
    source = "require('fs').mkdirSync('/home/dotcloud/data/uploads');\n"
    finding = one(check(make_app(tmp_path, {"www/up.js": source})))
    assert finding == Finding(
        "data-dir-with-instances",
        "info",
        "www/up.js",
        1,
        15,
        "require('fs').mkdirSync() writes to ~/data/uploads: dotCloud keeps ~/data across "
        "pushes by moving it, so every push stops 'www' while the data moves",
        "nothing to do if that downtime is acceptable; to push without downtime, keep the "
        "state in a data service (redis, mongodb, mysql)",
    )


def test_writes_elsewhere_pass(tmp_path: Path) -> None:
    source = (
        "var fs = require('fs');\n"
        "fs.writeFileSync('/tmp/x', s);\n"
        "fs.writeFileSync(process.env.HOME + '/database.json', s);\n"
        "var raw = fs.readFileSync('/home/dotcloud/data/x');\n"
    )
    assert check(make_app(tmp_path, {"www/w.js": source}, service(instances=2))) == []


@pytest.mark.parametrize(
    ("call", "target"),
    [
        ("fs.writeFileSync('/home/dotcloud/data/x.json', s)", "~/data/x.json"),
        ("fs.writeFile('~/data', s, cb)", "~/data"),
        ("fs.appendFileSync(process.env.HOME + '/data/log', s)", "~/data/log"),
        ("fs.appendFile(process.env['HOME'] + '/data/' + name, s)", "~/data/…"),
        ("fs.createWriteStream(`${process.env.HOME}/data/${name}`)", "~/data/…"),
        ("fs.mkdirSync(path.join(os.homedir(), 'data', 'uploads'))", "~/data/uploads"),
        ("fs.renameSync(tmp, path.resolve(HOME_DIR, 'data'))", "~/data"),
        ("fs.copyFileSync(src, DATA_FILE)", "~/data/db.json"),
        ("fs.promises.writeFile(path.join(home(), '//data/a'), s)", "~/data/a"),
        ("mkdirp(path.join('/home/dotcloud', 'data', id), cb)", "~/data/…"),
    ],
)
def test_paths_under_the_data_folder(call: str, target: str) -> None:
    source = (
        "var fs = require('fs'), path = require('path'), os = require('os');\n"
        "const { homedir: home } = require('os');\n"
        "var HOME_DIR = process.env.HOME || '/home/dotcloud';\n"
        "var DATA_FILE = path.join(HOME_DIR, 'data', 'db.json');\n"
        f"{call};\n"
    )
    writes = analyze_js(source.encode()).data_writes
    assert [(w.line, w.target) for w in writes] == [(5, target)]


@pytest.mark.parametrize(
    "call",
    [
        "fs.writeFileSync(process.env.HOME + '/database', s)",
        "fs.writeFileSync(process.env.HOME + '/data' + suffix, s)",
        "fs.writeFileSync('/tmp/home/dotcloud/data/x', s)",
        "fs.copyFileSync('/home/dotcloud/data/a', '/tmp/b')",
        "fs.readFileSync('/home/dotcloud/data/a')",
        "fs.writeFileSync(path.join(__dirname, 'data'), s)",
        "fs.writeFileSync(other.join(process.env.HOME, 'data'), s)",
    ],
)
def test_paths_elsewhere(call: str) -> None:
    source = f"var fs = require('fs'), path = require('path');\n{call};\n"
    writes = analyze_js(source.encode()).data_writes
    assert [w for w in writes if w.where == "data"] == []


@pytest.mark.parametrize(
    ("code", "target", "protocol", "via"),
    [
        (
            "mongoose.connect('mongodb://user:pw@localhost:27017/app')",
            "mongodb://user:pw@localhost:27017/app",
            "mongodb",
            "url",
        ),
        (
            "var u = process.env.URL || 'postgres://127.0.0.1/db'",
            "postgres://127.0.0.1/db",
            "postgresql",
            "url",
        ),
        ("amqp.connect(`amqp://localhost:${port}`)", "amqp://localhost:${port}", "amqp", "url"),
        ("new mongodb.Server('localhost', 27017)", "localhost", "mongodb", "host"),
        ("new Memcached('127.0.0.1:11211')", "127.0.0.1:11211", "memcache", "host"),
        ("redis.createClient({ socket: { host: '::1', port: 6380 } })", "::1", "redis", "host"),
        ("var cfg = { db: { host: 'localhost', port: 3306 } }", "localhost", "mysql", "host"),
        ("net.connect(5432)", "127.0.0.1:5432", "postgresql", "default"),
        ("net.createConnection({ port: 7000 }, cb)", "127.0.0.1:7000", "tcp", "default"),
        ("redis.createClient({ db: 2 })", "127.0.0.1:6379", "redis", "default"),
        ("createClient(process.env.REDIS_PORT)", "127.0.0.1:6379", "redis", "default"),
    ],
)
def test_loopback_connections(code: str, target: str, protocol: str, via: str) -> None:
    source = (
        "var net = require('net'), redis = require('redis'), mongodb = require('mongodb');\n"
        "const { createClient } = require('redis');\n"
        f"{code};\n"
    )
    connection = one_connection(analyze_js(source.encode()))
    assert (connection.line, connection.target, connection.protocol, connection.via) == (
        3,
        target,
        protocol,
        via,
    )


def one_connection(analysis: jsanalysis.JsAnalysis) -> jsanalysis.LocalConnection:
    assert len(analysis.connections) == 1, analysis.connections
    return analysis.connections[0]


@pytest.mark.parametrize(
    "code",
    [
        "var a = 'http://localhost:3000/', b = 'wss://127.0.0.1/'",
        "console.log('localhost', 6379)",
        "app.set('host', 'localhost')",
        "net.connect(6379, process.env.DOTCLOUD_CACHE_REDIS_HOST)",
        "net.connect({ path: '/tmp/app.sock' })",
        "redis.createClient(process.env.DOTCLOUD_CACHE_REDIS_URL)",
        "client.connect(6379)",
        "var x = { host: 'localhost' }",
        "server.listen(3000, 'localhost')",
        "var s = 'see localhost for details'",
        "// mongodb://localhost/app in a comment",
    ],
)
def test_not_loopback_connections(code: str) -> None:
    source = f"var net = require('net'), redis = require('redis');\n{code};\n"
    assert analyze_js(source.encode()).connections == ()


# --- which files, which services ----------------------------------------------------


def test_only_the_javascript_of_usable_nodejs_services(tmp_path: Path) -> None:
    bad = "require('express')().listen(3000);\n"
    app = make_app(
        tmp_path,
        {
            "www/a.js": bad,
            "www/b.mjs": bad,
            "www/c.cjs": bad,
            "www/d.ts": bad,
            "www2/e.js": bad,
            "py/f.js": bad,
            "gone/g.js": bad,
        },
        service(),
        service("py", type="python", approot="py"),
        service("gone", approot="gone", approot_ok=False),
    )
    assert [f.path for f in check(app)] == ["www/a.js", "www/b.mjs", "www/c.cjs"]


def test_approot_dot_means_the_whole_app_and_nested_services_share_nothing(
    tmp_path: Path,
) -> None:
    app = make_app(
        tmp_path,
        {"server.js": TCP_SERVER.format(port="7000"), "chat/s.js": TCP_SERVER.format(port="7000")},
        service("www", approot="."),
        service("chat", approot="chat/", ports={"chat": "tcp"}),
    )
    found = [(f.path, f.rule, f.fix.split(" (")[0]) for f in check(app)]
    assert ("chat/s.js", "tcp-port-hardcoded", "listen on process.env.PORT_CHAT") in found
    assert ("chat/s.js", "tcp-port-hardcoded", "listen on process.env.PORT_SERVER") in found
    assert (
        "server.js",
        "tcp-port-undeclared",
        "add `ports: {server: tcp}` to the service "
        "'www' in dotcloud.yml and listen on process.env.PORT_SERVER",
    ) in found


def test_node_modules_is_never_read_even_if_listed(tmp_path: Path, reads: list[str]) -> None:
    bad = "require('express')().listen(3000);\n"
    app = make_app(
        tmp_path,
        {"www/node_modules/x/index.js": bad, "node_modules/y.js": bad, "www/a.js": "x;\n"},
        service(),
        service("all", approot="."),
    )
    assert check(app) == []
    assert reads == ["a.js"]


def test_symlinks_and_fifos_are_never_opened(tmp_path: Path) -> None:
    outside = tmp_path / "outside.js"
    outside.write_text("require('express')().listen(3000);\n")
    app = make_app(tmp_path, {"www/ok.js": "var a = 1;\n"})
    (tmp_path / "www" / "link.js").symlink_to(outside)
    os.mkfifo(tmp_path / "www" / "pipe.js")
    app = app._replace(files=(*app.files, "www/link.js", "www/pipe.js", "www/missing.js"))
    assert check(app) == []


# --- the cache ----------------------------------------------------------------------

CACHED_APP = {
    "www/server.js": "var http = require('http');\nhttp.createServer(h).listen(3000);\n",
    "www/db.js": "mongoose.connect('mongodb://127.0.0.1/x');\n",
    "www/lib/util.js": "module.exports = function (a) { return a + 1; };\n",
}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths jscache opens, in order."""
    seen: list[str] = []
    real = jscache._read

    def spy(path: str) -> tuple[os.stat_result, bytes] | None:
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(jscache, "_read", spy)
    return seen


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    seen: list[bytes] = []
    real = jscache.analyze_js

    def spy(source: bytes) -> jsanalysis.JsAnalysis:
        seen.append(source)
        return real(source)

    monkeypatch.setattr(jscache, "analyze_js", spy)
    return seen


def bump_mtime(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def aged(app: App) -> App:
    age(app.root)
    return app


def test_warm_run_opens_no_unchanged_file(
    tmp_path: Path, reads: list[str], parses: list[bytes]
) -> None:
    app = aged(make_app(tmp_path / "app", CACHED_APP))
    cache = tmp_path / "cache" / "js.sqlite3"
    index: dict[str, jscache.IndexEntry] = {}
    cold = check_code(app, cache_path=cache, index=index)
    assert sorted(reads) == ["db.js", "server.js", "util.js"]
    assert len(parses) == 2  # util.js holds no token any rule starts from
    assert sorted(index) == ["www/db.js", "www/lib/util.js", "www/server.js"]
    reads.clear()
    parses.clear()
    assert check_code(app, cache_path=cache, index=index) == cold
    assert reads == [] and parses == []
    assert [f.rule for f in cold] == ["localhost-service", "http-port-not-8080"]


def test_file_changed_just_now_is_read_again(tmp_path: Path, reads: list[str]) -> None:
    # Racily clean (git's term): a second edit within the file system's clock tick
    # would keep size and mtime, so a fresh file is never trusted by its stat.
    app = aged(make_app(tmp_path / "app", CACHED_APP))
    (app.root / "www" / "db.js").write_text("mongoose.connect('mongodb://127.0.0.2/x');\n")
    index: dict[str, jscache.IndexEntry] = {}
    check_code(app, cache_path=None, index=index)
    assert index["www/db.js"][1] == -1
    reads.clear()
    check_code(app, cache_path=None, index=index)
    assert reads == ["db.js"]


def test_changed_file_is_analysed_again(
    tmp_path: Path, reads: list[str], parses: list[bytes]
) -> None:
    app = aged(make_app(tmp_path / "app", CACHED_APP))
    cache = tmp_path / "js.sqlite3"
    index: dict[str, jscache.IndexEntry] = {}
    check_code(app, cache_path=cache, index=index)
    reads.clear()
    server = app.root / "www" / "server.js"
    server.write_text("var http = require('http');\nhttp.createServer(h).listen(8080);\n")
    bump_mtime(server)
    assert [f.rule for f in check_code(app, cache_path=cache, index=index)] == ["localhost-service"]
    assert reads == ["server.js"]


def test_touched_file_is_read_but_not_parsed_again(
    tmp_path: Path, reads: list[str], parses: list[bytes]
) -> None:
    app = aged(make_app(tmp_path / "app", CACHED_APP))
    cache = tmp_path / "js.sqlite3"
    index: dict[str, jscache.IndexEntry] = {}
    cold = check_code(app, cache_path=cache, index=index)
    reads.clear()
    parses.clear()
    bump_mtime(app.root / "www" / "server.js")
    assert check_code(app, cache_path=cache, index=index) == cold
    assert (reads, parses) == (["server.js"], [])


def test_identical_content_in_a_copy_is_not_parsed_again(
    tmp_path: Path, parses: list[bytes]
) -> None:
    cache = tmp_path / "js.sqlite3"
    first = check_code(make_app(tmp_path / "one", CACHED_APP), cache_path=cache)
    parses.clear()
    second = check_code(make_app(tmp_path / "two", CACHED_APP), cache_path=cache)
    assert second == first and parses == []


def _analyses(cache: Path) -> int:
    with sqlite3.connect(cache) as connection:
        (count,) = connection.execute("SELECT count(*) FROM analyses").fetchone()
    return int(count)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database" * 100),
        lambda p: p.write_bytes(p.read_bytes()[:100] + b"\x00" * 5000),
        lambda p: p.chmod(0),
    ],
    ids=["garbage", "truncated", "unreadable"],
)
def test_damaged_cache_is_rebuilt_silently(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    app = make_app(tmp_path / "app", CACHED_APP)
    cache = tmp_path / "js.sqlite3"
    cold = check_code(app, cache_path=cache)
    for suffix in ("-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    damage(cache)
    assert check_code(app, cache_path=cache) == cold
    assert _analyses(cache) == 2  # util.js is ruled out by the prefilter, never stored


def test_cache_of_an_older_layout_is_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "js.sqlite3"
    with sqlite3.connect(cache) as connection:
        connection.execute("CREATE TABLE files (path BLOB PRIMARY KEY, digest BLOB)")
        connection.execute("CREATE TABLE analyses (digest BLOB, version INTEGER, data TEXT)")
        connection.execute("INSERT INTO analyses VALUES (x'00', 1, 'junk')")
    app = make_app(tmp_path / "app", CACHED_APP)
    assert check_code(app, cache_path=cache) == check(app)
    with sqlite3.connect(cache) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert [name for (name,) in tables] == ["analyses"]
    assert _analyses(cache) == 2


def test_damaged_rows_are_analysed_again(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", CACHED_APP)
    cache = tmp_path / "js.sqlite3"
    cold = check_code(app, cache_path=cache)
    with sqlite3.connect(cache) as connection:
        connection.execute("UPDATE analyses SET data = '[1, 2'")
    assert check_code(app, cache_path=cache) == cold


def test_no_place_for_a_cache_is_no_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", CACHED_APP)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert check_code(app, cache_path=blocker / "js.sqlite3") == check(app)


def test_vanished_files_leave_the_index(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", CACHED_APP)
    index: dict[str, jscache.IndexEntry] = {}
    check_code(app, cache_path=None, index=index)
    (app.root / "www" / "db.js").unlink()
    app = app._replace(files=tuple(f for f in app.files if f != "www/db.js"))
    assert [f.rule for f in check_code(app, cache_path=None, index=index)] == ["http-port-not-8080"]
    assert sorted(index) == ["www/lib/util.js", "www/server.js"]


def test_analyses_unused_for_long_are_dropped(tmp_path: Path) -> None:
    cache = tmp_path / "js.sqlite3"
    check_code(make_app(tmp_path / "one", CACHED_APP), cache_path=cache)
    with sqlite3.connect(cache) as connection:
        connection.execute("UPDATE analyses SET used = used - ?", (jscache.KEEP_DAYS + 1,))
    other = {"www/server.js": "require('net').createServer(h).listen(7000);\n"}
    check_code(make_app(tmp_path / "two", other), cache_path=cache)
    assert _analyses(cache) == 1  # only the new one


def _run_in_child(root: str, cache: str) -> None:
    app = make_app(Path(root), CACHED_APP)
    for _ in range(5):
        check_code(app, cache_path=Path(cache))
        bump_mtime(app.root / "www" / "server.js")


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path, reads: list[str]) -> None:
    import multiprocessing

    cache = tmp_path / "js.sqlite3"
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_run_in_child, args=(str(tmp_path / f"app{i}"), str(cache)))
        for i in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    app = make_app(tmp_path / "app0", CACHED_APP)
    reads.clear()
    assert [f.rule for f in check_code(app, cache_path=cache)] == [
        "localhost-service",
        "http-port-not-8080",
    ]
    with sqlite3.connect(cache) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert _analyses(cache) == 2


# --- in parallel ------------------------------------------------------------------


def test_parallel_run_gives_the_same_findings(tmp_path: Path) -> None:
    rng = random.Random(3)
    files: dict[str, str] = {}
    for i in range(40):
        kind = rng.choice(
            [
                "app.listen({});\n".format(rng.choice([3000, 8080, "process.env.PORT || 4000"])),
                f"mongoose.connect('mongodb://localhost/db{i}');\n",
                f"require('fs').writeFileSync('/home/dotcloud/data/{i}', x);\n",
                f"module.exports = {i};\n",
            ]
        )
        files[f"www/m{i}.js"] = "var app = require('express')();\n" + kind * rng.randint(1, 3)
    app = make_app(tmp_path / "app", files, service(instances=2))
    alone = check_code(app, cache_path=None, jobs=1)
    together = check_code(app, cache_path=tmp_path / "c.sqlite3", jobs=2, parallel_min_bytes=0)
    assert together == alone
    assert len(alone) > 20
    assert check_code(app, cache_path=tmp_path / "c.sqlite3", jobs=2) == alone


# --- never a traceback --------------------------------------------------------------

FRAGMENTS = [
    "require('net')",
    "require('redis')",
    "require('fs')",
    "require('path')",
    "net",
    "redis",
    ".connect(",
    ".createConnection(",
    ".createClient(",
    ".listen(",
    ".writeFileSync(",
    ".mkdirSync(",
    "path.join(",
    "process.env.HOME",
    "process.env.PORT",
    "os.homedir()",
    "'localhost'",
    "'127.0.0.1:6379'",
    "'mongodb://localhost/x'",
    "`redis://localhost:${p}`",
    "'/home/dotcloud/data/x'",
    "'~/data'",
    "'data'",
    "{host: 'localhost', port: 27017}",
    "{port: 6379}",
    "6379",
    "8080",
    "3000",
    "||",
    "+",
    ",",
    ";",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "`${",
    "}`",
    "var x = ",
    "x",
    "new Server(",
    "function () {",
    "\n",
    " ",
    "'",
    '"',
    "\\",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_js_fragments_never_raise_and_the_prefilter_is_sound(parts: list[str]) -> None:
    source = "".join(parts).encode()
    analysis = analyze_js(source)
    if not worth_parsing(source):
        assert analysis.listens == analysis.connections == analysis.data_writes == ()
    for item in (*analysis.listens, *analysis.connections, *analysis.data_writes):
        assert item.line >= 1 and item.column >= 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(source: bytes) -> None:
    analysis = analyze_js(source)
    assert jscache.decode(jscache.encode(analysis)) == analysis


def test_random_files_through_check_code_never_raise(tmp_path: Path) -> None:
    rng = random.Random(11)
    files: dict[str, str | bytes] = {}
    for i in range(30):
        if i % 2:
            files[f"www/r{i}.js"] = rng.randbytes(rng.randint(0, 400))
        else:
            files[f"www/f{i}.js"] = "".join(rng.choice(FRAGMENTS) for _ in range(60))
    app = make_app(tmp_path, files, service(instances=2, ports={"x": "tcp"}))
    for finding in check_code(app, cache_path=tmp_path / "c.sqlite3"):
        assert finding.rule in {r.slug for r in RULES}
        assert finding.message and finding.fix


def test_hostile_nesting_stays_fast() -> None:
    import time

    for source in (
        b"x.connect(" * 20_000 + b"'localhost'" + b")" * 20_000,
        b"[" * 30_000 + b"'mongodb://localhost/x'," * 2000,
        b"fs.writeFileSync(" + b"process.env.HOME + " * 20_000 + b"'/data/x')",
        b"var a = " + b"path.join(" * 5_000 + b"process.env.HOME, 'data'" + b")" * 5_000,
    ):
        started = time.monotonic()
        analyze_js(source)
        assert time.monotonic() - started < 5
