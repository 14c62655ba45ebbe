"""The rules real apps broke: localhost by indirection, writes into the code, the
Node.js the code needs, dependencies, and fewer false alarms."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from kit.findings import Finding
from kit.verify.buildfile import check_build_file
from kit.verify.code import check_code
from kit.verify.model import Target
from kit.verify.project import check_project
from kit.verify.runner import verify_app
from testing.apps import write_files

SUPERVISORD = "[program:node]\ncommand = node server.js\ndirectory = /home/dotcloud/current\n"


def app_of(root: Path, files: Mapping[str, str], build: str = "") -> Target:
    build = build or "www:\n  type: nodejs\n  approot: www\n  config:\n    node_version: v0.8.x\n"
    write_files(root, {"dotcloud.yml": build, **files})
    listed = tuple(sorted(["dotcloud.yml", *files]))
    services, findings = check_build_file(root, listed)
    assert [f for f in findings if f.severity == "error"] == []
    return Target(root, listed, services)


def code(root: Path, files: Mapping[str, str], build: str = "") -> list[Finding]:
    return check_code(app_of(root, files, build), cache_path=None)


def where(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.path, f.line) for f in findings]


# --- localhost by indirection -----------------------------------------------------

ENV_BUILD = (
    "www:\n  type: nodejs\n  approot: www\n  environment:\n    REDIS_HOST: {value}\n"
    "    MONGO_URL: mongodb://{value}/app\n"
)
ENV_CODE = (
    "var redis = require('redis'), mongoose = require('mongoose');\n"
    "var client = redis.createClient(6379, process.env.REDIS_HOST);\n"
    "mongoose.connect(process.env.MONGO_URL);\n"
)


def test_a_host_read_from_an_env_value_that_is_localhost(tmp_path: Path) -> None:
    found = code(tmp_path / "a", {"www/db.js": ENV_CODE}, ENV_BUILD.format(value="localhost"))
    assert where(found) == [
        ("localhost-service", "www/db.js", 2),
        ("localhost-service", "www/db.js", 3),
    ]
    assert found[0].message == (
        "redis.createClient reads its address from REDIS_HOST, which dotcloud.yml sets to "
        "'localhost'; on dotCloud each service runs in its own container, so localhost is "
        "'www' itself, not a redis service"
    )
    remote = ENV_BUILD.format(value="redis.example.com")
    assert code(tmp_path / "b", {"www/db.js": ENV_CODE}, remote) == []


def test_a_localhost_fallback_counts_unless_the_variable_is_set(tmp_path: Path) -> None:
    source = "var redis = require('redis');\nredis.createClient(6379, process.env.REDIS_HOST || 'localhost');\n"
    (found,) = code(tmp_path / "a", {"www/db.js": source})
    assert found.message.startswith(
        "redis.createClient connects to localhost (used when REDIS_HOST is not set, and "
        "dotCloud does not set it)"
    )
    build = "www:\n  type: nodejs\n  approot: www\n  environment:\n    REDIS_HOST: db.example.com\n"
    assert code(tmp_path / "b", {"www/db.js": source}, build) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (
            "var mysql = require('mysql');\nmysql.createConnection({ user: 'root' });",
            "127.0.0.1:3306",
        ),
        ("var pg = require('pg');\nvar c = new pg.Client();", "127.0.0.1:5432"),
        (
            "const { Pool } = require('pg');\nconst p = new Pool({ database: 'app' });",
            "127.0.0.1:5432",
        ),
        ("var Redis = require('ioredis');\nvar r = new Redis();", "127.0.0.1:6379"),
    ],
)
def test_clients_called_with_no_host(tmp_path: Path, source: str, target: str) -> None:
    (found,) = code(tmp_path, {"www/db.js": source + "\n"})
    assert found.rule == "localhost-service" and f"connects to {target}" in found.message


# --- writes into the code ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "what"),
    [
        (
            "var multer = require('multer');\nvar up = multer({ dest: 'uploads/' });",
            "multer({dest}) puts uploads in uploads/",
        ),
        (
            "var multer = require('multer');\nvar s = multer.diskStorage({\n"
            "  destination: function (req, file, cb) { cb(null, __dirname + '/uploads'); }\n});",
            "multer.diskStorage({destination}) puts uploads in ./uploads",
        ),
        (
            "app.use(express.bodyParser({ uploadDir: __dirname + '/tmp' }));",
            "express.bodyParser({uploadDir}) puts uploads in ./tmp",
        ),
        (
            "var form = new formidable.IncomingForm();\nform.uploadDir = './files';",
            "form.uploadDir puts uploads in ./files",
        ),
        (
            "require('fs').writeFileSync('db.json', data);",
            "require('fs').writeFileSync() writes to db.json",
        ),
        (
            "var fs = require('fs');\nfs.createWriteStream(path.join(__dirname, 'logs', 'a.log'));",
            "fs.createWriteStream() writes to ./logs/a.log",
        ),
    ],
)
def test_writes_into_the_code_tree(tmp_path: Path, source: str, what: str) -> None:
    (found,) = code(tmp_path, {"www/app.js": source + "\n"})
    assert found.rule == "write-in-code-tree" and found.severity == "warning"
    assert found.message.startswith(what), found.message


def test_uploads_under_data_are_the_data_rule_and_tmp_is_fine(tmp_path: Path) -> None:
    source = (
        "var multer = require('multer');\n"
        "var up = multer({ dest: process.env.HOME + '/data/uploads' });\n"
        "var tmp = multer({ dest: '/tmp/uploads' });\n"
    )
    found = code(tmp_path, {"www/app.js": source})
    assert [(f.rule, f.severity, f.line) for f in found] == [("data-dir-with-instances", "info", 2)]


# --- the Node.js the loaded code needs -----------------------------------------------


def test_only_the_files_node_loads_are_held_to_the_node_version(tmp_path: Path) -> None:
    files = {
        "www/supervisord.conf": SUPERVISORD,
        "www/server.js": "var util = require('./lib/util');\nrequire('http').createServer(util.h).listen(8080);\n",
        "www/lib/util.js": "'use strict';\nconst h = (req, res) => res.end();\nexports.h = h;\n",
        "www/public/js/app.js": "const go = () => fetch('/');\n",  # for browsers
        "www/test/util.test.js": "const t = () => 1;\n",  # for the test runner
        "www/tools/build.js": "const b = () => 1;\n",  # never required
    }
    found = code(tmp_path, files)
    assert where(found) == [
        ("node-version-syntax", "www/lib/util.js", 2),
        ("node-version-syntax", "www/lib/util.js", 2),
    ]
    assert {f.message.split(":")[0] for f in found} == {
        "const in strict mode code",
        "arrow functions (=>)",
    }
    assert found[0].severity == "error" and "loaded by www/server.js:1" in found[0].message


def test_an_entry_without_a_suffix_and_a_parse_error(tmp_path: Path) -> None:
    files = {
        "www/supervisord.conf": SUPERVISORD.replace("server.js", "bin/www"),
        "www/bin/www": "#!/usr/bin/env node\nvar app = require('../app');\napp.listen(3000);\n",
        "www/app.js": "var app = require('express')(;\nmodule.exports = app;\n",
    }
    found = code(tmp_path, files)
    assert ("http-port-not-8080", "www/bin/www", 3) in where(found)
    assert ("js-syntax-error", "www/app.js", 1) in where(found)


# --- package.json -----------------------------------------------------------------


def test_engines_and_unpinned_dependencies(tmp_path: Path) -> None:
    files = {
        "www/package.json": (
            '{\n  "name": "www",\n  "engines": {"node": ">=4"},\n'
            '  "dependencies": {"express": "4.16.x", "ejs": "*"}\n}\n'
        ),
        "www/node_modules/express/package.json": '{"name": "express", "version": "4.16.4", "engines": {"node": ">= 0.10.0"}}',
    }
    app = app_of(tmp_path, files)
    wanted = {"node-version-engines", "dependency-unpinned"}
    found = sorted(
        (f for f in check_project(app) if f.rule in wanted), key=lambda f: (f.line, f.rule)
    )
    assert where(found) == [
        ("node-version-engines", "www/package.json", 3),
        ("dependency-unpinned", "www/package.json", 4),
        ("node-version-engines", "www/package.json", 4),
    ]
    assert found[2].message.startswith(
        "express 4.16.4, as installed in node_modules, needs Node.js '>= 0.10.0'"
    )


# --- fewer false alarms -----------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)


def test_dotcloud_and_dotkit_folders_are_not_untracked_files(tmp_path: Path) -> None:
    files = {
        "www/server.js": "require('http').createServer(h).listen(8080);\n",
        "www/package.json": '{"name": "www"}\n',
        "www/supervisord.conf": SUPERVISORD,
    }
    app_of(tmp_path, files)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "app")
    write_files(tmp_path, {".dotcloud/config": "{}\n", ".dotkit/convert.json": "{}\n"})
    assert [f for f in verify_app(tmp_path, use_cache=False) if f.rule == "untracked-files"] == []
    write_files(tmp_path, {"notes.txt": "x"})
    untracked = [f for f in verify_app(tmp_path, use_cache=False) if f.rule == "untracked-files"]
    assert [f.path for f in untracked] == ["notes.txt"]


def test_node_version_on_a_custom_service_is_accepted(tmp_path: Path) -> None:
    build = (
        "www:\n  type: custom\n  buildscript: nodejs/builder\n  node_version: v0.10.26\n"
        "  config:\n    node_version: v0.10.x\n"
    )
    write_files(tmp_path, {"dotcloud.yml": build, "nodejs/builder": "#!/bin/sh\n"})
    _, findings = check_build_file(tmp_path, ("dotcloud.yml", "nodejs/builder"))
    assert findings == []
