"""The support bundle: one zip, every text masked, readable by its owner only."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from kit.repro.bundle import write_bundle


def test_the_bundle_is_private_and_masked(tmp_path: Path) -> None:
    path = tmp_path / "repro-T1.zip"
    files = [("summary.md", "password hunter2"), ("env/www.0.json", '{"K": "hunter2"}')]
    write_bundle(path, "repro-T1", files, lambda text: text.replace("hunter2", "********"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["repro-T1/summary.md", "repro-T1/env/www.0.json"]
        assert all(b"hunter2" not in zf.read(name) for name in zf.namelist())
    assert [p.name for p in tmp_path.iterdir()] == ["repro-T1.zip"]
