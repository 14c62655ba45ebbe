"""The engine's pure parts: the container's start script, apt's mirror, mounts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kit.engine import start
from kit.engine.mounts import mounts_under
from kit.engine.rootfs import DEFAULT_MIRROR, apt_mirror


def test_environment_fills_secrets_and_drops_the_engines_own() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOSTNAME": "abc",
        "DOTCLOUD_PROJECT": "counter",
        "DOTKIT_INSTANCE": "3",
        "DOTKIT_SECRETS": json.dumps(
            {
                "DOTCLOUD_DB_REDIS_PASSWORD": {"file": "/run/secrets/p", "format": "{secret}"},
                "DOTCLOUD_DB_REDIS_URL": {
                    "file": "/run/secrets/p",
                    "format": "redis://root:{secret}@db:6379",
                },
            }
        ),
    }
    env = start.environment(environ, "abc", "DOTCLOUD_SERVICE_ID", read=lambda path: "pw")
    assert env == {
        "DOTCLOUD_DB_REDIS_PASSWORD": "pw",
        "DOTCLOUD_DB_REDIS_URL": "redis://root:pw@db:6379",
        "DOTCLOUD_PROJECT": "counter",
        "DOTCLOUD_SERVICE_ID": "2",
    }


@pytest.mark.parametrize(
    ("environ", "hostname", "expected"),
    [
        ({"DOTKIT_INSTANCE": "1"}, "x", "0"),
        ({"DOTKIT_INSTANCE": "{{.Task.Slot}}"}, "x", "0"),
        ({"DOTKIT_INSTANCE_FROM": "hostname"}, "www-2", "2"),
        ({"DOTKIT_INSTANCE_FROM": "hostname"}, "www", "0"),
        ({}, "www-7", "0"),
    ],
)
def test_instance_id(environ: dict[str, str], hostname: str, expected: str) -> None:
    assert start.instance_id(environ, hostname) == expected


def test_the_yaml_copy_reads_back_as_the_json() -> None:
    env = {"A": "yes", "B": "0755", "C": 'quo"te\nline', "D": "é"}
    assert yaml.safe_load(start.yaml_text(env)) == env


def test_router_config_balances_and_sets_the_gateways_headers() -> None:
    text = start.haproxy_conf(
        [
            {
                "service": "www",
                "host": "www",
                "port": 8080,
                "mode": "http",
                "listen": 8000,
                "slots": 10,
            },
            {
                "service": "chat",
                "host": "chat",
                "port": 42800,
                "mode": "tcp",
                "listen": 8001,
                "slots": 10,
            },
        ]
    )
    assert "  bind :8000" in text and "  bind :8001" in text
    assert "server-template i 10 www:8080 check resolvers engine init-addr none" in text
    assert "X-Forwarded-Proto" in text.split("frontend chat_42800")[0]
    assert "X-Forwarded-Proto" not in text.split("frontend chat_42800")[1]


def test_redis_config_keeps_data_in_home_data() -> None:
    text = start.redis_conf(6379, "pw", "/home/dotcloud/data")
    assert 'requirepass "pw"' in text and 'dir "/home/dotcloud/data"' in text


def test_apt_mirror() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    assert apt_mirror([deb822]) == "http://mirror.example/debian"
    assert apt_mirror(["deb [arch=amd64] http://m.example/debian/ bookworm main\n"]) == (
        "http://m.example/debian"
    )
    assert (
        apt_mirror(["deb https://deb.nodesource.com/node_20.x nodistro main\n"]) == DEFAULT_MIRROR
    )


def test_mounts_under_deepest_first() -> None:
    info = "\n".join(
        [
            "1 2 0:1 / /tmp/d rw - tmpfs x rw",
            "3 1 0:2 / /tmp/d/exec/netns/a rw - nsfs x rw",
            "4 1 0:3 / /tmp/dx rw - tmpfs x rw",
            "5 1 0:4 / /tmp/d/with\\040space rw - tmpfs x rw",
        ]
    )
    assert mounts_under(Path("/tmp/d"), info) == [
        "/tmp/d/exec/netns/a",
        "/tmp/d/with space",
        "/tmp/d",
    ]
