"""Building apps on disk and the services the verifier sees, for tests."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.platform.model import Service


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root``; text is UTF-8."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def make_service(name: str = "www", **fields: Any) -> Service:
    """A nodejs service with one instance and nothing else, changed by ``fields``."""
    base = Service(
        name=name,
        type="nodejs",
        approot=".",
        line=1,
        instances=1,
        ports={},
        environment={},
        process=None,
        processes={},
        approot_ok=True,
    )
    return base._replace(**fields)


def age(root: Path, seconds: int = 3600) -> Path:
    """Every file and folder under ``root`` (and ``root``) made ``seconds`` older.

    The verify cache does not trust the stat of anything changed in the last two
    seconds; aged, a tree is one it trusts, as a real app's would be.
    """
    for path in [*root.rglob("*"), root]:
        info = path.lstat()
        os.utime(
            path,
            ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 10**9),
            follow_symlinks=False,
        )
    return root


# A small app for the verify cache and server tests: one nodejs service whose code
# gives one localhost-service warning.
VERIFY_APP = {
    "dotcloud.yml": "www:\n  type: nodejs\n  approot: web\n",
    ".gitignore": "*.log\nsecret.json\n",
    "web/supervisord.conf": (
        "[program:node]\ncommand = node server.js\ndirectory = /home/dotcloud/current\n"
    ),
    "web/package.json": '{"name": "web", "version": "1.0.0"}\n',
    "web/server.js": "require('http').createServer(h).listen(8080);\n",
    "web/db.js": "require('redis').createClient(6379, 'localhost');\n",
    "web/lib/util.js": "module.exports = 1;\n",
}
