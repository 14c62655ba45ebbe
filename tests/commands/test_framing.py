"""The 0.9.8 CLI's output framing, from values (the commands themselves: tests/e2e)."""

from __future__ import annotations

import time

from kit.commands import _framing
from kit.commands._framing import DeploymentRow, InstanceInfo, ServiceRow


def test_dlist_has_the_real_header_rows_and_hints() -> None:
    started = time.mktime((2026, 12, 3, 10, 0, 0, 0, 0, -1))
    rows = [
        DeploymentRow(started, "rsync-1796293706224", "d1", "deployed"),
        DeploymentRow(started + 60, None, "d2", "failed"),
    ]
    assert _framing.dlist("shop", rows) == [
        "deployment date     revision                 deploy_id [application shop]",
        "2026-12-03 10:00:00 rsync-1796293706224      d1     deployed",
        "2026-12-03 10:01:00 -                        d2     failed",
        "-- <hint> display previous deployment's logs:",
        "dotkit dlogs d1",
        "-- <hint> display latest deployment's logs:",
        "dotkit dlogs latest",
    ]


def test_info_of_an_app_and_of_a_service() -> None:
    rows = [ServiceRow("www", "nodejs", 2, "512M", "http://127.0.0.1:4000/")]
    assert _framing.info_app("shop", "sandbox (bwrap backend)", "rsync-1", "d3", rows) == [
        "=== shop",
        "flavor:       sandbox (bwrap backend)",
        "cost to date: Free",
        "revision:     rsync-1",
        "deployment:   d3",
        "services:",
        "name  type    containers  reserved memory  url",
        "www   nodejs  2           512M             http://127.0.0.1:4000/",
    ]
    instance = InstanceInfo(0, "www-0", "www.0-d3", "nodejs/v0.8.28", "rsync-1",
                            [("irc", "tcp://127.0.0.1:17455")], True, "/h")  # fmt: skip
    lines = _framing.info_service(
        "www", "nodejs", "512M", [("node_version", "v0.8.x")], ["http://x/"], [instance]
    )
    assert lines[:7] == [
        "== www",
        "type:            nodejs",
        "instances:       1",
        "reserved memory: 512M",
        "config:          node_version: v0.8.x",
        "URLs:",
        "  - http://x/",
    ]
    assert lines[7:11] == ["", "=== www.0", "datacenter:       sandbox (this machine)",
                           "host:             www-0"]  # fmt: skip
    assert "ports:            irc: tcp://127.0.0.1:17455" in lines


def test_status_probes_then_lists_each_instance_and_its_programs() -> None:
    lines = _framing.status(
        "www", [(0, True, [("node", "RUNNING", "pid 5, uptime 0:00:10")]), (1, False, [])]
    )
    assert lines == [
        '==> Probing status for service "www"...',
        "www.0: up",
        "    node         RUNNING   pid 5, uptime 0:00:10",
        "www.1: down",
    ]
