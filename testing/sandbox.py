"""Fakes at the sandbox's seams (kit.sandbox.seams), for tests of how a push is orchestrated.

Only what stands at the OS boundary is faked: the clock, the platform process
(containers and routes kept in memory; its runtime.json written as the real one
writes it), the readiness probe, and hook commands named in a script. Everything
else (uploads, builds, homes, records, copies) runs for real in ``tmp_path``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kit import proc
from kit.nodejs.fetch import NodeBuild
from kit.nodejs.versions import Release, choose
from kit.sandbox import admit
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.client import PlatformError
from kit.sandbox.dockerbox import DockerTarget
from kit.sandbox.layout import Layout
from kit.sandbox.probe import NotReady, Ready
from kit.sandbox.runtime import Route, Runtime, save_runtime
from kit.sandbox.seams import Seams


class FakeClock:
    """Starts at a fixed date; every reading moves it on by ``tick`` seconds."""

    def __init__(self, start: float = 1_700_000_000.0, tick: float = 0.25) -> None:
        self.now = start
        self.tick = tick

    def time(self) -> float:
        self.now += self.tick
        return self.now

    def monotonic(self) -> float:
        return self.time() - 1_600_000_000.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


Failure = Callable[[str, dict[str, Any]], bool]


class FakePlatform:
    """The platform process, in memory: containers started and stopped, routes set
    (for the one application a test pushes)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.containers: dict[str, ContainerSpec] = {}
        self.routes: dict[str, dict[str, list[str]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[Failure] = []
        self.failed_requests = 0
        self.next_pid = 1000
        self.oom_kills: dict[str, int] = {}  # container id -> kills its group counted

    def fail_once(self, op: str, when: Callable[[dict[str, Any]], bool] = lambda a: True) -> None:
        """The next ``op`` whose arguments satisfy ``when`` fails, as the real one fails."""

        def failure(name: str, args: dict[str, Any]) -> bool:
            if name == op and when(args):
                self.failures.remove(failure)
                return True
            return False

        self.failures.append(failure)

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self.calls.append((op, args))
        # What the real platform process would refuse fails the test (a Refused error).
        backend = json.loads(args["spec"])["backend"] if op == "start" else "bwrap"
        admit.check_request(self.layout, backend, {"op": op, **args})
        if any(failure(op, args) for failure in list(self.failures)):
            raise PlatformError(f"the platform process could not {op}: OSError: injected")
        result: dict[str, Any] = getattr(self, f"_{op}")(**args)
        self._save()
        return result

    def close(self) -> None:
        pass

    def _save(self) -> None:
        for app in {spec.app for spec in self.containers.values()}:
            runtime = Runtime(
                {cid: spec for cid, spec in self.containers.items() if spec.app == app},
                {
                    k: Route(tuple(v["listen"]), tuple(v["backends"]))
                    for k, v in self.routes.items()
                },
            )
            save_runtime(self.layout.app(app), runtime)

    def _start(self, spec: str) -> dict[str, Any]:
        parsed = ContainerSpec.from_json(spec)
        self.containers[parsed.cid] = parsed
        self.next_pid += 1
        return {"pid": self.next_pid, "child_pid": self.next_pid}

    def _stop(self, cid: str, app: str | None = None) -> dict[str, Any]:
        return {"stopped": self.containers.pop(cid, None) is not None}

    def _route(self, app: str, name: str, listen: list[str], backends: list[str]) -> dict[str, Any]:
        previous = self.routes.get(name, {}).get("backends", [])
        self.routes[name] = {"listen": listen, "backends": backends}
        return {"previous": previous}

    def _unroute(self, app: str, name: str) -> dict[str, Any]:
        return {"removed": self.routes.pop(name, None) is not None}

    def _retire(
        self, app: str, name: str, cids: list[str], backends: list[str], remove: list[str]
    ) -> dict[str, Any]:
        for cid in cids:
            self.containers.pop(cid, None)
        for path in remove:
            shutil.rmtree(path, ignore_errors=True)
        return {"retiring": cids}

    def _status(self, app: str | None = None) -> dict[str, Any]:
        containers = {
            cid: {"service": s.service, "instance": s.instance, "alive": True}
            for cid, s in self.containers.items()
        }
        routes = {
            name: {**route, "connections": 0, "failed": self.failed_requests}
            for name, route in self.routes.items()
        }
        return {"containers": containers, "routes": routes}

    def _limits(self, app: str | None = None) -> dict[str, Any]:
        return {
            cid: {
                "memory": 512 << 20,
                "memory_text": "512M",
                "pids": 512,
                "enforced": True,
                "oom_kills": self.oom_kills.get(cid, 0),
                "forks_refused": 0,
                "message": "killed: out of memory (limit 512M)" if cid in self.oom_kills else None,
            }
            for cid in self.containers
        }

    def serving(self, route: str) -> list[str]:
        """The containers behind ``route`` that are running (a stopped one cannot answer)."""
        backends = self.routes.get(route, {}).get("backends", [])
        cids = [b.split(":")[1] for b in backends]
        return [cid for cid in cids if cid in self.containers]


class FakeReady:
    """The readiness probe: every instance answers at once, except those named to fail."""

    def __init__(self) -> None:
        self.failing: set[str] = set()  # instance names ("www.1") that never answer
        self.asked: list[str] = []

    def __call__(
        self,
        *,
        sockets: Path,
        pid: int,
        expect_http: bool | None,
        tcp_ports: list[int],
        timeout: float,
        log_dir: Path,
        netns: bool,
        http_host: str = "localhost",
    ) -> Ready:
        instance = sockets.name.split("-")[0]
        self.asked.append(instance)
        if instance in self.failing:
            raise NotReady(f"the instance did not become responsive within {timeout:g} s", "boom")
        return Ready(0.0421, "http" if expect_http is not False else "tcp")


class ScriptedRunner:
    """Runs programs for real, except hook commands found in ``script``: those "exit"
    with the given status and print the given text."""

    def __init__(self, script: Mapping[str, tuple[int, str]] | None = None) -> None:
        self.script = dict(script or {})
        self.hooks: list[str] = []

    def _hook(self, argv: Sequence[str]) -> str | None:
        if len(argv) >= 3 and list(argv[-3:-1]) == ["/bin/sh", "-lc"] and " && " in argv[-1]:
            return argv[-1].split(" && ", 1)[1]
        return None

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        input: bytes | None = None,
    ) -> proc.Completed:
        hook = self._hook(argv)
        if hook is not None:
            self.hooks.append(hook)
        if hook is None or hook not in self.script:
            return proc.run(argv, timeout=timeout, env=env, check=check, input=input)
        code, out = self.script[hook]
        done = proc.Completed(tuple(argv), code, out, "")
        if check and code:
            raise proc.CommandFailed(f"`{hook}` failed with exit code {code}", argv, code, out)
        return done

    def stream(
        self,
        argv: Sequence[str],
        *,
        on_line: Callable[[str], None],
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
    ) -> int:
        hook = self._hook(argv)
        if hook is not None:
            self.hooks.append(hook)
        if hook is None or hook not in self.script:
            return proc.stream(argv, on_line=on_line, timeout=timeout, env=env)
        code, out = self.script[hook]
        for line in out.splitlines():
            on_line(line)
        if code:
            raise proc.CommandFailed(f"`{hook}` failed with exit code {code}", argv, code, out)
        return 0


class FakeNode:
    """The npm registry's Node.js builds, as if every branch had one: a folder with a
    ``bin/node`` per version, and the branches asked for."""

    RELEASES = ("0.8.6", "0.8.28")

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.asked: list[str] = []

    def __call__(self, requested: str, say: Callable[[str], None]) -> NodeBuild:
        published = {
            v: Release(v, f"https://registry.example/{v}.tgz", "sha512-x") for v in self.RELEASES
        }
        choice = choose(requested, published)
        self.asked.append(requested)
        folder = self.cache / choice.version
        (folder / "bin").mkdir(parents=True, exist_ok=True)
        (folder / "bin" / "node").write_text("#!/bin/sh\n")
        return NodeBuild(choice, folder)


FAKE_IMAGE = "dotkit/platform:0123456789abcdef"


def fake_seams(layout: Layout, runner: ScriptedRunner | None = None) -> Seams:
    ports = iter(range(39000, 39100))
    passwords = iter(f"secret{n}" for n in range(100))
    return Seams(
        clock=FakeClock(),
        runner=runner or ScriptedRunner(),
        platform=FakePlatform(layout),
        wait_ready=FakeReady(),
        free_port=lambda: next(ports),
        password=lambda: next(passwords),
        node=FakeNode(layout.home / "cache" / "node"),
        docker=lambda say, sql: DockerTarget("unix:///fake/docker.sock", FAKE_IMAGE),
    )
