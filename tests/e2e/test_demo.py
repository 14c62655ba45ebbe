"""The README's main job, as a new user runs it: scripts/demo.sh from start to end."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, Sandbox, needs_node

pytestmark = [pytest.mark.e2e, needs_node]


def test_the_main_job_converts_verifies_pushes_and_answers_over_http_and_https(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "portedapp"
    env = {**sandbox.env, "DEMO_OUT": str(out)}
    done = subprocess.run(
        [str(REPO / "scripts" / "demo.sh")], env=env, capture_output=True, text=True,
        timeout=900, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = done.stdout
    for shown in ("gear1 at http://", "gear1 (by name) at http://", "gear1 (HTTPS) at https://",
                  "gear2 (HTTPS) at https://"):  # fmt: skip
        assert f"--- {shown}" in said
    assert said.count('"gear": "Gear1"') >= 3  # over HTTP, by name and over HTTPS
    assert "--- gear1: node v0.8.28" in said and "--- gear2: node v0.8.28" in said
    assert f"cd {out} && " in said
    destroy = sandbox.dotkit("-y", "destroy", cwd=out)
    assert destroy.code == 0, destroy.text
    assert (out / "Gear1").is_dir()
