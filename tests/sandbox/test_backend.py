"""Container specs and the hosts file a container gets (the isolation itself is tested
for real in tests/e2e and tests/security)."""

from __future__ import annotations

from kit.sandbox.backend import ContainerSpec, Peer, hosts_file


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
