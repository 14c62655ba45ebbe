"""A notebook's own sandbox (a private ``$DOTKIT_HOME``) and the apps pushed to it.

Every command is the real ``dotkit``, run as a separate process the way a user
runs it, so the platform process, the builds and the containers are the real
ones. Results are read from what the kit writes for programs: ``--format json``
for convert and verify, the deployment records for pushes.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from . import cleanup
from .deployments import Deployment, records
from .load import Load
from .reports import Findings, Migration
from .run import COMMAND_TIMEOUT, Reply, Run, Terminal, run, tool_env

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_apps"


class Sandbox:
    """A private ``$DOTKIT_HOME`` in a temporary folder, and ``dotkit`` run against it.

    Work happens in :attr:`work`, where :meth:`sample` copies the sample apps, so
    every path a command prints is short and the same on every machine.
    :meth:`close` destroys the apps, stops the platform process and removes the
    folder; it also happens on garbage collection, at interpreter exit, and,
    through a watchdog process, when the kernel is killed.
    """

    def __init__(self, label: str = "notebook") -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"dotkit-nb-{label}-"))
        self.home = self.root / "home"
        self.work = self.root / "work"
        self.work.mkdir()
        self.env = tool_env(os.environ, self.home, Path(sys.executable).parent)
        watchdog = cleanup.start_watchdog(self.root)
        self._watchdog = watchdog
        # A finalizer also runs at interpreter exit (weakref.finalize's own atexit hook),
        # so a kernel that shuts down normally cleans up even if close() never ran.
        self._finalizer = weakref.finalize(self, cleanup.finalize, self.root, watchdog)
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        watched = self._watchdog is not None and self._watchdog.poll() is None
        return (
            f"<Sandbox: DOTKIT_HOME {self.home}, {state}, "
            f"watchdog {'running' if watched else 'missing'}>"
        )

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def terminal(self, folder: Path | None = None) -> Terminal:
        """A prompt in ``folder`` (the work folder by default); see :class:`Terminal`."""
        return Terminal(folder or self.work, self.env)

    def dotkit(
        self, *args: str | Path, cwd: Path | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> Run:
        """Run ``dotkit ARGS`` in ``cwd`` (the work folder by default), and wait for it."""
        argv = [str(a) for a in args]
        done = run(
            [sys.executable, "-m", "kit", *argv],
            cwd=cwd or self.work,
            env=self.env,
            timeout=timeout,
        )
        return done._replace(command=shlex.join(["dotkit", *argv]))

    def git(self, folder: Path, *args: str) -> Run:
        """``git ARGS`` in ``folder``, as a fixed author at a fixed date, so commits repeat."""
        return run(["git", *args], cwd=folder, env=self.env, timeout=60)

    def sample(self, name: str, as_name: str | None = None) -> Path:
        """A copy of ``sample_apps/NAME`` in the work folder (kept if it is already there)."""
        source = SAMPLES / name
        if not source.is_dir():
            raise FileNotFoundError(f"no sample app {name!r} in {SAMPLES}")
        dest = self.work / (as_name or name)
        if not dest.exists():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("node_modules"))
        return dest

    def convert(self, source: str | Path, name: str, *flags: str) -> Migration:
        """``dotkit convert SOURCE -o NAME FLAGS --format json`` in the work folder.

        ``source`` is a sample app's name (copied into the work folder first) or a folder.
        """
        folder = self.sample(source) if isinstance(source, str) else source
        src = folder.relative_to(self.work) if folder.is_relative_to(self.work) else folder
        done = self.dotkit("convert", src, "-o", name, "--format", "json", *flags)
        if done.code not in (0, 1):
            raise RuntimeError(f"{done!r} failed:\n{done.text}")
        return Migration(json.loads(done.out), folder.name, self.work / name)

    def verify(self, folder: Path, *flags: str) -> Findings:
        """``dotkit verify FOLDER --format json``, as findings."""
        done = self.dotkit("verify", folder, "--format", "json", *flags)
        if done.code not in (0, 1):
            raise RuntimeError(f"{done!r} failed:\n{done.text}")
        return Findings.from_json(json.loads(done.out)["findings"], f"verify {folder.name}")

    def create(self, name: str, folder: Path, *flags: str) -> App:
        """``dotkit create NAME`` in ``folder``, which it connects to the new app."""
        done = self.dotkit("create", name, *flags, cwd=folder)
        if not done.ok:
            raise RuntimeError(f"{done!r} failed:\n{done.text}")
        return App(self, name, folder)

    def app(self, name: str, folder: Path) -> App:
        """An app created some other way (in a :meth:`terminal`), with its folder."""
        return App(self, name, folder)

    def close(self) -> cleanup.Cleanup:
        """Destroy every app, stop the platform process, remove the temporary folder."""
        destroyed, running = self._finalizer() or ((), False)
        self.closed = True
        return cleanup.Cleanup(
            destroyed, running, cleanup.processes_of(self.home), not self.root.exists()
        )


class Program(NamedTuple):
    """A program under supervisord: its state, process id and seconds up (when running)."""

    state: str
    pid: int | None
    uptime: int | None


class App:
    """An application of a :class:`Sandbox`, and a folder to run its commands in.

    When the folder is not connected to the application (``.dotcloud/config``
    names another one, or none), every command names it with ``-A NAME``, as
    support does with a ticket's reproduction.
    """

    def __init__(self, box: Sandbox, name: str, folder: Path) -> None:
        self.box, self.name, self.folder = box, name, folder
        config = folder / ".dotcloud" / "config"
        try:
            connected = json.loads(config.read_text(encoding="utf-8")).get("application")
        except (OSError, ValueError, AttributeError):
            connected = None
        self.flags: tuple[str, ...] = () if connected == name else ("-A", name)

    def __repr__(self) -> str:
        return f"<App {self.name}>"

    def dotkit(self, *args: str | Path, timeout: float = COMMAND_TIMEOUT) -> Run:
        return self.box.dotkit(*self.flags, *args, cwd=self.folder, timeout=timeout)

    def deployments(self) -> list[Deployment]:
        """Every deployment of the app, oldest first, from the sandbox's records."""
        return [Deployment.read(p) for p in records(self.box.home / "apps" / self.name)]

    def latest(self) -> Deployment:
        return self.deployments()[-1]

    def deploys(self, *args: str | Path) -> Deployment:
        """Run ``dotkit ARGS`` (``push``, ``scale``, ``deploy``...) and return the
        deployment it made, from its record, with what the command printed."""
        before = {p.name for p in records(self.box.home / "apps" / self.name)}
        done = self.dotkit(*args)
        made = [p for p in records(self.box.home / "apps" / self.name) if p.name not in before]
        if not made:
            raise RuntimeError(f"{done!r} made no deployment:\n{done.text}")
        return Deployment.read(made[-1], done.text)

    def push(self, *flags: str) -> Deployment:
        return self.deploys("push", *flags)

    def push_unwatched(self) -> subprocess.Popen[bytes]:
        """Start a push whose log nobody reads; return once its deployment is recorded."""
        before = len(records(self.box.home / "apps" / self.name))
        pusher = subprocess.Popen(
            [sys.executable, "-m", "kit", "push"],
            cwd=self.folder,
            env=self.box.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.wait_for(
            lambda: (
                pusher.poll() is not None
                or len(records(self.box.home / "apps" / self.name)) > before
            ),
            timeout=60,
        )
        return pusher

    def urls(self) -> dict[str, str]:
        done = self.dotkit("url")
        return dict(line.split(": ", 1) for line in done.out.splitlines() if ": " in line)

    def get(
        self, service: str, path: str = "/", *, method: str = "GET", body: bytes | None = None
    ) -> Reply:
        url = self.urls()[service].rstrip("/") + path
        request = urllib.request.Request(url, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode())

    def load(self, service: str, **options: float) -> Load:
        """Concurrent requests to ``service`` while a ``with`` block runs (see :class:`Load`)."""
        return Load(self.urls()[service], **options)

    def run(self, target: str, *command: str) -> Run:
        """``dotkit run TARGET -- COMMAND``: a command inside a service's container."""
        return self.dotkit("run", target, "--", *command)

    def exists(self, target: str, path: str) -> bool:
        return self.run(target, "test", "-e", path).ok

    def instances(self, service: str) -> list[str]:
        """The containers of ``service``, as ``info`` names them (``gear1.0-d2``)."""
        info = self.dotkit("info", service).out
        return [
            line.split(":", 1)[1].strip()
            for line in info.splitlines()
            if line.strip().startswith("container:")
        ]

    def program(self, service: str, program: str = "node") -> Program:
        """How a supervisord program of ``service`` (instance 0) is doing (``dotkit status``)."""
        for line in self.dotkit("status", service).out.splitlines():
            words = line.replace(",", "").split()
            if words[:1] == [program] and len(words) >= 2:
                pid = int(words[3]) if words[2:3] == ["pid"] else None
                uptime = None
                if "uptime" in words:
                    h, m, s = words[words.index("uptime") + 1].split(":")
                    uptime = int(h) * 3600 + int(m) * 60 + int(s)
                return Program(words[1], pid, uptime)
        return Program("?", None, None)

    def wait_for(self, check: Callable[[], bool], timeout: float = 20.0) -> bool:
        """Poll ``check`` until it holds or ``timeout`` seconds pass; say whether it held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False
