"""The sandbox's pure parts: environment.json, build-cache decisions, configs, the router."""

from __future__ import annotations

import asyncio
import configparser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.platform.model import Service
from kit.sandbox import envfile, supconf
from kit.sandbox.backend import ContainerSpec, Inside, Peer, hosts_file
from kit.sandbox.build import cache_decision
from kit.sandbox.layout import Layout, check_app_name
from kit.sandbox.pipe import Route, listen, parse_endpoint


def _svc(name: str, **kw: object) -> Service:
    base = {
        "name": name,
        "type": "nodejs",
        "approot": name,
        "line": 1,
        "instances": 1,
        "ports": {},
        "environment": {},
        "process": None,
        "processes": {},
        "approot_ok": True,
    }
    base.update(kw)
    return Service(**base)  # type: ignore[arg-type]


def test_environment_has_the_platform_keys() -> None:
    www = _svc("www", environment={"NODE_ENV": "production"})
    chat = _svc("chat", ports={"irc": "tcp"})
    env = envfile.environment(
        app="demo",
        services=[www, chat],
        service=chat,
        instance=1,
        tcp_ports={"chat.irc": 42800},
        app_env={"NODE_ENV": "staging"},
    )
    assert env == {
        "DOTCLOUD_PROJECT": "demo",
        "DOTCLOUD_ENVIRONMENT": "default",
        "DOTCLOUD_SERVICE_NAME": "chat",
        "DOTCLOUD_SERVICE_ID": "1",
        "DOTCLOUD_WWW_HTTP_HOST": "www.demo.sandbox",
        "DOTCLOUD_WWW_HTTP_URL": "http://www.demo.sandbox/",
        "DOTCLOUD_CHAT_HTTP_HOST": "chat.demo.sandbox",
        "DOTCLOUD_CHAT_HTTP_URL": "http://chat.demo.sandbox/",
        "DOTCLOUD_CHAT_IRC_HOST": "chat.demo.sandbox",
        "DOTCLOUD_CHAT_IRC_PORT": "42800",
        "DOTCLOUD_CHAT_IRC_URL": "tcp://chat.demo.sandbox:42800",
        "PORT_IRC": "42800",
        "NODE_ENV": "staging",
    }
    assert "PORT_IRC: '42800'" in envfile.environment_yml(env)


@pytest.mark.parametrize(
    ("previous", "clean", "snapshot", "restore", "why"),
    [
        (None, False, False, False, "no previous build to start from (clean build)"),
        (
            {"package_json": "a", "node_version": "v0.8.x", "prebuild": None, "postbuild": None},
            True,
            True,
            False,
            "clean build requested (--clean): starting from an empty build container",
        ),
        (
            {"package_json": "a", "node_version": "v0.6.x", "prebuild": None, "postbuild": None},
            False,
            True,
            False,
            "node_version changed (v0.6.x -> v0.8.x): starting from an empty build container",
        ),
        (
            {"package_json": "b", "node_version": "v0.8.x", "prebuild": None, "postbuild": None},
            False,
            True,
            True,
            "restoring the previous build snapshot; package.json changed (b -> a), npm install will update node_modules",
        ),
        (
            {"package_json": "a", "node_version": "v0.8.x", "prebuild": None, "postbuild": None},
            False,
            True,
            True,
            "restoring the previous build snapshot: package.json unchanged (sha256 a), node_version v0.8.x, hooks unchanged",
        ),
    ],
)
def test_cache_decisions(previous, clean, snapshot, restore, why) -> None:  # type: ignore[no-untyped-def]
    key = {"package_json": "a", "node_version": "v0.8.x", "prebuild": None, "postbuild": None}
    assert cache_decision(previous, key, clean=clean, has_snapshot=snapshot) == (restore, why)


def test_container_supervisord_conf_is_valid_and_includes_the_app() -> None:
    inside = Inside(
        "/home/dotcloud", "/run/dotkit/self", "/run/dotkit/services", "/var/log/supervisor", True
    )
    text = supconf.render(
        inside,
        include_app_conf=True,
        process=None,
        processes={"worker": "node w.js 100%"},
        service="www",
        app_conf_path="/home/dotcloud/current/supervisord.conf",
    )
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert parser["include"]["files"] == "/home/dotcloud/current/supervisord.conf"
    assert parser["program:worker"]["command"] == '/bin/sh -lc "exec node w.js 100%%"'
    assert parser["unix_http_server"]["file"] == "/run/dotkit/self/supervisor.sock"


def test_hosts_file_names_the_other_services() -> None:
    spec = ContainerSpec(
        "www.0-d1",
        "demo",
        "www",
        0,
        "/h",
        "/s",
        "/v",
        {},
        True,
        {},
        [Peer("db.demo.sandbox", "127.0.10.3", 6379, "db.redis.sock")],
        [],
        "bwrap",
    )
    assert "127.0.10.3\tdb.demo.sandbox" in hosts_file(spec)
    assert ContainerSpec.from_json(spec.to_json()) == spec


def test_app_names_and_socket_paths(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a valid application name"):
        check_app_name("Bad Name")
    layout = Layout(tmp_path / ("x" * 150))
    assert (
        len(str(layout.container_sockets("a" * 30, "servicename12345.9-d999") / "supervisor.sock"))
        < 108
    )
    assert parse_endpoint("tcp:127.0.0.1:80") == ("tcp", "127.0.0.1", 80)
    with pytest.raises(ValueError, match="not an endpoint"):
        parse_endpoint("http://x")


def test_route_retries_the_next_backend_and_counts_failures(tmp_path: Path) -> None:
    async def scenario() -> tuple[bytes, int, int]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"pong")
            await writer.drain()
            writer.close()

        good = await asyncio.start_unix_server(answer, f"{tmp_path}/good.sock")
        route = Route([f"unix:{tmp_path}/missing.sock", f"unix:{tmp_path}/good.sock"])
        front = await listen("tcp:127.0.0.1:0", route)
        port = front.sockets[0].getsockname()[1]
        replies = []
        for _ in range(4):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            replies.append(await reader.read())
            writer.close()
        route.set_backends([f"unix:{tmp_path}/missing.sock"])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lost = await reader.read()
        writer.close()
        good.close()
        front.close()
        assert set(replies) == {b"pong"}
        return lost, route.failed, route.connections

    # A thread of its own: another test module may leave an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        lost, failed, connections = pool.submit(asyncio.run, scenario()).result()
    assert (lost, failed, connections) == (b"", 1, 5)


def test_scaled_tcp_services_get_one_endpoint_per_instance() -> None:
    chat = _svc("chat", ports={"irc": "tcp"})
    env = envfile.environment(
        app="demo",
        services=[chat],
        service=chat,
        instance=1,
        tcp_ports={"chat.irc": 42800},
        counts={"chat": 2},
    )
    assert env["DOTCLOUD_SERVICE_ID"] == "1"
    assert env["DOTCLOUD_CHAT_IRC_HOST"] == "chat.demo.sandbox"
    assert env["DOTCLOUD_CHAT_IRC_HOST_0"] == "chat-0.demo.sandbox"
    assert env["DOTCLOUD_CHAT_IRC_HOST_1"] == "chat-1.demo.sandbox"
    assert env["DOTCLOUD_CHAT_IRC_URL_1"] == "tcp://chat-1.demo.sandbox:42800"
    assert env["PORT_IRC"] == env["PORT_IRC_0"] == env["PORT_IRC_1"] == "42800"
    routes = [
        ep.route for ep in envfile.endpoints("demo", [chat], {"chat.irc": 42800}, {"chat": 2})
    ]
    assert routes == ["chat.http", "chat.irc", "chat.irc.0", "chat.irc.1"]
