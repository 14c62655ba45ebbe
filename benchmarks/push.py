"""How fast the sandbox pushes and serves, measured in one run.

Prints:
- a warm push (nothing changed, build snapshot reused) as a ratio to the cold
  push of the guide's sample app (fresh sandbox, npm install from the registry);
  target at most 0.25;
- the delay between the app listening on 8080 and the sandbox declaring it
  responsive (target under 100 ms), from the app's own timestamp and the push's;
- requests per second through the router as a ratio to requests straight to the
  app inside its container, with the same load tool (wrk) in the same run
  (target at least 0.5);
- requests per second through the router (the HTTP gateway: headers added, a
  backend per request) as a ratio to nginx with one worker proxying the same app
  from inside its container (kept upstream connections, the same headers), runs
  alternated and the median of each taken (target at least 0.9).

Needs node, npm, bubblewrap, wrk and nginx (Debian packages `wrk`, `nginx-light`).
Usage: .venv/bin/python benchmarks/push.py [--seconds N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "sample_apps" / "nodesocket-guide"
PROBE_APP = """\
var http = require('http');
var server = http.createServer(function (req, res) { res.end('ok'); });
server.listen(8080, function () { console.error('LISTENING ' + Date.now()); });
"""


def dotkit(home: Path, *args: str, cwd: Path | None = None) -> tuple[float, str]:
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "kit", *args], cwd=cwd, env=env, capture_output=True, text=True,
        check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"dotkit {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def wrk(url: str, seconds: int, prefix: list[str] | None = None, cpu_of: int = 0) -> float:
    """Requests per second; with ``cpu_of``, also note that process's CPU time per request."""
    argv = [*(prefix or []), "wrk", "-t2", "-c32", f"-d{seconds}s", url]
    before = cpu_seconds(cpu_of) if cpu_of else 0.0
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if not match or not count:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    if cpu_of:
        CPU_PER_REQUEST.setdefault(cpu_of, []).append(
            (cpu_seconds(cpu_of) - before) / int(count.group(1)) * 1e6
        )
    return float(match.group(1))


CPU_PER_REQUEST: dict[int, list[float]] = {}  # pid -> microseconds of CPU per request, per run


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each load run")
    args = parser.parse_args()
    for tool in ("node", "npm", "bwrap", "wrk", "nsenter", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required (see the docstring)")
    with tempfile.TemporaryDirectory(prefix="dotkit-push-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        try:
            measure(work, home, args.seconds)
        finally:
            stop_platform(home)


def stop_platform(home: Path) -> None:
    """Leave nothing running, whatever happened."""
    pidfile = home / "platform" / "platform.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def measure(work: Path, home: Path, seconds: int) -> None:
    app = work / "portedapp"
    dotkit(home, "convert", str(GUIDE), "-o", str(app), "--fix")
    dotkit(home, "create", "bench", cwd=app)
    cold, _ = dotkit(home, "push", cwd=app)
    warm_runs = [dotkit(home, "push", cwd=app)[0] for _ in range(3)]
    warm = sorted(warm_runs)[1]
    ratio = warm / cold
    print(f"cold push of the guide sample: {cold:.2f} s (fresh sandbox, npm install)")
    print(f"warm push, nothing changed: {warm:.2f} s (median of 3)")
    print(f"warm / cold: {ratio:.2f}  (target <= 0.25)  {'OK' if ratio <= 0.25 else 'MISSED'}")
    dotkit(home, "-y", "destroy", cwd=app)

    probe = work / "probe"
    (probe / "www").mkdir(parents=True)
    (probe / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
    )
    (probe / "www" / "server.js").write_text(PROBE_APP)
    dotkit(home, "create", "probe", cwd=probe)
    delays = []
    for _ in range(5):
        dotkit(home, "push", cwd=probe)
        apps = home / "apps" / "probe"
        record = json.loads(
            max((apps / "deployments").glob("*.json"), key=os.path.getmtime).read_text()
        )
        instance = record["instances"]["www.0"]
        logs = (apps / "containers" / instance["cid"] / ".dotkit" / "log").glob("*.log")
        listening = next(
            int(m.group(1)) / 1000
            for path in logs
            for m in [re.search(r"LISTENING (\d+)", path.read_text())]
            if m
        )
        delays.append((instance["ready_at"] - listening) * 1000)
    delays.sort()
    median = delays[len(delays) // 2]
    verdict = "OK" if median < 100 else "MISSED"
    print(
        f"app listening -> declared responsive: median {median:.0f} ms, "
        f"worst {delays[-1]:.0f} ms over 5 pushes  (target < 100 ms)  {verdict}"
    )

    _, url_out = dotkit(home, "url", "www", cwd=probe)
    url = url_out.strip()
    status = json.loads(
        subprocess.run(
            [sys.executable, "-c", "import json,sys;from kit.sandbox.client import connect;"
             "from kit.sandbox.layout import Layout;from pathlib import Path;"
             "c=connect(Layout(Path(sys.argv[1])),start=False);"
             "print(json.dumps(c.call('status',app='probe')))", str(home)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    pid = next(iter(status["containers"].values()))["child_pid"]
    inside = ["nsenter", "-t", str(pid), "-n"]
    direct = wrk("http://127.0.0.1:8080/", seconds, inside)
    routed = wrk(url, seconds)
    share = routed / direct
    print(f"straight to the app (inside its container): {direct:,.0f} requests/s")
    print(f"through the router: {routed:,.0f} requests/s")
    print(f"router / direct: {share:.2f}  (target >= 0.5)  {'OK' if share >= 0.5 else 'MISSED'}")
    platform = int((home / "platform" / "platform.pid").read_text())
    against_nginx(work, inside, url, seconds, platform)
    dotkit(home, "-y", "destroy", cwd=probe)


NGINX_PORT = 18080
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  upstream app {{ server 127.0.0.1:8080; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
    }}
  }}
}}
"""


def against_nginx(
    work: Path, inside: list[str], url: str, seconds: int, platform: int, rounds: int = 5
) -> None:
    """The router against nginx (one worker) in front of the same app, runs alternated.

    nginx runs in the container's network namespace (it cannot enter it the way
    the router does), so its load comes from wrk in that namespace too. Besides
    requests per second (which other work on the machine moves), each side's CPU
    time per request is printed: the router's is the platform process's.
    """
    conf_dir = work / "nginx"
    conf_dir.mkdir()
    conf = conf_dir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=conf_dir, port=NGINX_PORT))
    nginx = subprocess.Popen(
        [*inside, "nginx", "-c", str(conf), "-e", str(conf_dir / "nginx-error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        if nginx.poll() is not None:
            raise SystemExit(f"nginx did not start: {(conf_dir / 'nginx-error.log').read_text()}")
        worker = nginx_worker(conf)
        router_runs, nginx_runs = [], []
        for _ in range(rounds):
            nginx_runs.append(wrk(f"http://127.0.0.1:{NGINX_PORT}/", seconds, inside, worker))
            router_runs.append(wrk(url, seconds, cpu_of=platform))
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    router, proxy = sorted(router_runs)[rounds // 2], sorted(nginx_runs)[rounds // 2]
    ratio = router / proxy
    runs = ", ".join(f"{r:,.0f}/{n:,.0f}" for r, n in zip(router_runs, nginx_runs, strict=True))
    print(f"nginx, one worker, in front of the app: {proxy:,.0f} requests/s (median of {rounds})")
    print(f"the router, same rounds: {router:,.0f} requests/s (router/nginx per round: {runs})")
    print(f"router / nginx: {ratio:.2f}  (target >= 0.9)  {'OK' if ratio >= 0.9 else 'MISSED'}")
    cpu_router = sorted(CPU_PER_REQUEST[platform])[rounds // 2]
    cpu_nginx = sorted(CPU_PER_REQUEST[worker])[rounds // 2]
    print(f"CPU time per request: router {cpu_router:.0f} us, nginx {cpu_nginx:.0f} us (medians)")


def nginx_worker(conf: Path) -> int:
    """The pid of the worker of the nginx started with ``conf``."""
    found = subprocess.run(
        ["pgrep", "-f", f"nginx: master process nginx -c {conf}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    children = Path(f"/proc/{found[0]}/task/{found[0]}/children").read_text().split()
    return int(children[0])


if __name__ == "__main__":
    main()
