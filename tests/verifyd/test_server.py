"""The verify server: runs answered from memory, changes learned from inotify, never wrong."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit import appfs
from kit.verify import disk
from kit.verify.fast import jscache
from kit.verify.runner import Changes, Tracker, verify_app
from kit.verifyd.client import forward
from kit.verifyd.watch import Watcher, _Event
from testing.apps import VERIFY_APP as APP
from testing.apps import age, write_files

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "app", APP)
    age(root)
    return root


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    watching = Watcher()
    yield watching
    watching.close()


def rules(root: Path, tracker: Tracker) -> list[str]:
    return [f.rule for f in verify_app(root, tracker=tracker)]


# --- the watcher ------------------------------------------------------------------------


def test_first_run_is_not_known_then_an_edit_is_named(app: Path, watcher: Watcher) -> None:
    assert watcher.changes(app) is None
    verify_app(app, tracker=watcher)
    assert watcher.changes(app) == Changes(False, frozenset())
    (app / "web" / "server.js").write_text("require('http').createServer(h).listen(3000);\n")
    assert watcher.changes(app) == Changes(False, frozenset({"web/server.js"}))


def test_new_removed_and_renamed_entries_change_the_folders(app: Path, watcher: Watcher) -> None:
    verify_app(app, tracker=watcher)
    (app / "web" / "new.js").write_text("x\n")
    (app / "web" / "lib" / "util.js").unlink()
    (app / "web" / "db.js").rename(app / "web" / "store.js")
    changes = watcher.changes(app)
    assert changes is not None and changes.folders
    assert changes.files == {"web/new.js", "web/lib/util.js", "web/db.js", "web/store.js"}


def test_a_run_consumes_only_the_changes_it_was_told(app: Path, watcher: Watcher) -> None:
    verify_app(app, tracker=watcher)
    watcher.changes(app)
    (app / "web" / "server.js").write_text("require('http').createServer(h).listen(3000);\n")
    watcher.drain()  # arrived during the run, after it asked
    watcher.finished(app, watcher.memo(app))  # type: ignore[arg-type]
    assert watcher.changes(app) == Changes(False, frozenset({"web/server.js"}))


def test_a_lost_event_queue_means_stat_calls_next_time(app: Path, watcher: Watcher) -> None:
    verify_app(app, tracker=watcher)
    watcher._take(_Event(wd=-1, mask=0x4000, cookie=0, name=""))  # IN_Q_OVERFLOW
    assert watcher.changes(app) is None
    verify_app(app, tracker=watcher)
    assert watcher.changes(app) == Changes(False, frozenset())


def test_a_file_changed_before_its_folder_was_watched_is_caught(
    app: Path, watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between the run's look at the files and the watch on their folder, a write
    # leaves no event: the watcher compares stats once when it starts watching.
    real = watcher.finished

    def edit_then_finish(root: Path, memo: object) -> None:
        (app / "web" / "lib" / "util.js").write_text("module.exports = 22;\n")
        real(root, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(watcher, "finished", edit_then_finish)
    verify_app(app, tracker=watcher)
    changes = watcher.changes(app)
    assert changes is not None and "web/lib/util.js" in changes.files


def test_unchanged_files_are_not_even_stat_ed(
    app: Path, watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify_app(app, tracker=watcher)
    verify_app(
        app, tracker=watcher
    )  # the first run left entries trusted by stat; now by the watcher
    seen: list[str] = []
    real = os.lstat

    def spy(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        seen.append(os.fspath(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    (app / "web" / "server.js").write_text("require('http').createServer(h).listen(3000);\n")
    monkeypatch.setattr(jscache.os, "lstat", spy)
    assert rules(app, watcher) == ["localhost-service", "http-port-not-8080"]
    assert not [p for p in seen if p.endswith(".js") and not p.endswith("server.js")]


EDITS = [
    ("web/server.js", "require('http').createServer(h).listen(3000);\n"),
    ("web/server.js", "require('http').createServer(h).listen(8080);\n"),
    ("web/db.js", "module.exports = 2;\n"),
    ("web/db.js", "require('redis').createClient(6379, '127.0.0.1');\n"),
    ("web/routes/api.js", "require('net').createServer(f).listen(7000);\n"),
    ("web/supervisord.conf", "[program:node]\ncommand = node main.js\n"),
    ("web/package.json", "{ not json\n"),
    ("dotcloud.yml", "www:\n  type: nodejs\n  approot: web\n  instances: 2\n"),
    (".gitignore", "routes/\n"),
    ("web/.gitignore", "lib/\n"),
]


@pytest.mark.parametrize("seed", range(8))
def test_runs_with_the_watcher_find_what_fresh_runs_find(
    app: Path, watcher: Watcher, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trust every stat at once, so that only the watcher's events stand between a
    # change and a stale result.
    for module in (appfs, disk, jscache):
        monkeypatch.setattr(module, "RACY_WINDOW_NS", 0)
    rng = random.Random(seed)
    verify_app(app, tracker=watcher)
    for _ in range(20):
        action = rng.random()
        rel, text = rng.choice(EDITS)
        path = app / rel
        if action < 0.6:
            write_files(app, {rel: text})
        elif action < 0.75 and path.exists():
            path.unlink()
        elif action < 0.9:  # the way editors save: a new file renamed over the old one
            temporary = path.with_name(f".{path.name}.swp")
            write_files(app, {str(temporary.relative_to(app)): text})
            temporary.replace(path)
        elif path.exists():
            os.utime(path)
        served = verify_app(app, tracker=watcher)
        assert served == verify_app(app, use_cache=False), (seed, rel, action)


# --- the server process -----------------------------------------------------------------


def dotkit(
    *args: str | Path, env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kit", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = {**os.environ, "DOTKIT_HOME": str(tmp_path / "home")}
    environment["DOTKIT_VERIFY_SERVER_IDLE"] = "60"
    yield environment
    done = dotkit("verify", "--stop-server", env=environment)
    pid = done.stderr.rpartition("pid ")[2].rstrip(")\n")
    if pid.isdigit():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(int(pid), signal.SIGKILL)
            pytest.fail(f"the verify server {pid} did not stop when asked")


def test_served_runs_print_what_runs_here_print(app: Path, env: dict[str, str]) -> None:
    fresh = dotkit("verify", app, "--no-cache", env=env)
    started = dotkit("verify", app, "--serve", env=env)
    assert (started.returncode, started.stdout) == (fresh.returncode, fresh.stdout)
    assert "verify server started" in started.stderr
    log = server_log(env)
    assert "serving" in log
    served = dotkit("verify", app, env=env)
    assert (served.returncode, served.stdout, served.stderr) == (fresh.returncode, fresh.stdout, "")
    again = dotkit("verify", app, "--serve", env=env)  # handed to the server, which serves it
    assert (again.returncode, again.stdout, again.stderr) == (fresh.returncode, fresh.stdout, "")
    assert server_log(env).count("serving") == 1
    (app / "web" / "server.js").write_text("require('http').createServer(h).listen(3000);\n")
    served = dotkit("verify", app, "--format", "json", env=env)
    assert served.returncode == 1 and '"http-port-not-8080"' in served.stdout
    # a relative APP is read in the client's folder
    relative = dotkit("verify", "app", "--format", "json", env=env, cwd=app.parent)
    assert relative.stdout.replace("app/", "") == served.stdout.replace(f"{app}/", "")
    assert server_log(env).count("failed") == 0


def server_log(env: dict[str, str]) -> str:
    path = Path(env["DOTKIT_HOME"]) / "cache" / "verify" / "server.log"
    return path.read_text() if path.exists() else ""


def test_a_server_declines_another_environment(app: Path, env: dict[str, str]) -> None:
    dotkit("verify", app, "--serve", env=env)
    other = {**env, "LANG": "C.UTF-8" if env.get("LANG") != "C.UTF-8" else "POSIX"}
    assert forward_in(other, ["verify", str(app)]) is None
    assert forward_in(env, ["verify", str(app)]) == 0


def forward_in(env: dict[str, str], argv: list[str], *prefix: str) -> int | None:
    code = (
        f"import sys; from kit.verifyd.client import forward; print('FORWARDED', forward({argv!r}))"
    )
    done = subprocess.run(
        [*prefix, sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    answer = done.stdout.rpartition("FORWARDED ")[2].strip()
    return None if answer == "None" else int(answer)


@pytest.mark.skipif(os.geteuid() != 0, reason="maps root in a user namespace: needs root")
def test_a_server_declines_its_own_user_inside_a_container(app: Path, env: dict[str, str]) -> None:
    """Its socket is abstract, so reachable from a build container (the host's network):
    a process of the same user, in namespaces of its own, gets no answer."""
    dotkit("verify", app, "--serve", env=env)
    container = ("unshare", "--user", "--map-root-user", "--pid", "--fork", "--")
    assert forward_in(env, ["verify", str(app)], *container) is None
    assert forward_in(env, ["verify", str(app)]) == 0


def test_no_cache_and_help_never_go_to_the_server() -> None:
    assert forward(["verify", ".", "--no-cache"]) is None
    assert forward(["verify", "--help"]) is None
    assert forward(["convert", "."]) is None


def test_stop_server_when_none_runs(env: dict[str, str]) -> None:
    done = dotkit("verify", "--stop-server", env=env)
    assert (done.returncode, done.stderr) == (0, "dotkit: no verify server was running\n")


def test_the_server_stops_when_idle(app: Path, env: dict[str, str]) -> None:
    quick = {**env, "DOTKIT_VERIFY_SERVER_IDLE": "0.5"}
    dotkit("verify", app, "--serve", env=quick)
    deadline = time.monotonic() + 15
    while "idle: stopping" not in server_log(env) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "idle: stopping" in server_log(env)


def test_a_server_that_cannot_start_leaves_a_local_run(
    app: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kit.cli import main
    from kit.verifyd import control

    monkeypatch.setattr(control, "start", lambda: None)
    assert main(["verify", str(app), "--serve", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert '"localhost-service"' in captured.out
    assert captured.err == (
        f"dotkit: warning: the verify server could not start (see {control.log_path()}); "
        "verifying without it\n"
    )
