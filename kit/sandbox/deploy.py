"""``dotkit push``: upload, build, start new containers, switch the router, retire the old.

The CLI process runs the push and asks the platform process to start and stop
containers and to switch routes. Nothing that serves traffic changes until every
new instance has answered; any failure (or Ctrl-C) stops the new containers
and leaves the previous revision serving.
"""

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from kit.appfs import list_app_files
from kit.errors import OperationFailed, UsageError
from kit.findings import Finding
from kit.platform.facts import (
    BUILD_FILE,
    PLATFORM_DEFAULT_NODE_VERSION,
    POSTINSTALL_TIMEOUT_S,
    UPLOAD_IGNORE_FILES,
)
from kit.platform.model import App, Service
from kit.proc import CommandFailed, run
from kit.sandbox import dataservices, envfile, supconf
from kit.sandbox.backend import (
    ContainerSpec,
    Peer,
    bwrap_argv,
    bwrap_path,
    host_env,
    hosts_file,
    inside,
)
from kit.sandbox.build import BUILD_TIMEOUT, BuildFailed, build_service
from kit.sandbox.client import Client, connect
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.probe import NotReady, wait_ready
from kit.sandbox.state import (
    deployment_log,
    deployment_path,
    http_port,
    list_deployments,
    load_app,
    read_json,
    save_app,
    tcp_port,
    write_json,
)

READY_TIMEOUT = 60.0
SUPPORTED = frozenset({"nodejs"})


class PushFailed(OperationFailed):
    """The push did not deploy; the previous revision keeps serving."""


class DeployLog:
    """The deployment log, in the platform's style, to its file and the terminal."""

    def __init__(self, path: Path, echo: Callable[[str], None] | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle: TextIO = path.open("a", encoding="utf-8")
        self.echo = echo

    def __call__(self, message: str, who: str | None = None) -> None:
        stamp = datetime.now().strftime("%H:%M:%S.%f")
        prefix = f"[{who}] " if who else "---> "
        for line in message.splitlines() or [""]:
            text = f"{stamp}: {prefix}{line}"
            self.handle.write(text + "\n")
            self.handle.flush()
            if self.echo:
                self.echo(text)

    def close(self) -> None:
        self.handle.close()


def backend_name() -> str:
    """bubblewrap where it is installed; ``DOTKIT_BACKEND=process`` forces the fallback."""
    forced = os.environ.get("DOTKIT_BACKEND")
    if forced in ("bwrap", "process"):
        return forced
    return "bwrap" if bwrap_path() else "process"


def hidden_paths(layout: Layout) -> list[str]:
    return [str(layout.home.resolve()), str(layout.runtime)]


@contextlib.contextmanager
def push_lock(app: AppLayout) -> Iterator[None]:
    app.root.mkdir(parents=True, exist_ok=True)
    with open(app.root / "push.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f'another push to "{app.name}" is running; wait for it (dotkit dlogs latest)'
            ) from None
        yield


def upload(source: Path, app: AppLayout, *, git: bool) -> tuple[str, Path, list[str], list[str]]:
    """Copy the app as the platform's uploader would; the revision name and its folder."""
    if git:
        head = run(["git", "-C", str(source), "rev-parse", "--short=7", "HEAD"]).stdout.strip()
        rev = f"git-{head}"
        dest = app.revision(rev)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        archive = run(["git", "-C", str(source), "archive", "--format=tar", "-o",
                       str(dest / ".upload.tar"), "HEAD"])  # fmt: skip
        del archive
        run(["tar", "-xf", str(dest / ".upload.tar"), "-C", str(dest)])
        (dest / ".upload.tar").unlink()
    else:
        rev = f"rsync-{int(time.time() * 1000)}"
        dest = app.revision(rev)
        dest.mkdir(parents=True)
        for rel in list_app_files(source, ignore_files=UPLOAD_IGNORE_FILES):
            src, target = source / rel, dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                target.symlink_to(src.readlink())
            else:
                shutil.copy2(src, target)
    dropped = _drop_unsafe_links(dest)
    files = list_app_files(dest, ignore_files=())
    return rev, dest, files, dropped


def _drop_unsafe_links(root: Path) -> list[str]:
    """Remove links that are absolute or climb out of the tree, as the uploader's
    ``rsync --safe-links`` left them out; the names removed."""
    dropped = []
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            continue
        target = path.readlink()
        inside = (path.parent / target).resolve().is_relative_to(root.resolve())
        if target.is_absolute() or not inside:
            path.unlink()
            dropped.append(path.relative_to(root).as_posix())
    return dropped


def _findings_text(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.location}: [{f.rule}] {f.message}\n    fix: {f.fix}" for f in findings)


def _expects_http(service: Service, app: App) -> bool | None:
    from kit.js.analysis import analyze_js

    prefix = "" if service.approot == "." else service.approot + "/"
    found_listen = False
    for rel in app.files:
        if rel.startswith(prefix) and rel.endswith((".js", ".mjs", ".cjs")):
            try:
                analysis = analyze_js((app.root / rel).read_bytes())
            except OSError:
                continue
            for call in analysis.listens:
                found_listen = True
                if call.server in ("http", "unknown"):
                    return True
    return False if found_listen else None


class Push:
    """One push of one app; see :func:`push`."""

    def __init__(
        self,
        layout: Layout,
        app_name: str,
        *,
        clean: bool,
        echo: Callable[[str], None] | None,
        ready_timeout: float,
        build_timeout: float,
    ) -> None:
        self.layout = layout
        self.app = layout.app(app_name)
        self.data = load_app(layout, app_name)
        self.clean = clean
        self.echo = echo
        self.ready_timeout = ready_timeout
        self.build_timeout = build_timeout
        self.backend = backend_name()
        self.started: list[ContainerSpec] = []
        self.passwords: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        # ~/data moved out of old containers: (old spec, new home), to put back on failure.
        self.moved: list[tuple[ContainerSpec, Path]] = []
        self.down_since: dict[str, float] = {}
        self.client: Client | None = None
        number = int(self.data.get("next_deployment", 1))
        self.data["next_deployment"] = number + 1
        save_app(layout, self.data)
        self.dep_id = f"d{number}"
        self.record: dict[str, Any] = {
            "id": self.dep_id,
            "number": number,
            "status": "running",
            "started": time.time(),
            "clean": clean,
            "revision": None,
            "backend": self.backend,
        }
        self.log = DeployLog(deployment_log(self.app, self.dep_id), echo)
        self._save_record()

    def _save_record(self) -> None:
        write_json(deployment_path(self.app, self.dep_id), self.record)

    def _platform(self) -> Client:
        if self.client is None:
            self.client = connect(self.layout)
            assert self.client is not None
        return self.client

    # -- the steps ----------------------------------------------------------------------

    def run(self, source: Path | None, *, git: bool, revision: str | None = None) -> dict[str, Any]:
        try:
            result = self._run(source, git=git, revision=revision)
        except KeyboardInterrupt:
            self._abandon("interrupted (Ctrl-C)")
            raise
        except (PushFailed, BuildFailed, CommandFailed, NotReady, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            self._abandon(message)
            raise PushFailed(
                f"the push failed: {message}\nThe previous revision (if any) is still serving; "
                f"the full log: dotkit dlogs {self.dep_id}"
            ) from None
        finally:
            self.log.close()
            if self.client is not None:
                self.client.close()
        return result

    def _run(self, source: Path | None, *, git: bool, revision: str | None) -> dict[str, Any]:  # noqa: C901 - being split into steps (issue 13)
        from kit.verify.buildfile import check_build_file

        if revision is not None:
            rev, rev_dir = revision, self.app.revision(revision)
            if not rev_dir.is_dir():
                raise PushFailed(f"there is no revision {revision}; dotkit revisions lists them")
            files = list_app_files(rev_dir, ignore_files=())
            self.record["revision"] = rev
            self._save_record()
            self.log(f"Deploying the stored revision {rev}")
        else:
            assert source is not None
            if not (source / BUILD_FILE).is_file():
                raise PushFailed(f"no {BUILD_FILE} in {source}; push from the app's root folder")
            rev, rev_dir, files, dropped = upload(source, self.app, git=git)
            self.record["revision"] = rev
            self._save_record()
            self.log(f'Pushed {len(files)} files from "{source}" as revision {rev}')
            if dropped:
                self.log(
                    f"Left out {len(dropped)} link(s) pointing outside the app, as the "
                    f"platform's uploader did: {', '.join(dropped[:5])}"
                )
        services, findings = check_build_file(rev_dir, files)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise PushFailed("dotcloud.yml has errors:\n" + _findings_text(errors))
        app = App(rev_dir, tuple(files), services)
        for svc in services:
            if svc.is_code and svc.type not in SUPPORTED:
                raise PushFailed(
                    f"service {svc.name!r} is of type {svc.type!r}; "
                    "this sandbox runs nodejs services"
                )
            if not svc.is_code and (problem := dataservices.problem(svc.type)):
                raise PushFailed(f"service {svc.name!r} ({svc.type}): {problem}")
        code = tuple(s for s in services if s.is_code)
        stores = tuple(s for s in services if not s.is_code)
        self.log(f"Deployment {self.dep_id} of revision {rev} scheduled for {self.app.name}")
        self.log("Building the application...")
        snapshots = {}
        for svc in code:
            snapshots[svc.name] = self._build(svc, rev, rev_dir)
        self.log("Application build is done")
        self.log("Initializing new services... (This may take a few minutes)")
        tcp_ports = {
            f"{s.name}.{p}": tcp_port(self.layout, self.data, f"{s.name}.{p}")
            for s in services
            for p in envfile.port_names(s)
        }
        passwords: dict[str, str] = self.data.setdefault("passwords", {})
        for svc in stores:
            passwords.setdefault(svc.name, secrets.token_urlsafe(18))
        save_app(self.layout, self.data)
        self.passwords = dict(passwords)
        scale = self.data.get("scale", {})
        self.counts = {s.name: int(scale.get(s.name) or s.instances) for s in code}
        kept: dict[str, list[str]] = {}
        for svc in stores:
            kept[svc.name] = [self._ensure_store(svc, services, tcp_ports)]
        old_containers: dict[str, list[str]] = {
            k: v for k, v in self.data.get("containers", {}).items() if k not in kept
        }
        failed_before = self._failed_requests()
        launched = []
        for svc in code:
            launched += self._launch_service(
                svc, services, app, snapshots[svc.name], tcp_ports, old_containers
            )
        new: dict[str, list[ContainerSpec]] = {svc.name: [] for svc in code}
        for svc, spec, pid, expect_http in launched:  # they boot side by side
            self._await_ready(svc, spec, pid, expect_http, app, tcp_ports)
            new[svc.name].append(spec)
        self.log("All services have been initialized. Switching traffic...")
        urls = {}
        for svc in code:
            urls[svc.name] = self._switch(svc, new[svc.name], tcp_ports)
        self._report_downtime()
        self._retire(old_containers, new)
        failed = self._failed_requests() - failed_before
        self.record["failed_requests"] = failed
        self.log(f"Router: {failed} failed request(s) while switching to the new containers")
        self.data["containers"] = {
            # A service removed from dotcloud.yml keeps running until destroyed.
            **{k: v for k, v in old_containers.items() if k not in new},
            **{name: [c.cid for c in specs] for name, specs in new.items()},
            **kept,
        }
        self.data["current"] = self.dep_id
        self.data["revision"] = rev
        self.data["services"] = [s._asdict() for s in services]
        save_app(self.layout, self.data)
        self.record.update(status="deployed", finished=time.time(), urls=urls)
        self._save_record()
        self.log("Application fully deployed")
        for name, url in urls.items():
            self.log(f"{name}: {url}")
        first = next(iter(urls.values()), None)
        if first:
            self.log(f"Application is live at {first}")
        return self.record

    def _build(self, svc: Service, rev: str, rev_dir: Path) -> Path:
        kind = " (clean build)" if self.clean else ""
        self.log(f"Build started for revision {rev}{kind}", svc.name)
        self.log("I am the dotkit sandbox builder, and I will be your builder today.", svc.name)
        result = build_service(
            service=svc,
            build_dir=self.app.build_dir(svc.name),
            revision=rev_dir,
            node_version=svc.node_version or PLATFORM_DEFAULT_NODE_VERSION,
            hooks=svc.hooks,
            clean=self.clean,
            backend=self.backend,
            hidden=hidden_paths(self.layout),
            log=lambda line: self.log(line, svc.name),
            timeout=self.build_timeout,
        )
        size = _size_mb(result.snapshot)
        self.log(
            f"Build completed successfully in {result.seconds:.1f} s. "
            f"Compiled image size is {size}MB",
            svc.name,
        )
        return result.snapshot

    def _launch_service(
        self,
        svc: Service,
        services: tuple[Service, ...],
        app: App,
        snapshot: Path,
        tcp_ports: dict[str, int],
        old: dict[str, list[str]],
    ) -> list[tuple[Service, ContainerSpec, int, bool | None]]:
        """Start every instance of ``svc``; the caller waits for them together.

        An old instance with a ``~/data`` folder is stopped first and its data moved
        into the new one, after postinstall, as the platform did: that push is not
        zero-downtime, and the downtime is measured and reported.
        """
        scale = self.data.get("scale", {}).get(svc.name)
        count = int(scale or svc.instances)
        how = "custom" if scale else "default"
        self.log(f"Using {how} scaling for service {svc.name} ({count} instance(s)).", svc.name)
        expect_http = _expects_http(svc, app)
        launched = []
        for index in range(count):
            who = f"{svc.name}.{index}"
            spec = self._prepare(svc, services, index, snapshot, tcp_ports)
            self.started.append(spec)
            self.log("Initializing...", who)
            self._postinstall(spec, svc, who)
            previous = old.get(svc.name, [])
            if index < len(previous):
                self._move_data(previous[index], spec, who)
            self.log("Launching...", who)
            reply = self._platform().call("start", spec=spec.to_json())
            launched.append((svc, spec, int(reply["child_pid"]), expect_http))
        return launched

    def _await_ready(
        self,
        svc: Service,
        spec: ContainerSpec,
        pid: int,
        expect_http: bool | None,
        app: App,
        tcp_ports: dict[str, int],
    ) -> None:
        who = f"{svc.name}.{spec.instance}"
        self.log("Waiting for the instance to become responsive...", who)
        try:
            ready = wait_ready(
                sockets=Path(spec.sockets),
                pid=pid,
                expect_http=expect_http,
                tcp_ports=[tcp_ports[f"{svc.name}.{p}"] for p in svc.tcp_ports],
                timeout=self.ready_timeout,
                log_dir=Path(spec.home) / ".dotkit" / "log",
                netns=self.backend == "bwrap",
            )
        except NotReady as exc:
            hint = self._port_findings(app, svc)
            raise PushFailed(
                f"{who} is not responsive: {exc.message}"
                + (f"\n{hint}" if hint else "")
                + (f"\nLast log lines:\n{exc.log_tail}" if exc.log_tail else "")
            ) from None
        self.log(f"Instance is responsive ({ready.how}, {ready.seconds * 1000:.0f} ms)", who)
        self.record.setdefault("instances", {})[who] = {
            "cid": spec.cid,
            "ready_at": time.time(),
            "ready_seconds": round(ready.seconds, 4),
        }

    # -- ~/data: moved between containers, at the cost of downtime ---------------------------

    def _move_data(self, old_cid: str, spec: ContainerSpec, who: str) -> None:
        old_home = self.app.container(old_cid)
        if not (old_home / "data").is_dir():
            return
        spec_file = old_home / ".dotkit" / "spec.json"
        old_spec = ContainerSpec.from_json(spec_file.read_text()) if spec_file.is_file() else None
        self.log(
            "~/data found: stopping the old container to move it (this push has downtime)", who
        )
        self.down_since.setdefault(spec.service, time.monotonic())
        self._platform().call("stop", cid=old_cid, app=self.app.name)
        target = Path(spec.home) / "data"
        if target.exists():
            shutil.rmtree(target)  # the old container's data wins, as on the platform
        (old_home / "data").rename(target)
        if old_spec is not None:
            self.moved.append((old_spec, target))
        self.log("~/data moved into the new container", who)

    def _report_downtime(self) -> None:
        for service, since in self.down_since.items():
            seconds = time.monotonic() - since
            self.record.setdefault("downtime", {})[service] = round(seconds, 3)
            self.log(f"~/data: the service was down for {seconds:.2f} s during this push", service)

    def _failed_requests(self) -> int:
        routes = self._platform().call("status", app=self.app.name)["routes"]
        return sum(int(r["failed"]) for r in routes.values())

    # -- data services: created once, never rebuilt ------------------------------------------

    def _ensure_store(
        self, svc: Service, services: tuple[Service, ...], tcp_ports: dict[str, int]
    ) -> str:
        port_name = envfile.port_names(svc)[-1]
        port = tcp_ports[f"{svc.name}.{port_name}"]
        cid = f"{svc.name}.0-data"
        client = self._platform()
        running = client.call("status", app=self.app.name)["containers"]
        if cid in running:
            self.log(f"{svc.type} service kept as it is (data services are not rebuilt)", svc.name)
        else:
            self._create_store(svc, services, tcp_ports, cid, port_name, port)
        client.call(
            "route",
            app=self.app.name,
            name=f"{svc.name}.{port_name}",
            listen=[
                f"unix:{self.layout.service_sockets(self.app.name)}/{svc.name}.{port_name}.sock"
            ],
            backends=[f"container:{cid}:{port}"],
        )
        return cid

    def _create_store(
        self,
        svc: Service,
        services: tuple[Service, ...],
        tcp_ports: dict[str, int],
        cid: str,
        port_name: str,
        port: int,
    ) -> None:
        home = self.app.container(cid)
        fresh = not (home / "data").is_dir()
        (home / "data").mkdir(parents=True, exist_ok=True)
        (home / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
        env = envfile.environment(
            app=self.app.name, services=services, service=svc, instance=0,
            tcp_ports=tcp_ports, passwords=self.passwords,
        )  # fmt: skip
        (home / "environment.json").write_text(json.dumps(env, indent=4, sort_keys=True) + "\n")
        (home / "environment.yml").write_text(envfile.environment_yml(env))
        sockets = self.layout.container_sockets(self.app.name, cid)
        sockets.mkdir(parents=True, exist_ok=True)
        self.layout.service_sockets(self.app.name).mkdir(parents=True, exist_ok=True)
        spec = ContainerSpec(
            cid=cid, app=self.app.name, service=svc.name, instance=0, home=str(home),
            sockets=str(sockets), services=str(self.layout.service_sockets(self.app.name)),
            env=env, http=False, tcp_ports={port_name: port}, peers=[],
            hidden=hidden_paths(self.layout), backend=self.backend,
        )  # fmt: skip
        where = inside(spec)
        (home / ".dotkit" / "hosts").write_text(hosts_file(spec))
        server = dataservices.command(
            svc.type, port, self.passwords[svc.name], f"{where.home}/data"
        )
        (home / ".dotkit" / "supervisord.conf").write_text(
            supconf.render(
                where,
                include_app_conf=False,
                process=None,
                processes={svc.type: server},
                service=svc.name,
                directory=where.home,
            )
        )
        cinit = {
            "netns": where.netns,
            "relays": [],
            "env": _container_env(spec),
            "home": where.home,
            "supervisord": f"{where.home}/.dotkit/supervisord.conf",
        }
        (home / ".dotkit" / "cinit.json").write_text(json.dumps(cinit, indent=2))
        (home / ".dotkit" / "spec.json").write_text(spec.to_json())
        what = "Creating" if fresh else "Restarting"
        self.log(f"{what} the {svc.type} service (its data stays across pushes)", svc.name)
        reply = self._platform().call("start", spec=spec.to_json())
        try:
            wait_ready(
                sockets=sockets, pid=int(reply["child_pid"]), expect_http=False,
                tcp_ports=[port], timeout=self.ready_timeout,
                log_dir=home / ".dotkit" / "log", netns=self.backend == "bwrap",
            )  # fmt: skip
        except NotReady as exc:
            self._platform().call("stop", cid=cid, app=self.app.name)
            raise PushFailed(
                f"the {svc.type} service {svc.name} did not start: {exc.message}"
                + (f"\nLast log lines:\n{exc.log_tail}" if exc.log_tail else "")
            ) from None
        self.log(f"{svc.type} is ready on port {port}", svc.name)

    def _port_findings(self, app: App, svc: Service) -> str:
        from kit.verify.code import check_code
        from kit.verify.model import Target

        findings = [
            f
            for f in check_code(Target(app.root, app.files, (svc,)), cache_path=None)
            if f.severity == "error"
        ]
        return ("What dotkit verify says:\n" + _findings_text(findings)) if findings else ""

    def _prepare(
        self,
        svc: Service,
        services: tuple[Service, ...],
        index: int,
        snapshot: Path,
        tcp_ports: dict[str, int],
    ) -> ContainerSpec:
        cid = f"{svc.name}.{index}-{self.dep_id}"
        home = self.app.container(cid)
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        # The build's npm cache and its bookkeeping stay behind: a container gets
        # the build's result, not the builder's tools.
        entries = [str(e) for e in snapshot.iterdir() if e.name not in (".npm", ".dotkit")]
        if entries:
            run(["cp", "-a", *entries, str(home)], timeout=600)
        (home / ".dotkit" / "log").mkdir(parents=True, exist_ok=True)
        env = envfile.environment(
            app=self.app.name,
            services=services,
            service=svc,
            instance=index,
            tcp_ports=tcp_ports,
            app_env=self.data.get("env", {}),
            passwords=self.passwords,
            counts=self.counts,
        )
        (home / "environment.json").write_text(json.dumps(env, indent=4, sort_keys=True) + "\n")
        (home / "environment.yml").write_text(envfile.environment_yml(env))
        sockets = self.layout.container_sockets(self.app.name, cid)
        if sockets.exists():
            shutil.rmtree(sockets)
        sockets.mkdir(parents=True)
        self.layout.service_sockets(self.app.name).mkdir(parents=True, exist_ok=True)
        peers = [
            Peer(ep.host, ep.ip, ep.port, f"{ep.route}.sock")
            for ep in envfile.endpoints(self.app.name, services, tcp_ports, self.counts)
            if ep.service != svc.name
        ]
        spec = ContainerSpec(
            cid=cid,
            app=self.app.name,
            service=svc.name,
            instance=index,
            home=str(home),
            sockets=str(sockets),
            services=str(self.layout.service_sockets(self.app.name)),
            env=env,
            http=True,
            tcp_ports={p: tcp_ports[f"{svc.name}.{p}"] for p in svc.tcp_ports},
            peers=peers,
            hidden=hidden_paths(self.layout),
            backend=self.backend,
        )
        where = inside(spec)
        (home / ".dotkit" / "hosts").write_text(hosts_file(spec))
        has_conf = (home / "current" / "supervisord.conf").is_file()
        (home / ".dotkit" / "supervisord.conf").write_text(
            supconf.render(
                where,
                include_app_conf=has_conf,
                process=svc.process,
                processes=dict(svc.processes),
                service=svc.name,
                app_conf_path=f"{where.home}/current/supervisord.conf",
            )
        )
        relays = [f"unix:{where.sockets}/http.sock=tcp:127.0.0.1:8080"]
        relays += [
            f"unix:{where.sockets}/tcp-{n}.sock=tcp:127.0.0.1:{p}"
            for n, p in spec.tcp_ports.items()
        ]
        if where.netns:
            relays += [f"tcp:{p.ip}:{p.port}=unix:{where.services}/{p.socket}" for p in peers]
        cinit = {
            "netns": where.netns,
            "relays": relays,
            "env": _container_env(spec),
            "home": where.home,
            "supervisord": f"{where.home}/.dotkit/supervisord.conf",
        }
        (home / ".dotkit" / "cinit.json").write_text(json.dumps(cinit, indent=2))
        (home / ".dotkit" / "spec.json").write_text(spec.to_json())
        return spec

    def _postinstall(self, spec: ContainerSpec, svc: Service, who: str) -> None:
        home = Path(spec.home)
        command = svc.postinstall
        if command is None and (home / "current" / "postinstall").is_file():
            command = "./postinstall"
        if command is None:
            return
        self.log("Running postinstall script...", who)
        where = inside(spec)
        inner = ["/bin/sh", "-lc", f"cd {where.home}/current && {command}"]
        if spec.backend == "bwrap":  # the app's environment is read inside the container
            argv, env = bwrap_argv(spec, inner, kind="hook", app_env=True), host_env()
        else:
            argv, env = inner, _container_env(spec)
        try:
            done = run(argv, env=env, timeout=POSTINSTALL_TIMEOUT_S, check=False)
        except CommandFailed as exc:
            raise PushFailed(f"postinstall of {who}: {exc}") from None
        for line in (done.stdout + done.stderr).splitlines():
            self.log(f"  {line}", who)
        if done.returncode != 0:
            raise PushFailed(f"postinstall of {who} exited with status {done.returncode}")

    def _switch(self, svc: Service, specs: list[ContainerSpec], tcp_ports: dict[str, int]) -> str:
        client = self._platform()
        services_dir = self.layout.service_sockets(self.app.name)
        port = http_port(self.layout, self.data, svc.name)
        for spec in specs:
            self.log("Re-routing traffic to the new build...", f"{svc.name}.{spec.instance}")
        client.call(
            "route",
            app=self.app.name,
            name=f"{svc.name}.http",
            listen=[f"tcp:127.0.0.1:{port}", f"unix:{services_dir}/{svc.name}.http.sock"],
            backends=[f"container:{s.cid}:8080" for s in specs],
        )
        for name in svc.tcp_ports:
            client.call(
                "route",
                app=self.app.name,
                name=f"{svc.name}.{name}",
                listen=[f"unix:{services_dir}/{svc.name}.{name}.sock"],
                backends=[f"container:{s.cid}:{s.tcp_ports[name]}" for s in specs],
            )
            if len(specs) > 1:  # and one endpoint per instance: TCP is not balanced
                for s in specs:
                    route = f"{svc.name}.{name}.{s.instance}"
                    client.call(
                        "route",
                        app=self.app.name,
                        name=route,
                        listen=[f"unix:{services_dir}/{route}.sock"],
                        backends=[f"container:{s.cid}:{s.tcp_ports[name]}"],
                    )
        for spec in specs:
            self.log(
                f"Successfully deployed build revision {self.record['revision']}",
                f"{svc.name}.{spec.instance}",
            )
        return f"http://127.0.0.1:{port}/"

    def _retire(self, old: dict[str, list[str]], new: dict[str, list[ContainerSpec]]) -> None:
        """Hand the old containers to the platform process: it drains, stops and removes them."""
        client = self._platform()
        keep = {spec.cid for specs in new.values() for spec in specs}
        for service, cids in old.items():
            gone = [cid for cid in cids if cid not in keep]
            if not gone or service not in new:
                continue
            client.call(
                "retire",
                app=self.app.name,
                name=f"{service}.http",
                cids=gone,
                backends=[f"container:{c}:8080" for c in gone],
                remove=[str(self.app.container(c)) for c in gone]
                + [str(self.layout.container_sockets(self.app.name, c)) for c in gone],
            )
            self.log(f"Old containers of {service} are draining, then stop", service)
        for name in sorted(set(old) - set(new)):
            self.log(f"service {name} is no longer in dotcloud.yml; it keeps running", name)

    def _remove(self, cid: str) -> None:
        shutil.rmtree(self.app.container(cid), ignore_errors=True)
        shutil.rmtree(self.layout.container_sockets(self.app.name, cid), ignore_errors=True)

    def _abandon(self, why: str) -> None:
        """Stop whatever this push started; the routes still point at the old containers."""
        with contextlib.suppress(OperationFailed, OSError):
            client = self._platform() if self.started else None
            for spec in self.started:
                if client is not None:
                    client.call("stop", cid=spec.cid, app=self.app.name)
            for old_spec, moved in self.moved:
                # The data goes back where it came from and the old container runs again.
                moved.rename(Path(old_spec.home) / "data")
                if client is not None:
                    client.call("start", spec=old_spec.to_json())
            for spec in self.started:
                self._remove(spec.cid)
        self.record.update(status="failed", finished=time.time(), error=why)
        self._save_record()
        with contextlib.suppress(ValueError):
            self.log(f"Deployment failed: {why}")


def _container_env(spec: ContainerSpec) -> dict[str, str]:
    from kit.sandbox.backend import process_env

    return process_env(spec)


def _size_mb(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with contextlib.suppress(OSError):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
    return max(1, round(total / 1_000_000))


def cleanup_stale(layout: Layout, app_name: str) -> list[str]:
    """Deployments left "running" by a killed push: stop what they started."""
    app = layout.app(app_name)
    data = load_app(layout, app_name)
    current = {cid for cids in data.get("containers", {}).values() for cid in cids}
    cleaned = []
    for record in list_deployments(app):
        if record.get("status") != "running":
            continue
        record.update(status="failed", error="the push was interrupted", finished=time.time())
        write_json(deployment_path(app, record["id"]), record)
        cleaned.append(record["id"])
    if cleaned and app.containers.is_dir():
        client = connect(layout)
        assert client is not None
        with client:
            for home in app.containers.iterdir():
                if home.name not in current:
                    client.call("stop", cid=home.name, app=app_name)
                    shutil.rmtree(home, ignore_errors=True)
                    shutil.rmtree(layout.container_sockets(app_name, home.name), ignore_errors=True)
    return cleaned


def recover(layout: Layout, app_name: str) -> list[str]:
    """Clean up after a push that was killed, unless a push is running right now."""
    try:
        with push_lock(layout.app(app_name)):
            return cleanup_stale(layout, app_name)
    except UsageError:
        return []


def push(
    layout: Layout,
    app_name: str,
    source: Path | None,
    *,
    revision: str | None = None,
    clean: bool = False,
    git: bool = False,
    echo: Callable[[str], None] | None = None,
    ready_timeout: float = READY_TIMEOUT,
    build_timeout: float = BUILD_TIMEOUT,
) -> dict[str, Any]:
    """Push ``source`` (or deploy a stored ``revision``) to ``app_name``."""
    app = layout.app(app_name)
    load_app(layout, app_name)
    with push_lock(app):
        cleanup_stale(layout, app_name)
        job = Push(
            layout,
            app_name,
            clean=clean,
            echo=echo,
            ready_timeout=ready_timeout,
            build_timeout=build_timeout,
        )
        return job.run(source, git=git, revision=revision)


def revisions(app: AppLayout) -> list[str]:
    """Uploaded revisions, oldest first."""
    if not app.revisions.is_dir():
        return []
    return [p.name for p in sorted(app.revisions.iterdir(), key=lambda p: p.stat().st_mtime)]


def resolve_revision(layout: Layout, app_name: str, ref: str) -> str:
    """``latest``, ``previous`` (deployed before the current one) or a revision name."""
    app = layout.app(app_name)
    known = revisions(app)
    if ref == "latest":
        if not known:
            raise UsageError(f'"{app_name}" has no revisions yet; run dotkit push')
        return known[-1]
    if ref == "previous":
        current = load_app(layout, app_name).get("revision")
        deployed = [r["revision"] for r in list_deployments(app) if r.get("status") == "deployed"]
        earlier = [r for r in deployed if r != current]
        if not earlier:
            raise UsageError("there is no previous revision to go back to")
        return str(earlier[-1])
    if ref not in known:
        raise UsageError(f"there is no revision {ref!r}; dotkit revisions lists them")
    return ref


__all__ = ["PushFailed", "cleanup_stale", "push", "read_json"]
