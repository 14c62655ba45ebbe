"""environment.json: the platform's key names for one instance."""

from __future__ import annotations

import json

from kit.sandbox import envfile
from testing.apps import make_service


def test_environment_has_the_platform_keys() -> None:
    www = make_service("www", approot="www", environment={"NODE_ENV": "production"})
    chat = make_service("chat", approot="chat", ports={"irc": "tcp"})
    env = envfile.environment(
        app="demo",
        services=[www, chat],
        service=chat,
        instance=0,
        tcp_ports={"chat.irc": 42800},
        public_ports={"chat.irc.0": 17455},
        app_env={"NODE_ENV": "staging"},
    )
    assert env == {
        "DOTCLOUD_PROJECT": "demo",
        "DOTCLOUD_ENVIRONMENT": "default",
        "DOTCLOUD_SERVICE_NAME": "chat",
        "DOTCLOUD_SERVICE_ID": "0",
        "DOTCLOUD_WWW_HTTP_HOST": "www.demo.sandbox",
        "DOTCLOUD_WWW_HTTP_URL": "http://www.demo.sandbox/",
        "DOTCLOUD_WWW_SSH_HOST": "www.demo.sandbox",
        "DOTCLOUD_WWW_SSH_PORT": "22",
        "DOTCLOUD_WWW_SSH_URL": "ssh://dotcloud@www.demo.sandbox:22",
        "DOTCLOUD_CHAT_HTTP_HOST": "chat.demo.sandbox",
        "DOTCLOUD_CHAT_HTTP_URL": "http://chat.demo.sandbox/",
        "DOTCLOUD_CHAT_SSH_HOST": "chat.demo.sandbox",
        "DOTCLOUD_CHAT_SSH_PORT": "22",
        "DOTCLOUD_CHAT_SSH_URL": "ssh://dotcloud@chat.demo.sandbox:22",
        # The port the app binds is not the one clients connect to.
        "DOTCLOUD_CHAT_IRC_HOST": "chat.demo.sandbox",
        "DOTCLOUD_CHAT_IRC_PORT": "17455",
        "DOTCLOUD_CHAT_IRC_URL": "tcp://chat.demo.sandbox:17455",
        "PORT_IRC": "42800",
        "PORT_SSH": "22",
        "NODE_ENV": "staging",
    }
    written = json.loads(envfile.environment_json(env))
    assert written["PORT_SSH"] == 22 and written["PORT_IRC"] == "42800"
    assert "PORT_IRC: '42800'" in envfile.environment_yml(env)
    assert "PORT_SSH: 22\n" in envfile.environment_yml(env)


def test_data_services_have_credentials_and_the_ssh_user_of_their_type() -> None:
    www = make_service("www", approot="www")
    db = make_service("db", type="redis")
    env = envfile.environment(
        app="demo",
        services=[www, db],
        service=www,
        instance=0,
        tcp_ports={"db.redis": 42800},
        public_ports={"db.redis.0": 28088},
        passwords={"db": "s3cret"},
    )
    assert env["DOTCLOUD_DB_REDIS_URL"] == "redis://root:s3cret@db.demo.sandbox:28088"
    assert env["DOTCLOUD_DB_REDIS_LOGIN"] == "root"
    assert env["DOTCLOUD_DB_SSH_URL"] == "ssh://redis@db.demo.sandbox:22"
    assert "DOTCLOUD_DB_HTTP_URL" not in env


def test_scaled_tcp_services_give_each_instance_its_own_public_port() -> None:
    chat = make_service("chat", approot="chat", ports={"irc": "tcp"})
    public = {"chat.irc.0": 17455, "chat.irc.1": 17456}
    env = envfile.environment(
        app="demo",
        services=[chat],
        service=chat,
        instance=1,
        tcp_ports={"chat.irc": 42800},
        public_ports=public,
        counts={"chat": 2},
    )
    assert env["DOTCLOUD_SERVICE_ID"] == "1"
    # The unsuffixed keys are those of instance 0 (not a balanced address).
    for field in ("HOST", "PORT", "URL"):
        assert env[f"DOTCLOUD_CHAT_IRC_{field}"] == env[f"DOTCLOUD_CHAT_IRC_{field}_0"]
    assert env["DOTCLOUD_CHAT_IRC_PORT_1"] == "17456"
    assert env["DOTCLOUD_CHAT_IRC_URL_1"] == "tcp://chat.demo.sandbox:17456"
    assert env["PORT_IRC"] == env["PORT_IRC_0"] == env["PORT_IRC_1"] == "42800"
    endpoints = envfile.endpoints("demo", [chat], public, {"chat": 2})
    assert [ep.route for ep in endpoints] == ["chat.http", "chat.irc.0", "chat.irc.1"]
    assert {ep.ip for ep in endpoints} == {"127.0.10.2"}  # one address, a port per instance
    assert envfile.public_keys([chat], {"chat": 2}) == ["chat.irc.0", "chat.irc.1"]
