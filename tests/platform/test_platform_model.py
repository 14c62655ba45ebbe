"""The platform model: services as dotcloud.yml describes them, and the names the platform uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.platform import envkeys
from kit.platform.facts import NODE_VERSIONS, PLATFORM_DEFAULT_NODE_VERSION
from kit.platform.model import App, Service, service_from_body
from kit.platform.names import env_key_problem, normalize_env_key, sanitize_service_name


def service(body: dict[str, object], name: str = "www") -> Service:
    return service_from_body(name, body, approot=".", approot_ok=True, line=1)


def test_a_nodejs_service_carries_everything_the_sandbox_needs() -> None:
    svc = service(
        {
            "type": "nodejs",
            "instances": 2,
            "config": {"node_version": "v0.8.x"},
            "prebuild": "make assets",
            "postinstall": "./migrate",
            "ports": {"chat": "tcp", "www": "http"},
            "environment": {"DEBUG": True, "N": 3},
            "processes": {"web": "node web.js", "nested": {"no": "dicts"}},
            "systempackages": ["libxml2-dev"],
        }
    )
    assert svc.instances == 2 and svc.is_code
    assert svc.node_version == "v0.8.x"
    assert svc.hooks == {"prebuild": "make assets"}
    assert svc.postinstall == "./migrate"
    assert svc.tcp_ports == ("chat",) and svc.port_names == ("chat",)
    assert svc.environment == {"DEBUG": "True", "N": "3"}
    assert svc.processes == {"web": "node web.js"}  # a mapping is not a command
    assert svc.systempackages == ("libxml2-dev",)


def test_without_config_the_platform_default_node_runs() -> None:
    assert service({"type": "nodejs"}).node_version == PLATFORM_DEFAULT_NODE_VERSION
    assert PLATFORM_DEFAULT_NODE_VERSION in NODE_VERSIONS
    # custom services were given node_version too; others take none
    assert service({"type": "custom", "config": {"node_version": "v0.6.x"}}).node_version == (
        "v0.6.x"
    )
    assert service({"type": "python"}).node_version is None


@pytest.mark.parametrize(
    ("kind", "port"), [("redis", "redis"), ("mysql", "mysql"), ("postgresql", "sql")]
)
def test_a_data_service_is_reached_at_its_own_port_name(kind: str, port: str) -> None:
    svc = service({"type": kind}, name="db")
    assert not svc.is_code and svc.port_names == (port,)
    assert envkeys.service_var("db", port, "url") == f"DOTCLOUD_DB_{port.upper()}_URL"


def test_values_of_the_wrong_type_are_left_out() -> None:
    svc = service(
        {"type": "nodejs", "instances": 0, "process": ["node"], "config": "v0.8.x", "ports": []}
    )
    assert (svc.instances, svc.process, svc.config, svc.ports) == (1, None, {}, {})


def test_an_app_splits_its_services() -> None:
    www, db = service({"type": "nodejs"}), service({"type": "redis"}, name="db")
    app = App(Path("/app"), ("dotcloud.yml",), (www, db))
    assert app.code_services == (www,) and app.data_services == (db,)


def test_urls_of_data_services_use_the_platform_schemes() -> None:
    assert envkeys.data_url("postgresql", "h", 5, "pw") == "pgsql://root:pw@h:5"
    assert envkeys.data_url("redis", "h", 5, "pw") == "redis://root:pw@h:5"
    assert envkeys.port_var("chat") == "PORT_CHAT"


@pytest.mark.parametrize(
    ("raw", "name"),
    [("Gear1", "gear1"), ("My-Web.App", "my_web_app"), ("x" * 20, "x" * 16), ("", "_")],
)
def test_service_names_are_sanitised(raw: str, name: str) -> None:
    assert sanitize_service_name(raw) == name


def test_env_names() -> None:
    assert normalize_env_key("mongo-host.x") == "MONGO_HOST_X"
    assert (
        env_key_problem("DOTCLOUD_X")
        == "names starting with DOTCLOUD_ are reserved for the platform"
    )
    assert env_key_problem("1A") == "a variable name cannot start with a digit"
    assert env_key_problem("A\nB") == "it holds characters a variable name cannot have: '\\n'"
    assert env_key_problem("GOOD_1") is None
