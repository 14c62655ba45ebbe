"""How fast `dotkit verify` analyses an app's JavaScript, cold and warm.

Generates an app of 100 Node.js services x 100 JavaScript files (about 30 MB of
ordinary modules: routes, models, helpers, middleware, client scripts; one
server per service) with a node_modules folder of 100,000 small files beside
them, then prints:
- cold throughput: MB of JavaScript per second of a whole `dotkit verify` run
  with an empty cache (target: at least 10 MB/s per core);
- warm ratio: the wall time of a re-run after one file changed, over the cold
  run's (target: at most 0.1), through the verify server (`dotkit verify --serve`
  once, then plain `dotkit verify`), and for comparison in a new process each time;
- how many files under node_modules the run opened (target: 0);
- how many files were parsed and how many were ruled out by the prefilter;
- the cold run beside ast-grep (``@ast-grep/cli`` from the npm registry, installed
  into a temporary folder at benchmark time) running one ``$A.listen($$$)`` pattern
  over the same JavaScript (node_modules left out, as verify leaves it out), each
  round timing both one after the other (target: verify at least 4x faster).

Timings come from runs without instrumentation; the open counts come from one more
cold and warm pair run with an audit hook (a sitecustomize on PYTHONPATH, so it is
in the CLI process and in every worker it starts) that logs each file opened under
node_modules, and during the warm run each JavaScript file opened at all.

Usage: .venv/bin/python benchmarks/verify.py [--runs N] [--services N] [--files N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kit.appfs import RACY_WINDOW_NS  # noqa: E402


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOUNS = _words(
    "user account order invoice product cart session comment post tag payment report "
    "message team project task event photo album review profile device ticket shipment "
    "coupon category article feed channel playlist track booking room vendor customer"
)
VERBS = _words(
    "find create update remove list load save render validate format parse build fetch "
    "sync merge normalize serialize compute resolve apply check notify schedule export"
)
ADJECTIVES = _words("active pending archived public private recent stale primary default")
WORDS = _words(
    "the a of to when if we keep this so that it is not for every one each value request "
    "response user cache page item should must never always only because after before "
    "returns callback error list result option field key later first next old new"
)
FIELDS = _words("id name email title body createdAt updatedAt status owner total count slug")
TYPES = _words("String Number Date Boolean Schema.Types.ObjectId [String]")


def _camel(*parts: str) -> str:
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _title(word: str) -> str:
    return word[:1].upper() + word[1:]


class Writer:
    """Builds one plausible JavaScript module from randomly chosen pieces."""

    def __init__(self, rng: random.Random, modern: bool) -> None:
        self.rng = rng
        self.modern = modern
        self.var = "const" if modern else "var"
        self.lines: list[str] = []

    def pick(self, items: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(items)

    def sentence(self) -> str:
        words = [self.pick(WORDS) for _ in range(self.rng.randint(5, 14))]
        return " ".join(words).capitalize() + "."

    def comment(self, indent: str = "") -> None:
        if self.rng.random() < 0.3:
            self.lines.append(f"{indent}/**")
            for _ in range(self.rng.randint(1, 4)):
                self.lines.append(f"{indent} * {self.sentence()}")
            self.lines.append(f"{indent} * @param {{Object}} {self.pick(NOUNS)}")
            self.lines.append(f"{indent} */")
        else:
            self.lines.append(f"{indent}// {self.sentence()}")

    def func(self, name: str, params: list[str], body: Callable[[str], None]) -> str:
        if self.modern and self.rng.random() < 0.5:
            head = f"{self.var} {name} = async ({', '.join(params)}) => {{"
        else:
            head = f"function {name}({', '.join(params)}) {{"
        self.lines.append(head)
        body("  ")
        self.lines.append("}" + (";" if head.startswith(self.var) else ""))
        self.lines.append("")
        return name

    def statements(self, indent: str, count: int) -> None:
        for _ in range(count):
            self.rng.choice(
                [
                    self.st_assign,
                    self.st_if,
                    self.st_loop,
                    self.st_object,
                    self.st_try,
                    self.st_call,
                ]
            )(indent)

    def st_assign(self, indent: str) -> None:
        noun, verb = self.pick(NOUNS), self.pick(VERBS)
        value = self.rng.choice(
            [
                f"{noun}s.filter(function (x) {{ return x.{self.pick(FIELDS)} !== null; }})",
                f"{_camel(verb, noun)}(options.{self.pick(FIELDS)}, {self.rng.randint(1, 500)})",
                f"'{self.pick(ADJECTIVES)}-' + String({noun}.{self.pick(FIELDS)}).toLowerCase()",
                f"Math.max(0, ({noun}.count || 0) - {self.rng.randint(1, 50)})",
                f"/^[a-z0-9_-]{{{self.rng.randint(2, 5)},{self.rng.randint(8, 32)}}}$/i",
                f"JSON.parse(JSON.stringify({noun} || {{}}))",
            ]
        )
        self.lines.append(f"{indent}{self.var} {_camel(self.pick(ADJECTIVES), noun)} = {value};")

    def st_if(self, indent: str) -> None:
        noun = self.pick(NOUNS)
        self.lines.append(f"{indent}if (!{noun} || {noun}.status === '{self.pick(ADJECTIVES)}') {{")
        self.lines.append(
            f"{indent}  return callback(new Error('{noun} {self.pick(WORDS)} {self.pick(VERBS)}'));"
        )
        self.lines.append(f"{indent}}}")

    def st_loop(self, indent: str) -> None:
        noun = self.pick(NOUNS)
        self.lines.append(f"{indent}for (var i = 0; i < {noun}s.length; i++) {{")
        self.lines.append(f"{indent}  if ({noun}s[i].{self.pick(FIELDS)} === undefined) continue;")
        self.lines.append(f"{indent}  out.push({_camel(self.pick(VERBS), noun)}({noun}s[i]));")
        self.lines.append(f"{indent}}}")

    def st_object(self, indent: str) -> None:
        self.lines.append(f"{indent}{self.var} {_camel(self.pick(NOUNS), 'fields')} = {{")
        for field in self.rng.sample(FIELDS, self.rng.randint(2, 6)):
            value = self.rng.choice(
                [f"'{self.pick(WORDS)}'", str(self.rng.randint(0, 9999)), "null", "[]"]
            )
            self.lines.append(f"{indent}  {field}: {value},")
        self.lines.append(f"{indent}}};")

    def st_try(self, indent: str) -> None:
        noun = self.pick(NOUNS)
        self.lines.append(f"{indent}try {{")
        self.lines.append(f"{indent}  result = {_camel(self.pick(VERBS), noun)}({noun});")
        self.lines.append(f"{indent}}} catch (err) {{")
        self.lines.append(f"{indent}  console.error('could not {self.pick(VERBS)} {noun}', err);")
        self.lines.append(f"{indent}  throw err;")
        self.lines.append(f"{indent}}}")

    def st_call(self, indent: str) -> None:
        noun = self.pick(NOUNS)
        self.lines.append(
            f"{indent}{_title(noun)}.{self.pick(VERBS)}({{ {self.pick(FIELDS)}: {noun}.id }}, "
            f"function (err, {noun}s) {{"
        )
        self.lines.append(f"{indent}  if (err) return next(err);")
        self.lines.append(
            f"{indent}  res.render('{noun}s/{self.pick(VERBS)}', {{ {noun}s: {noun}s }});"
        )
        self.lines.append(f"{indent}}});")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def _requires(w: Writer, names: list[tuple[str, str]]) -> None:
    for local, module in names:
        if w.modern and w.rng.random() < 0.3:
            w.lines.append(f"import {local} from '{module}';")
        else:
            w.lines.append(f"{w.var} {local} = require('{module}');")
    w.lines.append("")


def _fill(w: Writer, target: int) -> None:
    while w.size() < target:
        noun, verb = w.pick(NOUNS), w.pick(VERBS)
        w.comment()
        w.func(
            _camel(verb, noun, str(w.rng.randint(0, 99))),
            [noun, "options", "callback"],
            lambda indent: w.statements(indent, w.rng.randint(2, 7)),
        )


def route_module(w: Writer, target: int) -> None:
    _requires(
        w, [("express", "express"), ("_", "lodash")] + [("async", "async")] * w.rng.randint(0, 1)
    )
    w.lines.append(f"{w.var} router = express.Router();")
    while w.size() < target:
        noun, verb = w.pick(NOUNS), w.rng.choice(["get", "post", "put", "delete"])
        w.comment()
        w.lines.append(f"router.{verb}('/{noun}s/:id', function (req, res, next) {{")
        w.statements("  ", w.rng.randint(2, 6))
        w.lines.append("});")
        w.lines.append("")
    w.lines.append("module.exports = router;")


def model_module(w: Writer, target: int) -> None:
    noun = w.pick(NOUNS)
    _requires(w, [("mongoose", "mongoose")])
    w.lines.append(f"{w.var} Schema = mongoose.Schema;")
    w.lines.append(f"{w.var} {_title(noun)}Schema = new Schema({{")
    for field in w.rng.sample(FIELDS, w.rng.randint(3, 8)):
        w.lines.append(
            f"  {field}: {{ type: {w.pick(TYPES)}, index: {w.pick(['true', 'false'])} }},"
        )
    w.lines.append("});")
    w.lines.append("")
    while w.size() < target:
        verb = w.pick(VERBS)
        w.comment()
        w.lines.append(
            f"{_title(noun)}Schema.methods.{_camel(verb, w.pick(NOUNS))} = function (cb) {{"
        )
        w.statements("  ", w.rng.randint(2, 5))
        w.lines.append("};")
        w.lines.append("")
    w.lines.append(f"module.exports = mongoose.model('{_title(noun)}', {_title(noun)}Schema);")


def helper_module(w: Writer, target: int) -> None:
    _requires(w, [("util", "util"), ("crypto", "crypto")][: w.rng.randint(0, 2)])
    names: list[str] = []
    while w.size() < target:
        noun, verb = w.pick(NOUNS), w.pick(VERBS)
        w.comment()
        names.append(
            w.func(
                _camel(verb, noun),
                [noun, "options"],
                lambda indent: w.statements(indent, w.rng.randint(2, 8)),
            )
        )
    w.lines.append("module.exports = {")
    w.lines.extend(f"  {name}: {name}," for name in dict.fromkeys(names))
    w.lines.append("};")


def middleware_module(w: Writer, target: int) -> None:
    w.comment()
    w.lines.append("module.exports = function (options) {")
    w.lines.append("  options = options || {};")
    w.lines.append("  return function (req, res, next) {")
    w.statements("    ", w.rng.randint(2, 5))
    w.lines.append("    next();")
    w.lines.append("  };")
    w.lines.append("};")
    _fill(w, target)


def client_module(w: Writer, target: int) -> None:
    w.lines.append("$(function () {")
    if w.rng.random() < 0.3:
        w.lines.append("  var socket = io.connect();")
        w.lines.append("  socket.on('update', function (data) { render(data); });")
    while w.size() < target:
        noun = w.pick(NOUNS)
        w.lines.append(f"  $('#{noun}-{w.pick(VERBS)}').on('click', function (event) {{")
        w.lines.append("    event.preventDefault();")
        w.lines.append(f"    $.getJSON('/api/{noun}s/' + $(this).data('id'), function ({noun}) {{")
        w.statements("      ", w.rng.randint(1, 4))
        w.lines.append("    });")
        w.lines.append("  });")
    w.lines.append("});")


def spec_module(w: Writer, target: int) -> None:
    _requires(w, [("assert", "assert")])
    w.lines.append(f"describe('{w.pick(NOUNS)}', function () {{")
    while w.size() < target:
        w.lines.append(f"  it('{w.sentence()[:-1].lower()}', function () {{")
        w.statements("    ", w.rng.randint(1, 4))
        w.lines.append(f"    assert.equal(result, {w.rng.randint(0, 100)});")
        w.lines.append("  });")
    w.lines.append("});")


KINDS: list[tuple[str, Callable[[Writer, int], None], int]] = [
    ("routes", route_module, 25),
    ("models", model_module, 15),
    ("lib", helper_module, 25),
    ("middleware", middleware_module, 8),
    ("public/js", client_module, 12),
    ("test", spec_module, 10),
    ("controllers", helper_module, 5),
]


def server_js(rng: random.Random, index: int) -> str:
    style = index % 3
    lines = ["var express = require('express');", "var http = require('http');"]
    lines.append("var routes = require('./routes/index');")
    lines.append("var app = express();")
    lines.append("app.use(express.bodyParser());")
    lines.append("app.use('/api', routes);")
    if style == 0:
        lines.append("app.listen(process.env.PORT_NODEJS || 8080);")
    elif style == 1:
        lines.append("var server = http.createServer(app);")
        lines.append("var io = require('socket.io').listen(server);")
        lines.append("io.sockets.on('connection', function (socket) { socket.emit('hello'); });")
        lines.append("server.listen(8080, function () { console.log('listening on 8080'); });")
    else:
        lines.append("http.createServer(app).listen(8080);")
    return "\n".join(lines) + "\n"


def db_js(rng: random.Random, index: int) -> str:
    kind = index % 3
    if kind == 0:
        return (
            "var mongoose = require('mongoose');\n"
            "mongoose.connect(process.env.DOTCLOUD_DB_MONGODB_URL);\n"
            "mongoose.connection.on('error', function (err) { console.error(err); });\n"
            "module.exports = mongoose;\n"
        )
    if kind == 1:
        return (
            "var redis = require('redis');\n"
            "var client = redis.createClient(process.env.DOTCLOUD_CACHE_REDIS_PORT,\n"
            "  process.env.DOTCLOUD_CACHE_REDIS_HOST);\n"
            "client.auth(process.env.DOTCLOUD_CACHE_REDIS_PASSWORD);\n"
            "module.exports = client;\n"
        )
    return (
        "var mysql = require('mysql');\n"
        "var url = process.env.DOTCLOUD_DB_MYSQL_URL || 'mysql://root@localhost/dev';\n"
        "module.exports = mysql.createConnection(url);\n"
    )


def _target_size(rng: random.Random) -> int:
    # Most modules are small, a few are large: a lognormal around 2 KB, mean ~3 KB.
    return int(min(30_000, max(300, rng.lognormvariate(7.65, 0.8))))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _node_modules(base: Path, count: int, rng: random.Random) -> None:
    # Bait: were these ever analysed, every one would be a finding.
    for i in range(count):
        pkg = base / "node_modules" / f"pkg{i // 10:02d}"
        rel = "index.js" if i % 10 == 0 else f"lib/part{i % 10}.js"
        _write(
            pkg / rel,
            "var http = require('http');\n"
            f"http.createServer(function (q, s) {{ s.end(); }}).listen({3000 + i});\n"
            f"var db = 'mongodb://localhost/pkg{i}';\n",
        )


def generate(root: Path, services: int, files: int, node_modules: int, seed: int = 7) -> int:
    """Write the app; return the bytes of JavaScript outside node_modules."""
    rng = random.Random(seed)
    build = []
    total = 0
    weights = [k[2] for k in KINDS]
    for s in range(services):
        name = f"svc{s:03d}"
        base = root / name
        build.append(f"{name}:\n  type: nodejs\n  approot: {name}\n")
        if s % 10 == 3:
            build.append("  instances: 2\n")
        build.append("  config:\n    node_version: v0.8.x\n")
        build.append("  environment:\n    NODE_ENV: production\n")
        _write(
            base / "supervisord.conf",
            "[program:node]\ncommand = node server.js\ndirectory = /home/dotcloud/current\n",
        )
        _write(base / "package.json", json.dumps({"name": name, "version": "1.0.0"}) + "\n")
        sources = {"server.js": server_js(rng, s)}
        if s % 4 == 0:
            sources["lib/db.js"] = db_js(rng, s)
        n = 0
        while len(sources) < files:
            dirname, make, _ = rng.choices(KINDS, weights)[0]
            w = Writer(rng, modern=rng.random() < 0.3)
            make(w, _target_size(rng))
            sources[f"{dirname}/{rng.choice(NOUNS)}{n}.js"] = w.text()
            n += 1
        for rel, text in sources.items():
            _write(base / rel, text)
            total += len(text.encode())
        _node_modules(base, node_modules, rng)
    _write(root / "dotcloud.yml", "".join(build))
    _write(root / ".gitignore", "node_modules/\n*.log\n")
    return total


# --- measuring --------------------------------------------------------------------

# Installed in the CLI process and its workers through PYTHONPATH; logs at once
# (workers end with os._exit, so nothing can be counted up at exit).
SITECUSTOMIZE = """
import os, sys
_log = os.environ.get("DOTKIT_BENCH_OPEN_LOG")
_all_js = os.environ.get("DOTKIT_BENCH_LOG_JS") == "1"
if _log:
    def _hook(event, args):
        if event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        try:
            path = os.fsdecode(args[0])
        except TypeError:
            return  # a file descriptor
        if "/node_modules/" in path + "/" or (_all_js and path.endswith(".js")):
            with open(_log, "a", encoding="utf-8", errors="replace") as out:
                out.write(f"{event}\\t{os.getpid()}\\t{path}\\n")
    sys.addaudithook(_hook)
"""


class Run:
    def __init__(self, seconds: float, findings: int) -> None:
        self.seconds = seconds
        self.findings = findings


def _verify(app: Path, env: dict[str, str], *extra: str) -> Run:
    argv = [sys.executable, "-m", "kit", "verify", str(app), "--format", "json", *extra]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return Run(elapsed, len(json.loads(proc.stdout)["findings"]))


def _change_one_file(app: Path, round_: int) -> Path:
    target = sorted((app / f"svc{50 + round_:03d}" / "routes").glob("*.js"))[0]
    with target.open("a", encoding="utf-8") as out:
        out.write(f"// edited for warm run {round_}\n")
    info = target.stat()
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    return target


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _opens(log: Path) -> list[tuple[str, str]]:
    if not log.exists():
        return []
    rows = [line.split("\t", 2) for line in log.read_text().splitlines()]
    return [(event, path) for event, _pid, path in rows]


AST_GREP = "@ast-grep/cli@0.51.1"
AST_GREP_PATTERN = "$A.listen($$$)"


def _install_ast_grep(work: Path) -> Path | None:
    """ast-grep's binary, installed with npm into ``work``; None (said why) if not to be had."""
    if shutil.which("npm") is None:
        print("ast-grep: npm not found, comparison skipped")
        return None
    prefix = work / "ast-grep"
    done = subprocess.run(
        [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(prefix),
            AST_GREP,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    binary = prefix / "node_modules" / ".bin" / "ast-grep"
    if done.returncode != 0 or not binary.exists():
        print(f"ast-grep: could not install {AST_GREP}: {done.stderr.strip()[-300:]}")
        return None
    return binary


def _ast_grep(binary: Path, app: Path) -> float:
    argv = [str(binary), "run", "-p", AST_GREP_PATTERN, "-l", "js"]
    argv += ["--globs", "!**/node_modules/**", str(app)]
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - start


def _status(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _code_check_alone(app: Path, cache: Path) -> tuple[float, float, str]:
    """Cold and warm wall time of the code check in this process, and what it did."""
    sys.path.insert(0, str(REPO))
    from kit.appfs import list_app_files
    from kit.verify.code import SCRIPT_SUFFIXES
    from kit.verify.fast.jscache import analyse_app

    files = [f for f in list_app_files(app) if f.endswith(SCRIPT_SUFFIXES)]
    start = time.perf_counter()
    cold_run = analyse_app(app, files, cache_path=cache)
    cold = time.perf_counter() - start
    _change_one_file(app, 9)
    start = time.perf_counter()
    analyse_app(app, files, cache_path=cache, index=cold_run.stat_index)
    counts = cold_run.counts
    did = (
        f"{counts.files} files, {counts.parsed} parsed, {counts.prefiltered} ruled out by "
        "the prefilter without parsing"
    )
    return cold, time.perf_counter() - start, did


def _unfiltered_rate(app: Path, files: int = 1000) -> float:
    """MB/s of analyze_js on one core with no prefilter: every file parsed."""
    from kit.js.analysis import analyze_js

    paths = [p for p in sorted(app.glob("svc00*/**/*.js")) if "node_modules" not in p.parts]
    sources = [p.read_bytes() for p in paths[:files]]
    start = time.perf_counter()
    for source in sources:
        analyze_js(source)
    return sum(map(len, sources)) / 1e6 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--node-modules", type=int, default=1000, help="files per service")
    parser.add_argument("--keep", type=Path, help="generate the app here and leave it")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "kit")], env=env, check=True
    )
    work = Path(tempfile.mkdtemp(prefix="dotkit-verify-bench-"))
    try:
        app = (args.keep or work) / "app"
        shutil.rmtree(app, ignore_errors=True)
        print(f"generating {args.services} services x {args.files} files ...", flush=True)
        js_bytes = generate(app, args.services, args.files, args.node_modules)
        js_mb = js_bytes / 1e6
        nm_files = args.services * args.node_modules
        print(
            f"app: {args.services * args.files} JavaScript files, {js_mb:.1f} MB, "
            f"beside {nm_files:,} files under node_modules"
        )
        # A real app is not written a moment before it is verified. The cache never
        # trusts a file's stat within RACY_WINDOW_NS of its change (it may change
        # again within one tick of the file system's clock), so without this wait
        # the first warm run would redo the files generated last.
        time.sleep(RACY_WINDOW_NS / 1e9 + 0.1)
        ast_grep = _install_ast_grep(work)
        colds, warms, greps = [], [], []
        for round_ in range(args.runs):
            env["DOTKIT_HOME"] = str(_fresh(work / "home"))
            colds.append(_verify(app, env))
            if ast_grep is not None:  # side by side: the same tree, right after
                greps.append(_ast_grep(ast_grep, app))
            _change_one_file(app, round_)
            warms.append(_verify(app, env))
        cold = statistics.median(r.seconds for r in colds)
        warm = statistics.median(r.seconds for r in warms)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        mbps, ratio = js_mb / cold, warm / cold

        # The same re-runs handed to the verify server: `--serve` starts it (a cold
        # run inside it, from an empty DOTKIT_HOME), then each edit is followed by a
        # plain `dotkit verify`, which the server answers.
        served_env = dict(env, DOTKIT_HOME=str(_fresh(work / "served-home")))
        served_cold = _verify(app, served_env, "--serve")
        served = []
        try:
            for round_ in range(args.runs):
                _change_one_file(app, args.runs + 1 + round_)
                served.append(_verify(app, served_env))
        finally:
            subprocess.run(
                [sys.executable, "-m", "kit", "verify", "--stop-server"],
                env=served_env,
                capture_output=True,
                check=False,
            )
        served_warm = statistics.median(r.seconds for r in served)
        served_ratio = served_warm / cold

        hook = _fresh(work / "hook")
        (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
        log = work / "opens.log"
        traced = dict(env, PYTHONPATH=str(hook), DOTKIT_BENCH_OPEN_LOG=str(log))
        traced["DOTKIT_HOME"] = str(_fresh(work / "home"))
        _verify(app, traced)
        cold_opens = _opens(log)
        log.unlink(missing_ok=True)
        changed = _change_one_file(app, args.runs)
        _verify(app, dict(traced, DOTKIT_BENCH_LOG_JS="1"))
        warm_opens = _opens(log)
        nm = [p for e, p in cold_opens + warm_opens if e == "open" and "/node_modules/" in p]
        nm_lists = [p for e, p in cold_opens + warm_opens if e != "open"]
        warm_js = sorted({p for e, p in warm_opens if e == "open" and p.endswith(".js")})

        alone_cold, alone_warm, counts = _code_check_alone(app, work / "alone.sqlite3")
        unfiltered = _unfiltered_rate(app)

        target = 10 * cores
        print(f"findings: {colds[0].findings} (cold), {warms[0].findings} (warm)")
        print(
            f"cold `dotkit verify`: {cold:.3f} s -> {mbps:.1f} MB/s of JavaScript "
            f"(target >= {target} MB/s, 10 per core x {cores}): {_status(mbps >= target)}"
        )
        print(
            f"warm re-run after one file changed, through the verify server: {served_warm:.3f} s "
            f"-> ratio {served_ratio:.3f} (target <= 0.1): {_status(served_ratio <= 0.1)}"
        )
        print(
            f"  the same without a server (a new process stats every file): {warm:.3f} s -> "
            f"ratio {ratio:.3f}; the server's own cold run (with --serve): "
            f"{served_cold.seconds:.3f} s; findings {served[0].findings}"
        )
        print(
            f"files under node_modules opened: {len(nm)} (target 0): {_status(not nm)}; "
            f"node_modules folders listed: {len(nm_lists)}"
        )
        print(
            f"JavaScript files opened by the warm run: {len(warm_js)} "
            f"({', '.join(Path(p).relative_to(app).as_posix() for p in warm_js)}); "
            f"changed: {changed.relative_to(app).as_posix()} (the others changed in the "
            f"rounds before, less than {RACY_WINDOW_NS / 1e9:g} s ago: read again, not trusted)"
        )
        print(
            f"code check alone, in-process: cold {alone_cold:.3f} s, warm {alone_warm:.3f} s, "
            f"ratio {alone_warm / alone_cold:.3f}"
        )
        print(f"cold run's JavaScript: {counts}")
        if greps:
            grep = statistics.median(greps)
            times = grep / cold
            print(
                f"cold `dotkit verify` beside ast-grep running one pattern ({AST_GREP_PATTERN}) "
                f"over the same JavaScript: {cold:.3f} s vs {grep:.3f} s -> {times:.1f}x "
                f"faster (target >= 4x): {_status(times >= 4)}"
            )
        print(
            f"for comparison, analyze_js with no prefilter (every file parsed): "
            f"{unfiltered:.1f} MB/s on one core"
        )
        print(f"median of {args.runs} runs; each cold run starts from an empty DOTKIT_HOME")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
