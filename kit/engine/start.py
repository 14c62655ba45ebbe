"""The first process of every container of the platform image (it runs *inside* it).

Copied into the image as ``/opt/dotkit/start.py`` and run by its ``python3``,
so it uses the standard library only and never imports the kit. The platform's
paths come from ``/opt/dotkit/platform.json``, which the image build writes from
:mod:`kit.platform.facts`. Modes:

- ``build SPEC``: at image build time, link ``~/current`` to the approot, run
  ``prebuild``, ``npm install`` (with the image's build npm) and ``postbuild``
  in the approot, and keep the service's settings for ``run``.
- ``run`` (the default): write ``environment.json``/``.yml`` from the engine's
  variables and secret files, export them, run ``postinstall``, become supervisord.
- ``redis``: the same environment, then become ``redis-server`` with its data in ``~/data``.
- ``mysql``, ``postgresql``: the same environment, a one-time initialisation of
  the store in ``~/data/<kind>`` (``~/data`` is the engine's volume), then
  MariaDB or PostgreSQL in the foreground on all the container's interfaces.
  Both come from ``/opt/dotkit/datastores.py``, the sandbox's own module
  (:mod:`kit.sandbox.datastores`), which the image carries beside this file.
- ``router``: become HAProxy, balancing each published port across a service's
  instances by DNS (the engine's service discovery), with the gateway's headers.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pwd
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

PLATFORM_JSON = "/opt/dotkit/platform.json"
CONTROL = "DOTKIT_"  # variables that steer this script, never shown to the app
SECRETS_VAR = "DOTKIT_SECRETS"  # {"KEY": {"file": "/run/secrets/x", "format": "...{secret}..."}}
# Set by the engines themselves, not by the platform: kept out of environment.json.
RUNTIME_VARS = frozenset({"PATH", "HOME", "HOSTNAME", "PWD", "SHLVL", "TERM", "LANG", "_"})
_SLOT = re.compile(r"-(\d+)$")
SQL_KINDS = ("mysql", "postgresql")
LISTEN_ALL = "0.0.0.0"  # other containers reach a data service by the engine's network


def platform() -> dict[str, Any]:
    with open(PLATFORM_JSON, encoding="utf-8") as handle:
        facts: dict[str, Any] = json.load(handle)
    return facts


def instance_id(environ: Mapping[str, str], hostname: str) -> str:
    """This instance's number: Swarm's task slot (from 1), a StatefulSet pod's ordinal, or 0."""
    slot = environ.get("DOTKIT_INSTANCE", "")
    if slot.isdigit() and int(slot) > 0:
        return str(int(slot) - 1)
    if environ.get("DOTKIT_INSTANCE_FROM") == "hostname":
        found = _SLOT.search(hostname)
        if found:
            return found.group(1)
    return "0"


def read_secret(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def environment(
    environ: Mapping[str, str], hostname: str, service_id_key: str, read: Any = read_secret
) -> dict[str, str]:
    """The platform's flat environment: the engine's variables less its own and the
    control ones, each secret filled in from its file, and this instance's number."""
    env = {
        key: value
        for key, value in environ.items()
        if not key.startswith(CONTROL) and key not in RUNTIME_VARS and key != "container"
    }
    for key, source in json.loads(environ.get(SECRETS_VAR) or "{}").items():
        secret = read(source["file"])
        env[key] = str(source.get("format", "{secret}")).replace("{secret}", secret)
    env[service_id_key] = instance_id(environ, hostname)
    return dict(sorted(env.items()))


def yaml_text(env: Mapping[str, str]) -> str:
    # A JSON string is a valid YAML double-quoted scalar: no YAML library needed.
    return "".join(
        f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in env.items()
    )


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def drop_privileges(facts: Mapping[str, Any]) -> None:
    """Become the platform's unprivileged user (the image starts as root only to read
    the engine's secret files, which may be readable by root alone)."""
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(facts["user"])
    for fd in (1, 2):  # so supervisord can reopen /dev/stdout for its own log
        with contextlib.suppress(OSError):
            os.fchown(fd, user.pw_uid, user.pw_gid)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def prepare(facts: Mapping[str, Any]) -> dict[str, str]:
    """Write environment.json/.yml as the platform's user; the processes' environment."""
    env = environment(os.environ, os.uname().nodename, facts["service_id_key"])
    drop_privileges(facts)
    write_private(Path(facts["environment_json"]), json.dumps(env, indent=2) + "\n")
    write_private(Path(facts["environment_yml"]), yaml_text(env))
    keep = {k: v for k, v in os.environ.items() if not k.startswith(CONTROL)}
    return {**keep, **env}


def build(spec: Mapping[str, Any], facts: Mapping[str, Any]) -> int:
    """Image build time: ``~/current``, the hooks and npm, as the platform's builder did."""
    drop_privileges(facts)
    home = Path(facts["home"])
    approot = str(spec["approot"])
    current = Path(facts["current"])
    current.symlink_to("code" if approot == "." else f"code/{approot}")
    runtime_path = f"{spec['node_bin']}:/usr/local/bin:/usr/bin:/bin"
    env = {**os.environ, "PATH": runtime_path, "HOME": str(home), "npm_config_cache": "/tmp/npm"}
    steps: list[tuple[str, list[str], dict[str, str]]] = []
    if spec.get("prebuild"):
        steps.append(("prebuild", ["/bin/sh", "-c", spec["prebuild"]], env))
    if (current / "package.json").is_file():
        npm_env = {**env, "PATH": f"{facts['build_node_bin']}:{runtime_path}"}
        npm = [f"{facts['build_node_bin']}/npm", "install", "--no-audit", "--no-fund"]
        steps.append(("npm install", npm, npm_env))
    if spec.get("postbuild"):
        steps.append(("postbuild", ["/bin/sh", "-c", spec["postbuild"]], env))
    for name, argv, step_env in steps:
        print(f"[{spec['service']}] {name}", flush=True)
        code = subprocess.call(argv, cwd=current, env=step_env)
        if code != 0:
            print(f"[{spec['service']}] {name} failed with exit code {code}", flush=True)
            return 1
    with (home / ".profile").open("a", encoding="utf-8") as profile:  # `sh -l`, as `dotcloud run`
        profile.write(f'PATH="{spec["node_bin"]}:$PATH"\n')
    own = home / ".dotkit"
    own.mkdir(exist_ok=True)
    (own / "service.json").write_text(json.dumps(spec["run"], indent=2) + "\n", encoding="utf-8")
    (own / "supervisord.conf").write_text(spec["supervisord"], encoding="utf-8")
    return 0


def postinstall(run_spec: Mapping[str, Any], facts: Mapping[str, Any], env: dict[str, str]) -> int:
    current = Path(facts["current"])
    command = run_spec.get("postinstall")
    argv = ["/bin/sh", "-c", command] if command else None
    hook = current / "postinstall"
    if argv is None and hook.is_file() and os.access(hook, os.X_OK):
        argv = [str(hook)]
    if argv is None:
        return 0
    try:
        return subprocess.call(argv, cwd=current, env=env, timeout=facts["postinstall_timeout"])
    except subprocess.TimeoutExpired:
        print("postinstall ran past its time limit; the instance does not start", flush=True)
        return 1


def run_code(facts: Mapping[str, Any]) -> int:
    home = Path(facts["home"])
    run_spec = json.loads((home / ".dotkit" / "service.json").read_text(encoding="utf-8"))
    env = prepare(facts)
    env["PATH"] = f"{run_spec['node_bin']}:/usr/local/bin:/usr/bin:/bin"
    code = postinstall(run_spec, facts, env)
    if code != 0:
        print(f"postinstall failed with exit code {code}", flush=True)
        return 2
    conf = str(home / ".dotkit" / "supervisord.conf")
    os.chdir(home)
    os.execve("/usr/bin/supervisord", ["supervisord", "-n", "-c", conf], env)
    return 0  # not reached


def redis_conf(port: int, password: str, data_dir: str) -> str:
    return (
        f"port {port}\nbind 0.0.0.0\nprotected-mode no\nrequirepass {json.dumps(password)}\n"
        f'dir {json.dumps(data_dir)}\nappendonly yes\nsave 60 1\ndaemonize no\nlogfile ""\n'
    )


def run_redis(facts: Mapping[str, Any]) -> int:
    password = read_secret(os.environ["DOTKIT_PASSWORD_FILE"])
    env = prepare(facts)
    conf = Path(facts["home"]) / ".dotkit" / "redis.conf"
    conf.parent.mkdir(exist_ok=True)
    write_private(conf, redis_conf(int(os.environ["DOTKIT_PORT"]), password, facts["data"]))
    os.execve("/usr/bin/redis-server", ["redis-server", str(conf)], env)
    return 0  # not reached


def sql_store(
    stores: ModuleType, kind: str, facts: Mapping[str, Any], password: str, port: int
) -> Any:
    """The ``datastores.Store`` of this container: its data in a folder of the volume at
    ``~/data`` (which cannot be renamed onto, as initialisation does at its end), its
    sockets in the container's own ``~/.dotkit/run``, the image's programs."""
    return stores.Store(
        kind=kind,
        login=facts["data_login"],
        data_dir=f"{facts['data']}/{kind}",
        run_dir=f"{facts['home']}/.dotkit/run",
        port=port,
        password=password,
        programs=facts["sql_programs"],
        bind=LISTEN_ALL,
    )


def sql_setup(stores: ModuleType, store: Any) -> list[Any]:
    """The steps to run before the server: the initialisation, unless it was done."""
    if stores.initialised(store.kind, Path(store.data_dir)):
        return []
    return list(stores.init_steps(store))


def serve(argv: list[str], env: Mapping[str, str], stop: signal.Signals) -> int:
    """Run the server until it exits, handing it the engine's stop request (SIGTERM)
    as ``stop``: PostgreSQL reads SIGTERM as "wait for every client to leave"."""
    server: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: object) -> None:
        if server:
            server[0].send_signal(stop)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    server.append(subprocess.Popen(argv, env=dict(env)))
    code = server[0].wait()
    return 128 - code if code < 0 else code


def run_sql(kind: str, facts: Mapping[str, Any]) -> int:
    stores = importlib.import_module("datastores")  # /opt/dotkit/datastores.py
    password = read_secret(os.environ["DOTKIT_PASSWORD_FILE"])
    port = int(os.environ["DOTKIT_PORT"])
    env = prepare(facts)
    store = sql_store(stores, kind, facts, password, port)
    Path(store.run_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    steps = sql_setup(stores, store)
    if steps:
        print(f"Initialising {kind} in {store.data_dir}", flush=True)
    for step in steps:
        done = subprocess.run(step.argv, input=step.input, env=env, check=False)
        if done.returncode != 0:
            print(f"{step.argv[0]} failed with exit code {done.returncode}", flush=True)
            return 1
    stop = getattr(signal, "SIG" + stores.STOP_SIGNAL[kind])
    return serve(stores.server_argv(store), env, stop)


def haproxy_conf(routes: list[Mapping[str, Any]]) -> str:
    """One frontend per published port, balanced over the service's instances by DNS."""
    lines = [
        "global", "  maxconn 4096", "defaults", "  timeout connect 5s",
        "  timeout client 60s", "  timeout server 60s", "  timeout tunnel 1h",
        "resolvers engine", "  parse-resolv-conf", "  hold valid 1s", "",
    ]  # fmt: skip
    for route in routes:
        name, mode = f"{route['service']}_{route['port']}", route["mode"]
        lines += [f"frontend {name}", f"  mode {mode}", f"  bind :{int(route['listen'])}"]
        if mode == "http":
            lines += [
                "  option forwardfor",
                "  http-request set-header X-Forwarded-Proto http",
                "  http-request set-header X-Forwarded-Port %[dst_port]",
                "  http-request set-header X-Real-IP %[src]",
            ]
        lines += [
            f"  default_backend {name}",
            f"backend {name}",
            f"  mode {mode}",
            "  balance roundrobin",
        ]
        lines.append(
            f"  server-template i {int(route['slots'])} {route['host']}:{int(route['port'])} "
            "check resolvers engine init-addr none"
        )
        lines.append("")
    return "\n".join(lines)


def run_router(facts: Mapping[str, Any]) -> int:
    routes = json.loads(os.environ["DOTKIT_ROUTES"])
    drop_privileges(facts)
    conf = Path(facts["home"]) / ".dotkit" / "haproxy.cfg"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(haproxy_conf(routes), encoding="utf-8")
    os.execv("/usr/sbin/haproxy", ["haproxy", "-db", "-f", str(conf)])
    return 0  # not reached


def main(argv: list[str]) -> int:
    facts = platform()
    mode = argv[0] if argv else "run"
    if mode == "build" and len(argv) == 2:
        return build(json.loads(argv[1]), facts)
    if mode in SQL_KINDS:
        return run_sql(mode, facts)
    modes = {"run": run_code, "redis": run_redis, "router": run_router}
    if mode not in modes:
        known = "build SPEC, run, redis, mysql, postgresql, router"
        print(f"start.py: unknown mode {mode!r} ({known})", file=sys.stderr)
        return 2
    return modes[mode](facts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
