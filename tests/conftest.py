from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from kit.cli import main
from testing.apps import write_files
from testing.engine_fixtures import (  # noqa: F401 (fixtures)
    daemon,
    image_cache,
    platform_image,
    platform_sql_image,
)

REPO = Path(__file__).resolve().parent.parent
GUIDE_APP = REPO / "sample_apps" / "nodesocket-guide"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Property tests check what a function does, not how fast: the suite shares two cores
# with real servers and builds, where one example can take longer than Hypothesis's
# default 200 ms without anything being wrong.
settings.register_profile("dotkit", deadline=None)
settings.load_profile("dotkit")


@pytest.fixture(autouse=True)
def _no_writes_to_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never touch the real home directory or the kit's real state."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("DOTKIT_HOME", str(home / "dotkit"))


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``dotkit`` in-process and capture what it printed."""

    def run(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def guide_app(tmp_path: Path) -> Path:
    """A private copy of the guide's sample app."""
    dest = tmp_path / "nodesocket-guide"
    shutil.copytree(GUIDE_APP, dest)
    return dest


def make_app(root: Path, gears: dict[str, dict[str, str | bytes]]) -> Path:
    """Write a nodeSocket app: {gear dir: {relative path: content}}."""
    for gear, files in gears.items():
        write_files(root if gear == "." else root / gear, files)
    return root


@pytest.fixture(scope="session", autouse=True)
def _no_socket_folders_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The socket folders (``Layout.runtime``, outside the test's tmp_path: /run for root)
    of every sandbox this session made go with the session."""
    yield
    from kit.sandbox.layout import runtime_folder

    base = tmp_path_factory.getbasetemp()
    for folder, dirs, _ in os.walk(base):
        depth = Path(folder).relative_to(base).parts
        if len(depth) >= 4:
            dirs.clear()
        runtime = runtime_folder(Path(folder))
        if not runtime.is_relative_to(base):
            shutil.rmtree(runtime, ignore_errors=True)
