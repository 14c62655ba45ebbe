"""Where the sandbox keeps things, and the names it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.sandbox.layout import Layout, check_app_name


def test_app_names_and_socket_paths(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a valid application name"):
        check_app_name("Bad Name")
    with pytest.raises(UsageError, match="is not a valid application name"):
        check_app_name("../etc")
    layout = Layout(tmp_path / ("x" * 150))
    sock = layout.container_sockets("a" * 30, "servicename12345.9-d999") / "supervisor.sock"
    assert len(str(sock)) < 108  # a Unix socket's path limit
    assert layout.hidden == [str((tmp_path / ("x" * 150)).resolve()), str(layout.runtime)]
    assert layout.app("shop").runtime == tmp_path / ("x" * 150) / "apps" / "shop" / "runtime.json"
