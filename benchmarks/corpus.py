"""The kit on real apps: convert, verify and push each app of the corpus, as a new user would.

For every app of ``tests/corpus/manifest.json`` (fetched from the npm registry at
run time, see :mod:`testing.corpus`): ``dotkit convert --fix`` (unless the app
is a dotCloud app already), ``dotkit verify``, then ``dotkit create``, ``push``,
``url`` and an HTTP request to each URL, and ``destroy``, in a sandbox of its
own (``DOTKIT_HOME`` in a temporary folder), the sandbox used as a black box
through its CLI. Prints one row per app: services found, findings (errors among
them), deployed or not, answered or not, seconds; and the target: every app that
can run on the platform (no error finding) deploys and answers.

Usage: .venv/bin/python benchmarks/corpus.py [--timeout S] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testing import corpus  # noqa: E402


class Row(NamedTuple):
    app: str
    services: int
    findings: int
    errors: int
    deployed: bool | None  # None: not tried (an error the platform would meet)
    answered: bool | None
    seconds: float
    note: str


def _dotkit(
    args: list[str], cwd: Path, home: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    try:
        return subprocess.run(
            [sys.executable, "-m", "kit", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"timed out after {timeout:.0f} s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


# Lines of a failed push that say why: npm's own reason, a program's error, a refusal.
_REASONS = ("npm error network request", "npm error notarget", "npm error 404", "Error:",
            "SyntaxError", "is not responsive", "exited with status", "ECONNREFUSED")  # fmt: skip


def _why(output: str) -> str:
    """The line of a failed push's output that says why, else its last lines."""
    lines = [line.split(": ", 1)[-1].strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if any(reason in line for reason in _REASONS):
            return line[:240]
    return " / ".join(lines[-2:])[-240:]


def _push(name: str, app: Path, home: Path, timeout: float) -> tuple[bool, bool, str]:
    created = _dotkit(["-y", "create", name], app, home, timeout)
    if created.returncode != 0:
        return False, False, "create failed: " + (created.stderr or created.stdout)[-200:]
    pushed = _dotkit(["push"], app, home, timeout)
    answered, note = False, ""
    if pushed.returncode == 0:
        urls = _dotkit(["url"], app, home, 60).stdout.splitlines()
        answered = any(_answers(line.split(": ", 1)[1]) for line in urls if ": " in line)
    else:
        note = _why(pushed.stdout + pushed.stderr)
    _dotkit(["-y", "destroy"], app, home, 120)
    return pushed.returncode == 0, answered, note


def run_one(entry: corpus.Entry, work: Path, timeout: float) -> Row:
    started = time.perf_counter()
    try:
        outcome = corpus.run(entry, work)
    except corpus.Unavailable as exc:
        return Row(entry.name, 0, 0, 0, None, None, 0.0, f"skipped: {exc}")
    findings = outcome.verify.get("findings", [])
    errors = sum(f["severity"] == "error" for f in findings)
    services = len(outcome.convert.get("services", [])) if outcome.convert else 1
    deployed = answered = None
    note = ""
    if errors == 0:
        deployed, answered, note = _push(
            entry.name.replace("-", "")[:16], outcome.out, work / "home", timeout
        )
    else:
        rules = sorted({f["rule"] for f in findings if f["severity"] == "error"})
        note = "not pushed: " + ", ".join(rules)
    seconds = time.perf_counter() - started
    return Row(entry.name, services, len(findings), errors, deployed, answered, seconds, note)


def _mark(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=900.0, help="per push, in seconds")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    entries = [e for e in corpus.load_manifest() if not args.names or e.name in args.names]
    rows = []
    head = ("app", "services", "findings", "errors", "deployed", "answered", "s")
    print(f"{head[0]:<18} " + " ".join(f"{h:>8}" for h in head[1:]) + "  note")
    with tempfile.TemporaryDirectory(prefix="dotkit-corpus-bench-") as tmp:
        for entry in entries:
            row = run_one(entry, Path(tmp), args.timeout)
            rows.append(row)
            print(
                f"{row.app:<18} {row.services:>8} {row.findings:>8} {row.errors:>8} "
                f"{_mark(row.deployed):>8} {_mark(row.answered):>8} {row.seconds:>8.1f}  "
                f"{row.note}",
                flush=True,
            )
    runnable = [r for r in rows if r.errors == 0 and not r.note.startswith("skipped")]
    good = [r for r in runnable if r.deployed and r.answered]
    print(
        f"apps with no error finding: {len(runnable)} of {len(rows)}; deployed and answering "
        f"after convert --fix: {len(good)} of {len(runnable)} "
        f"(target: all): {'OK' if len(good) == len(runnable) else 'MISSED'}"
    )
    print(json.dumps({"rows": [r._asdict() for r in rows]}))


if __name__ == "__main__":
    main()
