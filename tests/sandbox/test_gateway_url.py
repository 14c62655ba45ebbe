"""`dotkit url`: each service's own port first, then its names at the gateway, and --trust."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox.layout import Layout
from kit.sandbox.state import create_app, save_app


@pytest.fixture
def deployed() -> Path:
    """A sandbox whose app "shop" runs www and api, as a push leaves it."""
    home = Path(os.environ["DOTKIT_HOME"])
    layout = Layout(home)
    data = create_app(layout, "shop")
    data["http_ports"] = {"www": 41001, "api": 41002}
    data["containers"] = {"www": ["www.0-d1"], "api": ["api.0-d1"]}
    save_app(layout, data)
    (home / "gateway").mkdir(parents=True)
    (home / "gateway" / "ports.json").write_text(json.dumps({"http": 40080, "https": 40443}))
    return home


def test_url_prints_the_port_then_the_names(deployed: Path, cli: Callable[..., Any]) -> None:
    done = cli("-A", "shop", "url")
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        "api: http://127.0.0.1:41002/",
        "www: http://127.0.0.1:41001/",
        "api (by name): http://api.shop.localhost:40080/",
        "api (HTTPS): https://api.shop.localhost:40443/",
        "www (by name): http://shop.localhost:40080/",
        "www (HTTPS): https://shop.localhost:40443/",
        "(HTTPS is signed by the sandbox's own CA: dotkit url --trust says how to trust it)",
    ]
    # One service: its own port only, as scripts read it.
    assert cli("-A", "shop", "url", "www").out == "http://127.0.0.1:41001/\n"


def test_url_without_the_gateway_ports_prints_the_ports_only(
    deployed: Path, cli: Callable[..., Any]
) -> None:
    (deployed / "gateway" / "ports.json").write_text("{not json")
    assert cli("-A", "shop", "url").out.splitlines() == [
        "api: http://127.0.0.1:41002/",
        "www: http://127.0.0.1:41001/",
    ]


def test_url_trust_names_the_ca_and_the_commands(deployed: Path, cli: Callable[..., Any]) -> None:
    done = cli("-A", "shop", "url", "--trust")
    ca = deployed / "gateway" / "ca.pem"
    assert done.code == 0
    assert f"  {ca}\n" in done.out
    assert f"curl --cacert {ca} https://APP.localhost:PORT/" in done.out
    assert f"NODE_EXTRA_CA_CERTS={ca}" in done.out
    assert "update-ca-certificates" in done.out and "certutil" in done.out
