"""Which revision `deploy latest|previous|NAME` means."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.sandbox.layout import Layout
from kit.sandbox.records import Deployment
from kit.sandbox.revisions import resolve_revision, revisions
from kit.sandbox.state import create_app, load_app, save_app, save_deployment


def test_latest_previous_and_names(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    record = create_app(layout, "shop")
    app = layout.app("shop")
    with pytest.raises(UsageError, match='"shop" has no revisions yet'):
        resolve_revision(layout, "shop", "latest")
    for age, rev in enumerate(["rsync-3", "rsync-1", "rsync-2"]):
        app.revision(rev).mkdir(parents=True)
        os.utime(app.revision(rev), (1000 + age, 1000 + age))
    assert revisions(app) == ["rsync-3", "rsync-1", "rsync-2"]  # oldest first, by upload
    for number, rev, status in [(1, "rsync-3", "deployed"), (2, "rsync-1", "failed"),
                                (3, "rsync-2", "deployed")]:  # fmt: skip
        save_deployment(app, Deployment(f"d{number}", number, 1.0, "process", status=status,
                                        revision=rev))  # fmt: skip
    save_app(layout, dataclasses.replace(record, current="d3", revision="rsync-2"))
    assert resolve_revision(layout, "shop", "latest") == "rsync-2"
    assert resolve_revision(layout, "shop", "previous") == "rsync-3"  # d2 failed: not it
    assert resolve_revision(layout, "shop", "rsync-1") == "rsync-1"
    with pytest.raises(UsageError, match="there is no revision 'rsync-9'"):
        resolve_revision(layout, "shop", "rsync-9")
    save_app(layout, dataclasses.replace(load_app(layout, "shop"), revision="rsync-3"))
    assert resolve_revision(layout, "shop", "previous") == "rsync-2"
