"""The platform process's own state: what it restores on start (containers for real:
tests/e2e/test_push.py::test_a_killed_platform_process_is_recovered_by_the_next_command)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox.daemon import Platform
from kit.sandbox.layout import Layout
from kit.sandbox.runtime import Route, Runtime, load_runtime
from kit.sandbox.state import write_json


def test_a_damaged_runtime_costs_only_its_own_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(tmp_path / "home")
    good, bad = layout.app("good"), layout.app("bad")
    for app in (good, bad):
        app.root.mkdir(parents=True)
    listen = (f"unix:{tmp_path}/www.http.sock",)
    write_json(
        good.runtime, Runtime(routes={"www.http": Route(listen, ("tcp:127.0.0.1:9",))}).to_data()
    )
    bad.runtime.write_text('{"containers": {"www.0-d1": {"cid": "www.0-d1"')

    async def scenario() -> dict[str, Any]:
        platform = Platform(layout)
        await platform.restore()
        status = await platform.op_status()
        await platform.op_unroute(app="good", name="www.http")
        return status

    # A thread of its own: another test module may leave an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        status = pool.submit(asyncio.run, scenario()).result()
    assert status["containers"] == {}
    assert status["routes"]["www.http"]["listen"] == list(listen)
    assert status["routes"]["www.http"]["backends"] == ["tcp:127.0.0.1:9"]
    assert (
        f"not restoring bad: {bad.runtime} ends in the middle of its JSON"
        in capsys.readouterr().err
    )
    assert load_runtime(good) == Runtime()  # written back as it now is: nothing routed
