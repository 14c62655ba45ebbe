"""`dotkit url`'s gateway lines and `dotkit url --trust` (the whole output: tests/e2e)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kit.commands.inspect import _gateway_lines


@pytest.fixture
def home() -> Path:
    """The test's $DOTKIT_HOME, with the gateway's ports chosen."""
    path = Path(os.environ["DOTKIT_HOME"])
    (path / "gateway").mkdir(parents=True)
    (path / "gateway" / "ports.json").write_text(json.dumps({"http": 40080, "https": 40443}))
    return path


def test_each_service_by_name_over_http_and_https(home: Path) -> None:
    assert _gateway_lines(["api", "www"], "shop") == [
        "api (by name): http://api.shop.localhost:40080/",
        "api (HTTPS): https://api.shop.localhost:40443/",
        "www (by name): http://shop.localhost:40080/",
        "www (HTTPS): https://shop.localhost:40443/",
        "(HTTPS is signed by the sandbox's own CA: dotkit url --trust says how to trust it)",
    ]
    assert _gateway_lines([], "shop") == []


@pytest.mark.parametrize("content", ["{not json", '{"http": 0, "https": 1}', '{"http": 1}'])
def test_no_gateway_lines_without_sound_ports(home: Path, content: str) -> None:
    (home / "gateway" / "ports.json").write_text(content)
    assert _gateway_lines(["www"], "shop") == []


def test_url_trust_names_the_ca_and_the_commands(home: Path, cli: Callable[..., Any]) -> None:
    done = cli("url", "--trust")
    ca = home / "gateway" / "ca.pem"
    assert done.code == 0, done.err
    assert f"  {ca}\n" in done.out
    assert f"curl --cacert {ca} https://APP.localhost:PORT/" in done.out
    assert f"NODE_EXTRA_CA_CERTS={ca}" in done.out
    assert "update-ca-certificates" in done.out and "certutil" in done.out
