"""What the platform process owns: the containers, the routes and the gateway.

:class:`Platform` starts each container (on its backend: bubblewrap, a Docker
engine or plain processes), restarts one whose process tree dies, stops and
retires them, keeps the router's routes and publishes them on the gateway, and
saves what runs to each app's ``runtime.json`` so that a new platform process
re-creates it (:meth:`Platform.restore`). :mod:`kit.sandbox.daemon` is the
process around it: its socket, its requests, its start and end.
"""

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kit.sandbox import admit
from kit.sandbox.backend import (
    ContainerSpec,
    boxed,
    container_argv,
    die_with_parent,
    discard,
    host_env,
    process_env,
)
from kit.sandbox.engine import backend_name
from kit.sandbox.fields import StateError
from kit.sandbox.gateway.server import Gateway
from kit.sandbox.isolation import watch
from kit.sandbox.layout import Layout
from kit.sandbox.pids import ping as _ping
from kit.sandbox.pids import read_child_pid as _read_child_pid
from kit.sandbox.pids import terminate as _terminate
from kit.sandbox.records import APP
from kit.sandbox.router import Router
from kit.sandbox.rundir import ensure_runtime
from kit.sandbox.runtime import Runtime, load_runtime, save_runtime

RESTART_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)
HEALTH_EVERY = 0.25


class Running:
    def __init__(self, spec: ContainerSpec) -> None:
        self.spec = spec
        self.process: asyncio.subprocess.Process | None = None
        self.child_pid: int | None = None  # the container's first process, seen from the host
        self.started = 0.0
        self.restarts = 0
        self.wanted = True
        self.exited = asyncio.Event()
        self.limit_events: dict[str, int] = {}  # counters already reported (watch.note_kills)


class Platform:
    def __init__(self, layout: Layout, backend: str | None = None) -> None:
        self.layout = layout
        self.backend = backend or backend_name()  # the only one its containers may use
        # "app/cid": container ids are only unique within an app ("www.0-d1" in each).
        self.containers: dict[str, Running] = {}
        self.router = Router()
        self.routes = self.router.routes  # "app/name" -> entry
        self.gateway = Gateway(layout.home)  # the shared HTTP/HTTPS ports, by host name
        self.stop = asyncio.Event()
        self.watchers: set[asyncio.Task[None]] = set()

    # -- state on disk, so a new platform process can re-create what ran ---------------

    def _save(self, app: str) -> None:
        runtime = Runtime(
            containers={
                r.spec.cid: r.spec
                for r in self.containers.values()
                if r.spec.app == app and r.wanted
            },
            routes=self.router.records(app),
        )
        save_runtime(self.layout.app(app), runtime)

    async def restore(self) -> None:
        """Start what each app's runtime.json names; a damaged one costs only its own app."""
        if not self.layout.apps.is_dir():
            return
        for app_dir in sorted(self.layout.apps.iterdir()):
            if not APP.fullmatch(app_dir.name):
                continue  # not an application's folder (a repro's staging, say)
            app = self.layout.app(app_dir.name)
            try:
                runtime = load_runtime(app)
            except StateError as exc:
                print(f"not restoring {app.name}: {exc}", file=sys.stderr)  # to platform.log
                continue
            for spec in runtime.containers.values():
                try:
                    admit.check_spec(self.layout, self.backend, spec.to_json())
                except admit.Refused as exc:
                    print(f"not restoring {app.name}/{spec.cid}: {exc}", file=sys.stderr)
                    continue
                await self._launch(Running(spec))
            for name, route in runtime.routes.items():
                listen, backends = list(route.listen), list(route.backends)
                try:
                    admit.check_route(self.layout, app.name, name, listen, backends)
                except admit.Refused as exc:
                    print(f"not restoring {app.name}/{name}: {exc}", file=sys.stderr)
                    continue
                await self.op_route(app=app.name, name=name, listen=listen, backends=backends)

    # -- health -----------------------------------------------------------------------------

    async def monitor(self) -> None:
        """Ask every container's supervisord how it is, a few times a second.

        supervisord only looks at its children once per second of idle time; a
        question wakes it, so a killed program is noticed and restarted within a
        fraction of that. A supervisord that stops answering is not trusted: when
        its container's first process has died, the watcher restarts the container.
        """
        while not self.stop.is_set():
            await asyncio.sleep(HEALTH_EVERY)
            sockets = [
                Path(r.spec.sockets) / "supervisor.sock"
                for r in list(self.containers.values())
                if r.wanted and r.process is not None and r.process.returncode is None
            ]
            for sock in sockets:
                if sock.exists():
                    await asyncio.to_thread(_ping, sock)
            for running in list(self.containers.values()):
                if running.spec.backend == "bwrap":
                    await asyncio.to_thread(watch.note_kills, running.spec, running.limit_events)

    # -- containers ---------------------------------------------------------------------

    async def _launch(self, running: Running) -> None:
        spec = running.spec
        log_dir = Path(spec.home) / ".dotkit" / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        ensure_runtime(self.layout)
        Path(spec.sockets).mkdir(parents=True, exist_ok=True)
        Path(spec.services).mkdir(parents=True, exist_ok=True)
        info_r, info_w = os.pipe()
        isolated = boxed(spec.backend)
        argv = container_argv(spec, info_fd=info_w)
        with watch.open_log(log_dir.parent / "container.log") as out:
            running.process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                # The app's environment is set inside the container, never on a host process.
                env=host_env(spec) if isolated else process_env(spec),
                pass_fds=(info_w,),
                cwd=None if isolated else spec.home,
                start_new_session=True,
                preexec_fn=None if isolated else die_with_parent,
            )
        os.close(info_w)
        running.child_pid = running.process.pid
        if isolated:
            running.child_pid = (
                await asyncio.to_thread(_read_child_pid, info_r) or running.process.pid
            )
        else:
            os.close(info_r)
        running.started = time.time()
        running.exited.clear()
        self.containers[f"{spec.app}/{spec.cid}"] = running
        task = asyncio.create_task(self._watch(running))
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)

    async def _watch(self, running: Running) -> None:
        assert running.process is not None
        await running.process.wait()
        running.exited.set()
        if not running.wanted or self.stop.is_set():
            return
        # The whole container died (supervisord or the namespace): bring it back.
        delay = RESTART_BACKOFF[min(running.restarts, len(RESTART_BACKOFF) - 1)]
        running.restarts += 1
        await asyncio.sleep(delay)
        if running.wanted and not self.stop.is_set():
            await self._launch(running)

    async def op_start(self, spec: str) -> dict[str, Any]:
        parsed = admit.check_spec(self.layout, self.backend, spec)
        old = self.containers.get(f"{parsed.app}/{parsed.cid}")
        if old is not None and old.wanted:
            await self.op_stop(cid=parsed.cid, app=parsed.app)
        running = Running(parsed)
        await self._launch(running)
        self._save(parsed.app)
        return {
            "pid": running.process.pid if running.process else None,
            "child_pid": running.child_pid,
        }

    def _key(self, cid: str, app: str | None) -> str:
        """The registry's key for ``cid``; without ``app``, the only container of that id."""
        if app is not None:
            return f"{app}/{cid}"
        found = [key for key in self.containers if key.split("/", 1)[1] == cid]
        return found[0] if len(found) == 1 else f"?/{cid}"

    async def op_stop(
        self, cid: str, app: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        running = self.containers.pop(self._key(cid, app), None)
        if running is None:
            return {"stopped": False}
        running.wanted = False
        proc = running.process
        if proc is not None and proc.returncode is None:
            # supervisord stops its programs on SIGTERM, then the namespace ends.
            _terminate(running)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc is not None:
            # Whatever the container's first process started in its session goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(discard, running.spec)  # an engine's container, if any
        await asyncio.to_thread(watch.release, running.spec)  # its control group, if any
        self._save(running.spec.app)
        return {"stopped": True}

    async def op_kill(self, cid: str, app: str | None = None) -> dict[str, Any]:
        """Kill a container's process tree without warning (tests of recovery use it)."""
        running = self.containers.get(self._key(cid, app))
        if running is None or running.process is None:
            return {"killed": False}
        with contextlib.suppress(ProcessLookupError):
            running.process.kill()
        return {"killed": True}

    def resolve(self, backend: str, app: str | None = None) -> str:
        """``container:CID:PORT`` (of ``app``) to where that port can be reached right now."""
        if not backend.startswith("container:"):
            return backend
        _, cid, port = backend.split(":")
        running = self.containers.get(self._key(cid, app))
        if running is None:
            raise ValueError(f"no container {cid}")
        if boxed(running.spec.backend) and running.child_pid:
            return f"netns:{running.child_pid}:127.0.0.1:{port}"
        return f"tcp:127.0.0.1:{port}"

    # -- router -------------------------------------------------------------------------

    async def op_route(
        self, app: str, name: str, listen: list[str], backends: list[str]
    ) -> dict[str, Any]:
        resolve = functools.partial(self.resolve, app=app)
        previous = await self.router.set(app, name, listen, backends, resolve)
        route = self.router.route(app, name)
        if route is not None:
            await self.gateway.publish(app, name, route)
        self._save(app)
        return {"previous": previous}

    async def op_unroute(self, app: str, name: str) -> dict[str, Any]:
        removed = self.router.remove(app, name)
        if removed:
            self.gateway.unpublish(app, name)
            self._save(app)
        return {"removed": removed}

    async def op_drain(
        self, app: str, name: str, backends: list[str], timeout: float = 10.0
    ) -> dict[str, Any]:
        return {"open": await self.router.drain(app, name, backends, timeout)}

    async def op_retire(
        self, app: str, name: str, cids: list[str], backends: list[str], remove: list[str]
    ) -> dict[str, Any]:
        """Drain, stop and remove old containers in the background; answer at once."""

        async def retire() -> None:
            await self.op_drain(app=app, name=name, backends=backends)
            for cid in cids:
                await self.op_stop(cid=cid, app=app)
            for path in remove:
                await asyncio.to_thread(shutil.rmtree, path, True)

        task = asyncio.create_task(retire())
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)
        return {"retiring": cids}

    # -- questions ----------------------------------------------------------------------

    async def op_limits(self, app: str | None = None) -> dict[str, Any]:
        """Each container's limits, how close it came, and what the kernel killed."""
        return {
            r.spec.cid: watch.report(r.spec)
            for r in self.containers.values()
            if (app is None or r.spec.app == app) and r.spec.backend == "bwrap"
        }

    async def op_ping(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "home": str(self.layout.home)}

    async def op_status(self, app: str | None = None) -> dict[str, Any]:
        containers = {
            r.spec.cid: {
                "service": r.spec.service,
                "instance": r.spec.instance,
                "alive": r.process is not None and r.process.returncode is None,
                "pid": r.process.pid if r.process else None,
                "child_pid": r.child_pid,
                "started": r.started,
                "restarts": r.restarts,
                "backend": r.spec.backend,
            }
            for r in self.containers.values()
            if app is None or r.spec.app == app
        }
        routes = {
            key.split("/", 1)[1]: {
                "listen": e.listen_on,
                "backends": list(e.route.backends),
                "connections": e.route.connections,
                "failed": e.route.failed,
                "out_of_rotation": e.route.out_of_rotation(),
            }
            for key, e in self.routes.items()
            if app is None or key.split("/", 1)[0] == app
        }
        return {"containers": containers, "routes": routes}

    async def op_forget(self, app: str) -> dict[str, Any]:
        """Stop everything of ``app`` (destroy)."""
        for cid in [r.spec.cid for r in self.containers.values() if r.spec.app == app]:
            await self.op_stop(cid=cid, app=app)
        for key in [k for k in self.routes if k.split("/", 1)[0] == app]:
            await self.op_unroute(app=app, name=key.split("/", 1)[1])
        return {"idle": not self.containers and not self.routes}

    async def op_shutdown(self) -> dict[str, Any]:
        self.stop.set()
        return {"stopping": True}

    async def shutdown(self) -> None:
        for cid in list(self.containers):
            running = self.containers[cid]
            running.wanted = False
            if running.process and running.process.returncode is None:
                _terminate(running)
        for running in list(self.containers.values()):
            if running.process is not None:
                try:
                    await asyncio.wait_for(running.process.wait(), 10)
                except TimeoutError:
                    running.process.kill()
            await asyncio.to_thread(watch.release, running.spec)
            await asyncio.to_thread(discard, running.spec)
        for entry in self.routes.values():
            for server in entry.servers:
                server.close()
            entry.route.close()
        self.gateway.close()
