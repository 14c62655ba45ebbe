"""environment.json: the platform's key names for one instance."""

from __future__ import annotations

from kit.sandbox import envfile
from testing.apps import make_service


def test_environment_has_the_platform_keys() -> None:
    www = make_service("www", approot="www", environment={"NODE_ENV": "production"})
    chat = make_service("chat", approot="chat", ports={"irc": "tcp"})
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


def test_scaled_tcp_services_get_one_endpoint_per_instance() -> None:
    chat = make_service("chat", approot="chat", ports={"irc": "tcp"})
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
