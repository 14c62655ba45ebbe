"""What the platform process accepts: requests checked against the layout (peers by their
credentials: tests/test_peers.py, and over a real socket: tests/sandbox/test_daemon.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox.admit import Refused, check_request, check_spec
from kit.sandbox.backend import ContainerSpec, Peer
from kit.sandbox.layout import Layout
from kit.sandbox.state import create_app


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    found = Layout(tmp_path / "home")
    create_app(found, "shop")
    return found


def spec(layout: Layout, **changes: Any) -> ContainerSpec:
    cid = "www.0-d1"
    good = ContainerSpec(
        cid=cid, app="shop", service="www", instance=0,
        home=str(layout.app("shop").container(cid)),
        sockets=str(layout.container_sockets("shop", cid)),
        services=str(layout.service_sockets("shop")),
        env={"NODE_ENV": "production", "BIG": "x" * 65536}, http=True,
        tcp_ports={"irc": 42800}, peers=[Peer("db.shop.sandbox", "127.0.10.2", 6379, "db.redis.sock")],
        hidden=layout.hidden, backend="bwrap",
    )  # fmt: skip
    return good._replace(**changes)


def refusal(layout: Layout, request: dict[str, Any], backend: str = "bwrap") -> str:
    with pytest.raises(Refused) as caught:
        check_request(layout, backend, request)
    return str(caught.value)


def start(layout: Layout, **changes: Any) -> dict[str, Any]:
    return {"op": "start", "spec": spec(layout, **changes).to_json()}


def test_a_spec_made_by_a_push_is_accepted(layout: Layout) -> None:
    op, args = check_request(layout, "bwrap", start(layout))
    assert op == "start" and check_spec(layout, "bwrap", args["spec"]) == spec(layout)


def test_a_spec_cannot_place_a_container_elsewhere(layout: Layout) -> None:
    other = create_app(layout, "other")
    cases = {
        "home": (str(layout.app(other.name).container("www.0-d1")), "home should be"),
        "sockets": ("/var/run", "sockets should be"),
        "services": ("/", "services should be"),
        "hidden": ([], "hidden should be"),
        "ro_binds": (("/etc", "/root"), "ro_binds should be ()"),
        "backend": ("process", "backend should be 'bwrap', not 'process'"),
        "instance": (1, "is not instance 1 of www"),
        "app": ("ghost", "there is no application 'ghost'"),
        "memory": (-1, "memory should be a whole number"),
    }
    for key, (value, words) in cases.items():
        assert words in refusal(layout, start(layout, **{key: value})), key


def test_a_spec_cannot_smuggle_names(layout: Layout) -> None:
    cases = {
        "env": ({"A=B": "x"}, "environment variable name 'A=B' is not valid"),
        "tcp_ports": ({"../x": 80}, "port name '../x' is not valid"),
        "peers": ([Peer("db", "8.8.8.8", 6379, "db.redis.sock")], "should be at a 127.x address"),
        "cid": ("www.0-d1/../../x", "should be a container id like www.0-d3"),
    }
    for key, (value, words) in cases.items():
        assert words in refusal(layout, start(layout, **{key: value})), key
    sneaky = [Peer("db", "127.0.0.2", 1, "../../platform/platform.sock")]
    assert "is not a service endpoint" in refusal(layout, start(layout, peers=sneaky))
    assert "NUL" in refusal(layout, start(layout, env={"A": "x\0y"}))
    assert "not started" in refusal(layout, {"op": "start", "spec": json.dumps({"cid": 1})})


def test_routes_listen_on_loopback_or_their_own_socket_and_reach_containers(
    layout: Layout,
) -> None:
    own = f"unix:{layout.service_sockets('shop')}/www.http.sock"
    good = {
        "op": "route", "app": "shop", "name": "www.http",
        "listen": ["tcp:127.0.0.1:42000", own], "backends": ["container:www.0-d1:8080"],
    }  # fmt: skip
    assert check_request(layout, "bwrap", good)[0] == "route"
    for listen in ("tcp:0.0.0.0:80", "unix:/etc/evil.sock", f"{own}/../../x.sock"):
        assert "route www.http may listen on" in refusal(layout, {**good, "listen": [listen]})
    wide = refusal(layout, {**good, "listen": ["tcp:127.0.0.1:99999"]})
    assert wide == "tcp:127.0.0.1:99999: port 99999 is not between 1 and 65535"
    for backend in ("tcp:10.0.0.1:22", "unix:/var/run/docker.sock", "container:../x:80"):
        assert "is not container:CID:PORT" in refusal(layout, {**good, "backends": [backend]})


def test_retiring_removes_only_the_retired_containers_folders(layout: Layout) -> None:
    app = layout.app("shop")
    ok = {
        "op": "retire", "app": "shop", "name": "www.http", "cids": ["www.0-d1"],
        "backends": ["container:www.0-d1:8080"],
        "remove": [str(app.container("www.0-d1")), str(layout.container_sockets("shop", "www.0-d1"))],
    }  # fmt: skip
    assert check_request(layout, "bwrap", ok)[0] == "retire"
    for path in (str(layout.home), str(app.container("www.0-d2")), "/"):
        assert "may not remove" in refusal(layout, {**ok, "remove": [path]})


def test_ops_and_arguments_are_from_a_fixed_list(layout: Layout) -> None:
    assert refusal(layout, {"op": "shutdown", "now": True}) == "shutdown takes no argument 'now'"
    assert refusal(layout, {"op": "_launch"}) == 'there is no op "_launch"'
    assert refusal(layout, ["ping"]) == "a request is a JSON object"  # type: ignore[arg-type]
    assert "app should be an application name" in refusal(layout, {"op": "forget", "app": "../.."})
    assert "timeout should be between" in refusal(
        layout, {"op": "stop", "cid": "www.0-d1", "timeout": 1e9}
    )
    assert refusal(layout, {"op": "route", "app": "shop"}) == "route needs the argument 'name'"
    assert check_request(layout, "bwrap", {"op": "status", "app": None}) == (
        "status",
        {"app": None},
    )
