"""A re-run of `dotkit verify` reuses the last run's work exactly when nothing it used changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.paths import cache_dir
from kit.verify import buildfile, runner
from kit.verify.fast import memo
from kit.verify.fast.memo import memo_path
from kit.verify.runner import verify_app
from testing.apps import VERIFY_APP as APP
from testing.apps import age, write_files


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "app", APP)
    age(root)
    return root


@pytest.fixture
def build_file_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The roots check_build_file ran for: it runs only when the memo cannot answer."""
    seen: list[Path] = []
    real = buildfile.check_build_file

    def spy(root: Path, files: object, **kwargs: object) -> object:
        seen.append(root)
        return real(root, files, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(buildfile, "check_build_file", spy)
    return seen


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []
    real = runner.scan_app

    def spy(root: Path, **kwargs: object) -> object:
        seen.append(root)
        return real(root, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "scan_app", spy)
    return seen


def rules(root: Path, **kwargs: object) -> list[str]:
    return [f.rule for f in verify_app(root, **kwargs)]  # type: ignore[arg-type]


def test_rerun_with_nothing_changed_walks_nothing_and_checks_no_file_again(
    app: Path, build_file_runs: list[Path], scans: list[Path]
) -> None:
    first = verify_app(app)
    assert [f.rule for f in first] == ["localhost-service"]
    assert (len(build_file_runs), len(scans)) == (1, 1)
    assert verify_app(app) == first
    assert (len(build_file_runs), len(scans)) == (1, 1)


def test_edited_javascript_is_analysed_without_redoing_the_file_checks(
    app: Path, build_file_runs: list[Path], scans: list[Path]
) -> None:
    verify_app(app)
    (app / "web" / "server.js").write_text("require('http').createServer(h).listen(3000);\n")
    assert rules(app) == ["localhost-service", "http-port-not-8080"]
    assert (len(build_file_runs), len(scans)) == (1, 1)


def test_edited_supervisord_conf_is_checked_again(app: Path, build_file_runs: list[Path]) -> None:
    verify_app(app)
    conf = app / "web" / "supervisord.conf"
    conf.write_text("[program:node]\ncommand = node main.js\ndirectory = /home/dotcloud/current\n")
    assert rules(app) == ["localhost-service", "supervisord-command-missing-file"]
    assert len(build_file_runs) == 2


def test_edited_build_file_is_checked_again(app: Path) -> None:
    verify_app(app)
    (app / "dotcloud.yml").write_text("www:\n  type: nodejs\n  approot: webb\n")
    assert rules(app) == ["approot-missing"]


def test_a_new_file_is_listed(app: Path, scans: list[Path]) -> None:
    verify_app(app)
    write_files(app, {"web/routes/api.js": "require('net').createServer(f).listen(7000);\n"})
    assert "tcp-port-undeclared" in rules(app)
    assert len(scans) == 2


def test_a_changed_ignore_file_lists_the_app_again(app: Path) -> None:
    write_files(app, {"web/debug.js": "require('http').createServer(h).listen(3000);\n"})
    age(app)
    assert rules(app) == ["localhost-service", "http-port-not-8080"]
    (app / ".gitignore").write_text("*.log\ndebug.js\n")
    assert rules(app) == ["localhost-service"]


def test_an_answer_about_an_ignored_file_is_asked_again(app: Path) -> None:
    # package.json ignored: the finding says so; once it is gone, the finding changes.
    (app / ".gitignore").write_text("web/package.json\n")
    age(app)
    (first,) = [f for f in verify_app(app) if f.rule == "package-json-missing"]
    assert "is ignored" in first.message
    (app / "web" / "package.json").unlink()
    os.utime(app / "web", ns=(0, 10**9))  # the folder's mtime alone would not tell
    (second,) = [f for f in verify_app(app) if f.rule == "package-json-missing"]
    assert "has no web/package.json" in second.message


def test_files_changed_just_now_are_not_trusted_next_time(
    tmp_path: Path, build_file_runs: list[Path]
) -> None:
    root = write_files(tmp_path / "fresh", APP)  # written now: within the racy window
    verify_app(root)
    verify_app(root)
    assert len(build_file_runs) == 2


def test_selection_is_applied_to_remembered_results(app: Path) -> None:
    verify_app(app)
    assert rules(app, select={"http-port-not-8080"}) == []
    assert rules(app, ignore={"localhost-service"}) == []
    assert rules(app) == ["localhost-service"]


def test_no_cache_reads_and_writes_no_memo(app: Path) -> None:
    verify_app(app, use_cache=False)
    assert not (cache_dir() / "verify").exists()
    verify_app(app)
    assert memo_path(cache_dir(), app).is_file()


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00" * 100, b"garbage that is not marshal", None],
    ids=["empty", "zeros", "garbage", "another-kit"],
)
def test_a_damaged_or_foreign_memo_is_ignored(app: Path, damage: bytes | None) -> None:
    first = verify_app(app)
    path = memo_path(cache_dir(), app)
    if damage is None:
        import marshal

        header, *rest = marshal.loads(path.read_bytes())
        path.write_bytes(marshal.dumps(((0, *header[1:]), *rest)))
    else:
        path.write_bytes(damage)
    assert verify_app(app) == first
    assert memo.load(path, app) is not None  # rewritten


def test_the_memo_holds_the_javascript_stat_index(app: Path) -> None:
    verify_app(app)
    saved = memo.load(memo_path(cache_dir(), app), app)
    assert saved is not None
    assert sorted(saved.js_index) == ["web/db.js", "web/lib/util.js", "web/server.js"]
    assert all(entry[1] > 0 for entry in saved.js_index.values())  # old enough to trust


def test_memos_unused_for_long_are_removed(app: Path, tmp_path: Path) -> None:
    folder = cache_dir() / "verify"
    folder.mkdir(parents=True)
    stale, recent = folder / ("0" * 32 + ".memo"), folder / ("1" * 32 + ".memo")
    for path in (stale, recent):
        path.write_bytes(b"x")
    os.utime(stale, (0, 0))
    verify_app(app)
    assert not stale.exists() and recent.exists()


def test_git_is_not_run_outside_a_work_tree(
    app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "git.log"
    write_files(tmp_path / "bin", {"git": f'#!/bin/sh\necho "$@" >> {log}\nexit 128\n'})
    (tmp_path / "bin" / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    verify_app(app)
    assert not log.exists()
    (app / ".git").mkdir()
    verify_app(app)
    assert " rev-parse --is-inside-work-tree" in log.read_text()
