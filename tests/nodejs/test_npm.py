"""What an installed tree means for an old Node.js: engines that exclude it, addons not built for it."""

from __future__ import annotations

import json
from pathlib import Path

from kit.nodejs.npm import (
    Package,
    addon_check_script,
    addon_failures,
    describe,
    failed_builds,
    findings,
    install_env,
    is_noise,
    scan,
)


def _manifest(**fields: object) -> str:
    return json.dumps({"name": "p", "version": "1.0.0", **fields})


def test_describe_reads_engines_in_every_form() -> None:
    assert describe("node_modules/p", _manifest(engines={"node": ">=6"}), []) == Package(
        "node_modules/p", "p", "1.0.0", ">=6", native=False, built=False
    )
    old_list = describe("node_modules/p", _manifest(engines=["node >= 0.10"]), [])
    assert old_list is not None and old_list.engines == ">= 0.10"
    old_string = describe("node_modules/p", _manifest(engines="node 0.4.x"), [])
    assert old_string is not None and old_string.engines == "0.4.x"
    odd = describe("node_modules/p", _manifest(engines={"node": 6}), [])
    assert odd is not None and odd.engines is None


def test_describe_finds_native_addons() -> None:
    gyp = describe("node_modules/a", _manifest(), ["binding.gyp", "src/a.cc"])
    assert gyp is not None and (gyp.native, gyp.built) == (True, False)
    built = describe("node_modules/a", _manifest(), ["binding.gyp", "build/Release/a.node"])
    assert built is not None and (built.native, built.built) == (True, True)
    pregyp = describe("node_modules/b", _manifest(scripts={"install": "node-pre-gyp install"}), [])
    assert pregyp is not None and pregyp.native
    flag = describe("node_modules/c", _manifest(gypfile=True), [])
    assert flag is not None and flag.native
    plain = describe("node_modules/d", _manifest(scripts={"test": "node-gyp"}), ["index.js"])
    assert plain is not None and not plain.native


def test_describe_survives_hostile_manifests() -> None:
    assert describe("node_modules/x", "{not json", []) is None
    assert describe("node_modules/x", "[]", []) is None
    weird = describe("node_modules/@s/x", json.dumps({"name": 5, "scripts": "no"}), [])
    assert weird == Package("node_modules/@s/x", "@s/x", "?", None, native=False, built=False)


def test_findings_name_each_problem() -> None:
    packages = [
        Package("node_modules/debug", "debug", "4.4.3", ">=6.0", False, False),
        Package("node_modules/express", "express", "3.21.2", ">= 0.8.0", False, False),
        Package("node_modules/odd", "odd", "1.0.0", "latest", False, False),
        Package("node_modules/hiredis", "hiredis", "0.1.17", None, True, True),
        Package("node_modules/a/node_modules/b", "b", "2.0.0", None, True, False),
    ]
    got = findings(packages, "0.8.28", failed=["utf-8-validate@5.0.10"])
    assert [(f.severity, f.message) for f in got] == [
        (
            "warning",
            "utf-8-validate@5.0.10: its native build failed, so it cannot build for v0.8.28; "
            "npm undid the install. Use a version of it that supports v0.8.28, or drop it",
        ),
        (
            "warning",
            "debug@4.4.3 (node_modules/debug) declares engines.node '>=6.0', which excludes "
            "v0.8.28: it may fail here. Pin a version that supports v0.8.28 in package.json",
        ),
        (
            "info",
            "odd@1.0.0 (node_modules/odd) declares engines.node 'latest', which is not a "
            "version range npm can read",
        ),
        ("info", "hiredis@0.1.17 (node_modules/hiredis): native addon built for v0.8.28"),
        (
            "warning",
            "b@2.0.0 (node_modules/a/node_modules/b) is a native addon with no compiled "
            ".node file: it cannot build for v0.8.28",
        ),
    ]


NPM11_FAILURE = """\
npm error code 1
npm error path /home/dotcloud/code/node_modules/utf-8-validate
npm error command failed
npm error command sh -c node-gyp-build
npm error ../src/validation.c:4:10: fatal error: node_api.h: No such file or directory
npm error gyp ERR! cwd /home/dotcloud/code/node_modules/utf-8-validate
npm error gyp ERR! $npm_package_name utf-8-validate
npm error gyp ERR! $npm_package_version 5.0.10
npm error gyp ERR! not ok
"""
NPM6_FAILURE = """\
npm ERR! code ELIFECYCLE
npm ERR! bcrypt@5.1.1 install: `node-pre-gyp install --fallback-to-build`
npm ERR! Exit status 1
npm ERR! path /app/node_modules/@scope/native
"""


def test_failed_builds_from_npm_output() -> None:
    assert failed_builds(NPM11_FAILURE.splitlines()) == ["utf-8-validate@5.0.10"]
    assert failed_builds(NPM6_FAILURE.splitlines()) == ["@scope/native", "bcrypt@5.1.1"]
    assert failed_builds(["added 3 packages in 1s"]) == []


def test_scan_walks_the_tree_without_following_links(tmp_path: Path) -> None:
    app = tmp_path / "app"
    files = {
        "node_modules/a/package.json": _manifest(name="a", engines={"node": ">=4"}),
        "node_modules/a/node_modules/b/package.json": _manifest(name="b"),
        "node_modules/a/node_modules/b/binding.gyp": "{}",
        "node_modules/a/node_modules/b/build/Release/b.node": "ELF",
        "node_modules/@s/c/package.json": _manifest(name="@s/c"),
        "node_modules/.bin/x": "",
        "node_modules/broken/package.json": "{",
        "node_modules/d/README": "no manifest",
    }
    for rel, text in files.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    outside = tmp_path / "outside"
    (outside / "evil").mkdir(parents=True)
    (outside / "evil" / "package.json").write_text(_manifest(name="evil"))
    (app / "node_modules" / "linked").symlink_to(outside / "evil")
    (app / "node_modules" / "e").mkdir()
    (app / "node_modules" / "e" / "package.json").symlink_to(outside / "evil" / "package.json")
    got = {p.where: (p.name, p.native, p.built, p.engines) for p in scan(app)}
    assert got == {
        "node_modules/a": ("a", False, False, ">=4"),
        "node_modules/a/node_modules/b": ("b", True, True, None),
        "node_modules/@s/c": ("@s/c", False, False, None),
    }
    assert scan(tmp_path / "nothing") == []


def test_the_install_recipe() -> None:
    assert install_env("0.8.28", "/opt/node") == {
        "npm_config_target": "0.8.28",
        "npm_config_nodedir": "/opt/node",
        "npm_config_build_from_source": "true",
        "npm_config_update_notifier": "false",
    }
    assert is_noise('npm warn Unknown env config "target". This will stop working')
    assert not is_noise("npm warn deprecated request@2.88.2")


def test_addon_check_output() -> None:
    script = addon_check_script(["/a/x.node", "/b/it's.node"])
    assert script.startswith('var paths = ["/a/x.node", "/b/it\'s.node"];\n')
    assert addon_failures("ok /a/x.node\nfail /b/y.node Module version mismatch. Expected 1\n") == {
        "/b/y.node": "Module version mismatch. Expected 1"
    }
