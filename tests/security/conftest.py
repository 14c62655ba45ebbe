"""Attacks from inside real containers: one pushed app per module, the e2e tests' sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Sandbox

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None or shutil.which("node") is None,
    reason="needs bubblewrap and node",
)

# The hooks record what they saw, from inside their own containers.
PROBE = """id -u; hostname; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status
touch /work/pwned-$1 2>&1; cat /etc/shadow 2>&1; ls /root 2>&1
unshare -r true 2>&1; echo unshare=$?
if [ "$1" = prebuild ]; then ln -sf "$VICTIM" ~/environment.json; ln -sf "$VICTIM" ~/environment.yml; fi; true
"""
# Node.js 0.8 syntax: the app runs the platform's build (config: node_version).
HOG = "var a = []; for (;;) { var b = new Buffer(1 << 24); b.fill(1); a.push(b); }"


def write_app(root: Path) -> Path:
    app = root / "attacks"
    for name in ("www", "other"):
        (app / name).mkdir(parents=True)
        (app / name / "server.js").write_text(
            "require('http').createServer(function (q, s) { s.end(process.env.DOTCLOUD_SERVICE_NAME); })"
            ".listen(8080);\n"
        )
    (app / "www" / "package.json").write_text('{"name": "www", "version": "1.0.0"}\n')
    # A host file the hooks point the platform's own file names at.
    (root / "victim.txt").write_text("untouched\n")
    (app / "www" / "probe.sh").write_text(PROBE.replace("$VICTIM", str(root / "victim.txt")))
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        "  prebuild: sh probe.sh prebuild > $HOME/prebuild.txt 2>&1\n"
        "  postinstall: sh probe.sh postinstall > $HOME/postinstall.txt 2>&1\n"
        "other:\n  type: nodejs\n  approot: other\n  process: node server.js\n"
    )
    return app


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("security")
    box = Sandbox(root / "dotkit-home")
    app = write_app(root)
    assert box.dotkit("create", "attacks", cwd=app).code == 0
    done = box.dotkit("push", cwd=app)
    assert done.code == 0, done.text
    yield box, app
    box.dotkit("-y", "destroy", cwd=app)
    box.shutdown()
