"""Helpers for the tutorial notebooks: a sandbox of their own, and output that stays the same.

The notebooks in ``notebooks/`` run the real ``dotkit`` command against the sample
apps and print what happened. nbval runs them again and compares every output with
the stored one, so what they print must be the same on every run. This module turns
the command's output into short summaries without clock times, ports, process ids or
temporary paths, and shows the kit's data as tables: HTML in Jupyter
(``_repr_html_``), aligned plain text everywhere else (``repr``).

:class:`Sandbox` gives a notebook a ``$DOTKIT_HOME`` of its own in a temporary
folder and runs ``dotkit`` as a subprocess, so the platform process and the
containers are the real ones. It always cleans up: the notebook's last cell calls
:meth:`Sandbox.close`; a ``weakref.finalize``, which also runs at interpreter exit,
covers a notebook that stops early; and a watchdog process covers a kernel that is
killed outright, which is how nbval and Jupyter's "restart" end a kernel.
"""

import contextlib
import html
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kit import proc
from kit.convert.migration import ReportRow
from kit.findings import Finding
from kit.terms import TERMS, Term

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_apps"
COMMAND_TIMEOUT = 300.0

# What changes from one run to the next in the CLI's output, and what it becomes.
_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\d{2}:\d{2}:\d{2}\.\d+: ", re.MULTILINE), ""),  # the push log's clock
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"), "<date>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"\.localhost:\d+"), ".localhost:<port>"),  # the gateway's shared ports
    (re.compile(r"\brsync-\d+"), "rsync-<ms>"),
    (re.compile(r"\bgit-[0-9a-f]{7,40}\b"), "git-<sha>"),
    (re.compile(r"\bsha256 [0-9a-f]+"), "sha256 <digest>"),
    (re.compile(r"\bpid \d+, uptime [\d:]+"), "pid <n>, uptime <t>"),
    (re.compile(r"\bwith pid \d+"), "with pid <n>"),
    (re.compile(r"supervisor-[\w-]+\.log"), "supervisor-<id>.log"),
    (re.compile(r"image size is \d+MB"), "image size is <size>"),  # npm picks newer versions
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b"), "<time>"),
)


def hide_paths(text: str, *paths: Path) -> str:
    """Each of ``paths`` (temporary folders) as ``<tmp>``, this repository as ``<repo>``."""
    for path in sorted({str(p) for p in paths}, key=len, reverse=True):
        text = text.replace(path, "<tmp>")
    return text.replace(str(REPO), "<repo>")


def stable(text: str, *paths: Path) -> str:
    """``text`` without what varies between runs: clock times, ports, revision ids,
    durations, process ids, and the folders in ``paths`` (see :func:`hide_paths`)."""
    text = hide_paths(text, *paths)
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def seconds(value: float) -> str:
    """A measured duration as ``1.23 s``: notebooks/sanitize.cfg masks exactly this form."""
    return f"{value:.2f} s"


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


# --- Tables ------------------------------------------------------------------------------------


class Table:
    """Rows under a title: an HTML table in Jupyter, aligned plain text everywhere else.

    ``text_columns`` picks the columns the plain text shows, to keep it short; the
    HTML table always has them all.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        title: str = "",
        text_columns: Sequence[int] | None = None,
    ) -> None:
        self.columns = tuple(columns)
        self.rows = tuple(tuple("" if cell is None else str(cell) for cell in row) for row in rows)
        self.title = title
        self.text_columns = tuple(text_columns) if text_columns else tuple(range(len(columns)))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        picked = [[row[i] for i in self.text_columns] for row in self.rows]
        header = [self.columns[i] for i in self.text_columns]
        widths = [max(len(c) for c in column) for column in zip(header, *picked, strict=False)]
        lines = [self.title] if self.title else []
        if self.rows:
            for cells in (header, ["-" * w for w in widths], *picked):
                lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
        return "\n".join(line.rstrip() for line in lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        cell = 'style="text-align:left;vertical-align:top"'
        head = "".join(f"<th {cell}>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td {cell}>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        if not self.rows:
            return f"<p>{html.escape(self.title)}</p>"
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Shown:
    """Base of the objects a notebook shows: their :meth:`table`, as HTML or as text."""

    def table(self) -> Table:
        raise NotImplementedError

    def __repr__(self) -> str:
        return repr(self.table())

    def __str__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Terms(Shown):
    """The kit's table of nodeSocket terms and their dotCloud names (``kit.terms.TERMS``)."""

    def __init__(self, terms: Sequence[Term] = TERMS) -> None:
        self.terms = tuple(terms)

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __getitem__(self, nodesocket: str) -> Term:
        for term in self.terms:
            if term.nodesocket == nodesocket:
                return term
        raise KeyError(nodesocket)

    def table(self) -> Table:
        return Table(
            ["nodeSocket", "dotCloud", "What changes", "Guide section"],
            [(t.nodesocket, t.dotcloud, t.notes, t.section) for t in self.terms],
            title=f"{len(self.terms)} nodeSocket terms and their dotCloud names",
            text_columns=(0, 1),
        )


class Findings(Shown):
    """What ``dotkit verify`` (or ``convert``) found, in the order it reports them."""

    def __init__(self, findings: Iterable[Finding], label: str = "findings") -> None:
        self.items = tuple(findings)
        self.label = label

    @classmethod
    def from_json(cls, data: Iterable[dict[str, Any]], label: str = "findings") -> "Findings":
        return cls((Finding(**item) for item in data), label)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    @property
    def rules(self) -> list[str]:
        """The rule of each finding, in order."""
        return [f.rule for f in self.items]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity == "error")

    def of(self, rule: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.rule == rule)

    def table(self) -> Table:
        counts = Counter(f.severity for f in self.items)
        summary = (
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"
            if self.items
            else "no problems found"
        )
        return Table(
            ["severity", "rule", "where", "message", "fix"],
            [(f.severity, f.rule, f.location, f.message, f.fix) for f in self.items],
            title=f"{self.label}: {summary}",
            text_columns=(0, 1, 2),
        )


class Migration(Shown):
    """A conversion's report (``dotkit convert --format json``): what became of each key."""

    def __init__(self, data: dict[str, Any], label: str, output: Path | None) -> None:
        self.label = label
        self.output = output
        self.written = bool(data.get("written"))
        self.services = tuple(str(s["name"]) for s in data.get("services", []))
        self.rows = tuple(ReportRow(**row) for row in data.get("rows", []))
        self.findings = Findings.from_json(data.get("findings", []), f"convert {label}")
        # Each change already names its file, line and column.
        self.edits = tuple(
            str(change) for edit in data.get("edits", []) for change in edit["changes"]
        )

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[ReportRow]:
        return iter(self.rows)

    def row(self, gear: str, source: str) -> ReportRow:
        for row in self.rows:
            if (row.gear, row.source) == (gear, source):
                return row
        raise KeyError(f"{gear}: {source}")

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)

    def table(self) -> Table:
        def where(path: str | None, line: int | None) -> str:
            if path is None:
                return "-"
            return f"{path}:{line}" if line is not None else path

        counts = ", ".join(
            f"{self.count(a)} {a}" for a in ("converted", "changed", "dropped", "manual")
        )
        return Table(
            ["Gear", "key", "action", "from", "to", "result", "why"],
            [
                (
                    r.gear,
                    r.source,
                    r.action,
                    where(r.source_path, r.source_line),
                    where(r.target_path, r.target_line),
                    r.new if r.action != "dropped" else "(dropped)",
                    r.reason,
                )
                for r in self.rows
            ],
            title=f"{self.label} -> {len(self.services)} service(s) "
            f"({', '.join(self.services)}): {counts}",
            text_columns=(0, 1, 2, 3, 4),
        )


# --- Running dotkit ----------------------------------------------------------------------------


class Run(NamedTuple):
    """One finished command: what was typed, its exit code and what it printed."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str
    hidden: tuple[Path, ...] = ()  # paths that stable() hides

    def __repr__(self) -> str:
        return f"<{self.command}: exit {self.code}>"

    @property
    def command(self) -> str:
        """The command line, stable."""
        return stable(shlex.join(self.argv), *self.hidden)

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def text(self) -> str:
        """Both streams, stable: no clock times, ports or temporary paths."""
        return stable(self.out + self.err, *self.hidden)

    def lines(self, *needles: str) -> list[str]:
        """The stable lines that contain any of ``needles`` (every line without one)."""
        return [
            line
            for line in self.text.splitlines()
            if not needles or any(needle in line for needle in needles)
        ]

    def show(self, *needles: str) -> None:
        """Print the command, its exit code and its stable lines (those with ``needles``)."""
        print(f"$ {self.command}    # exit {self.code}")
        for line in self.lines(*needles):
            print(line)


class Reply(NamedTuple):
    """An HTTP answer from a service."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Build(NamedTuple):
    """How one code service was built during a push."""

    service: str
    cache: str  # "first build", "restored", "--clean" or "rebuilt"
    npm: str  # "ran", "skipped" or "-" (no package.json)
    hooks: tuple[str, ...]


_SERVICE_LINE = re.compile(r"^\[(?P<who>[\w.]+)\] (?P<what>.*)$")


class PushSummary(Shown):
    """What a push did, read from its log: builds, instances, the switch, the outcome."""

    def __init__(self, run: Run, wall: float) -> None:
        self.run = run
        self.wall = wall  # seconds, as measured around the command
        self.ok = run.ok
        self.log = tuple(run.text.splitlines())
        self.deployment = self._find(r"Deployment (d\d+) of revision")
        self.revision = self._find(r"revision (rsync|git)-") or "?"
        builds: dict[str, list[str]] = {}
        self.instances: list[str] = []
        self.data_services: list[str] = []
        self.downtime: float | None = None
        for line in run.text.splitlines():
            match = _SERVICE_LINE.match(line)
            if match is None:
                continue
            who, what = match["who"], match["what"]
            if "." not in who:
                builds.setdefault(who, []).append(what)
            if what.startswith("Instance is responsive ("):
                self.instances.append(f"{who} ({what.split('(', 1)[1].split(',')[0]})")
            elif what.endswith("service kept as it is (data services are not rebuilt)"):
                self.data_services.append(f"{who}: kept")
            elif what.startswith("Creating the "):
                self.data_services.append(f"{who}: created")
        for raw in run.out.splitlines():
            down = re.search(r"~/data: the service was down for ([\d.]+) s", raw)
            if down:
                self.downtime = float(down[1])
        self.builds = tuple(
            _build(service, steps)
            for service, steps in builds.items()
            if any(s.startswith("Build started") for s in steps)
        )
        failed = self._find(r"Router: (\d+) failed request")
        self.router_failed = int(failed) if failed else None
        self.error = ""
        self.explained_by: list[str] = []
        for line in run.text.splitlines():
            if line.startswith("dotkit: error: ") and not self.error:
                self.error = line.removeprefix("dotkit: error: ")
            found = re.match(r"^\s+(\S+:\d+:\d+): \[([\w-]+)\]", line)
            if found:
                self.explained_by.append(f"{found[2]} at {found[1]}")

    def _find(self, pattern: str) -> str:
        for line in self.log:
            match = re.search(pattern, line)
            if match:
                return match[1]
        return ""

    def lines(self, *needles: str) -> list[str]:
        """The stable log lines that contain any of ``needles``."""
        return [line for line in self.log if any(needle in line for needle in needles)]

    def show(self, *needles: str) -> None:
        for line in self.lines(*needles):
            print(line)

    def build(self, service: str) -> Build:
        for build in self.builds:
            if build.service == service:
                return build
        raise KeyError(service)

    @property
    def outcome(self) -> str:
        return "deployed" if self.ok else "failed"

    def table(self) -> Table:
        title = (
            f"push {self.deployment} ({self.revision} revision): {self.outcome}"
            if self.deployment
            else f"push: {self.outcome} before any deployment was scheduled"
        )
        notes = []
        if self.data_services:
            notes.append("data services: " + ", ".join(self.data_services))
        if self.router_failed is not None:
            notes.append(f"router: {self.router_failed} failed request(s) while switching")
        if self.error:
            notes.append(f"error: {self.error}")
        notes += [f"verify: {finding}" for finding in self.explained_by]
        if notes:
            title += "".join(f"\n  {note}" for note in notes)
        return Table(
            ["service", "build cache", "npm install", "hooks", "instances"],
            [
                (
                    b.service,
                    b.cache,
                    b.npm,
                    ", ".join(b.hooks) or "-",
                    ", ".join(i for i in self.instances if i.startswith(b.service + ".")) or "-",
                )
                for b in self.builds
            ],
            title=title,
        )


def _build(service: str, steps: list[str]) -> Build:
    cache = "rebuilt"
    for step in steps:
        if step.startswith("Build cache: no previous build"):
            cache = "first build"
        elif step.startswith("Build cache: clean build requested"):
            cache = "--clean"
        elif step.startswith("Build cache: restoring"):
            cache = "restored"
    npm = "-"
    if any(s.startswith("Running npm install") for s in steps):
        npm = "ran"
    elif any(s.startswith("npm install skipped") for s in steps):
        npm = "skipped"
    hooks = tuple(
        name
        for name in ("prebuild", "postbuild")
        if any(s.startswith(f"Running {name}:") for s in steps)
    )
    return Build(service, cache, npm, hooks)


class Traffic:
    """Requests sent one after another from a thread, while the notebook does something else.

    Use it as a context manager around a push; afterwards it holds how many requests
    were answered, how many failed (an error or no answer within ``timeout``), and the
    longest stretch of time without a successful answer.
    """

    def __init__(self, url: str, *, timeout: float = 0.5, limit: float = 60.0) -> None:
        self.url, self.timeout, self.limit = url, timeout, limit
        self.answered = self.failed = 0
        self.longest_gap = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        start = last_ok = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - start < self.limit:
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                    response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):  # refused, reset, timed out, cut
                ok = False
            now = time.monotonic()
            if ok:
                self.answered += 1
                self.longest_gap = max(self.longest_gap, now - last_ok)
                last_ok = now
            else:
                self.failed += 1
        self.longest_gap = max(self.longest_gap, time.monotonic() - last_ok)

    def __enter__(self) -> "Traffic":
        self._thread.start()
        time.sleep(0.3)  # some answers before whatever comes next
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # and some after
        self._stop.set()
        self._thread.join()

    def __repr__(self) -> str:
        return f"<Traffic to {stable(self.url)}: {self.answered} answered, {self.failed} failed>"


class Cleanup(NamedTuple):
    """What :meth:`Sandbox.close` did."""

    destroyed: tuple[str, ...]
    platform_running: bool
    leftovers: tuple[str, ...]
    removed: bool

    def __repr__(self) -> str:
        return "\n".join(
            [
                f"applications destroyed: {', '.join(self.destroyed) or 'none'}",
                f"platform process still running: {yes(self.platform_running)}",
                f"processes left behind: {len(self.leftovers)}",
                f"temporary DOTKIT_HOME removed: {yes(self.removed)}",
            ]
        )

    def __str__(self) -> str:
        return repr(self)


class Diagnosis(Shown):
    """A support ticket's findings, each marked with whether the sandbox push showed it."""

    def __init__(self, findings: Findings, push: PushSummary) -> None:
        self.findings = findings
        self.push = push

    def reproduced(self, finding: Finding) -> bool:
        return any(item.startswith(f"{finding.rule} at ") for item in self.push.explained_by)

    def table(self) -> Table:
        reason = self.push.error.removeprefix("the push failed: ").split(":", 1)[0]
        outcome = "the push went through" if self.push.ok else f"the push failed ({reason})"
        wanted = [f for f in self.findings if f.severity in ("error", "warning")]
        return Table(
            ["rule", "where", "severity", "shown by the push", "what the customer sees", "fix"],
            [
                (
                    f.rule,
                    f.location,
                    f.severity,
                    yes(self.reproduced(f)),
                    f.message,
                    f.fix,
                )
                for f in wanted
            ],
            title=f"diagnosis: {outcome}; {len(wanted)} problem(s) in the code",
            text_columns=(0, 1, 2, 3),
        )


# --- Files -------------------------------------------------------------------------------------


def tree(root: Path, *, new: Iterable[str] = (), skip: Iterable[str] = ()) -> str:
    """``root`` drawn as the porting guide draws an app; files in ``new`` are marked."""
    marked, skipped = set(new), {".git", "node_modules", ".dotcloud", *skip}

    def walk(folder: Path, prefix: str) -> list[str]:
        entries = sorted(
            (p for p in folder.iterdir() if p.name not in skipped),
            key=lambda p: p.name.lstrip(".").lower(),
        )
        lines = []
        for index, entry in enumerate(entries):
            last = index == len(entries) - 1
            rel = entry.relative_to(root).as_posix()
            mark = "   <- new" if rel in marked else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{entry.name}{mark}")
            if entry.is_dir() and not entry.is_symlink():
                lines += walk(entry, prefix + ("    " if last else "│   "))
        return lines

    return "\n".join([f"{root.name}/", *walk(root, "")])


def listing(path: Path, *, first: int = 1, last: int | None = None) -> str:
    """A text file with line numbers; a tab shows as ``→   `` so it can be seen."""
    lines = path.read_text(encoding="utf-8").splitlines()
    end = len(lines) if last is None else last
    return "\n".join(
        f"{n:>3} | {line.replace(chr(9), '→   ')}".rstrip()
        for n, line in enumerate(lines, start=1)
        if first <= n <= end
    )


# --- The sandbox -------------------------------------------------------------------------------


def _layout_runtime(home: Path) -> Path:
    from kit.sandbox.layout import Layout

    return Layout(home).runtime


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1]
    except OSError:
        return False
    return state != "Z"


def _platform_pid(home: Path) -> int | None:
    try:
        pid = int((home / "platform" / "platform.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if b"kit.sandbox.daemon" in cmdline and _alive(pid) else None


def processes_of(home: Path) -> tuple[str, ...]:
    """Every process that belongs to the sandbox at ``home`` (by its environment or argv)."""
    marks = (str(home), str(_layout_runtime(home)))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(m in cmdline for m in marks) or f"DOTKIT_HOME={home}\0".encode() in environ:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return tuple(found)


def clean_up(root: Path) -> tuple[tuple[str, ...], bool]:
    """Destroy every app of the sandbox in ``root``, stop its platform process, remove it.

    Returns the apps destroyed and whether the platform process was still running
    afterwards. Safe to call twice, and from another process (the watchdog).
    """
    home = root / "home"
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    apps = home / "apps"
    destroyed = sorted(p.name for p in apps.iterdir() if p.is_dir()) if apps.is_dir() else []
    # Stopping an app's containers takes a few seconds; stop all the apps at once.
    destroying = [
        subprocess.Popen(
            [sys.executable, "-m", "kit", "-y", "-A", app, "destroy"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for app in destroyed
    ]
    for child in destroying:
        try:
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    pid = _platform_pid(home)
    if pid is not None:  # it exits by itself once nothing runs; do not wait for that
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    running = _platform_pid(home) is not None
    shutil.rmtree(_layout_runtime(home), ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    return tuple(destroyed), running


def _finalize(
    root: Path, watchdog: "subprocess.Popen[bytes] | None"
) -> tuple[tuple[str, ...], bool]:
    result = clean_up(root)
    if watchdog is not None:
        if watchdog.stdin is not None:
            watchdog.stdin.close()  # the watchdog wakes up, finds nothing left, and exits
        try:
            watchdog.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()
    return result


def _start_watchdog(root: Path) -> "subprocess.Popen[bytes] | None":
    """A process that cleans up ``root`` once this one is gone, however it ends.

    It waits for the end of its standard input: only this process holds the other
    end of that pipe, and the system closes it when this process exits, even when
    it is killed. It runs in a session of its own so that killing the kernel's
    process group (as jupyter_client does) does not kill it too.
    """
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "kit.notebook", "--watch", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,
        )
    except OSError:
        return None


class Sandbox:
    """A private ``$DOTKIT_HOME`` in a temporary folder, and ``dotkit`` run against it.

    Every command is a real subprocess (``python -m kit``), as a user would type it.
    :meth:`close` destroys the apps, stops the platform process and removes the
    folder; it also happens on garbage collection, at interpreter exit, and, through
    a watchdog process, when the kernel is killed.
    """

    def __init__(self, label: str = "notebook") -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"dotkit-nb-{label}-"))
        self.home = self.root / "home"
        self.work = self.root / "work"
        self.work.mkdir()
        self.env = {
            **os.environ,
            "DOTKIT_HOME": str(self.home),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "COLUMNS": "100",
        }
        self._watchdog = _start_watchdog(self.root)
        self._finalizer = weakref.finalize(self, _finalize, self.root, self._watchdog)
        # A finalizer also runs at interpreter exit (weakref.finalize's own atexit hook),
        # so a kernel that shuts down normally cleans up even if close() never ran.
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Sandbox: a temporary DOTKIT_HOME, {state}, watchdog {yes(self.watched)}>"

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def watched(self) -> bool:
        return self._watchdog is not None and self._watchdog.poll() is None

    @property
    def hidden(self) -> tuple[Path, ...]:
        return (self.root, self.root.resolve(), _layout_runtime(self.home))

    def stable(self, text: str) -> str:
        return stable(text, *self.hidden)

    def dotkit(
        self, *args: str | Path, cwd: Path | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> Run:
        """Run ``dotkit ARGS`` (as ``python -m kit``) in ``cwd``, and wait for it."""
        argv = [str(a) for a in args]
        done = proc.run(
            [sys.executable, "-m", "kit", *argv],
            cwd=cwd or self.work,
            env=self.env,
            check=False,
            timeout=timeout,
        )
        return Run(("dotkit", *argv), done.returncode, done.stdout, done.stderr, self.hidden)

    def git(self, folder: Path, *args: str) -> Run:
        """``git ARGS`` in ``folder``, as a fixed author at a fixed date, so commits repeat."""
        env = {
            **self.env,
            "GIT_AUTHOR_NAME": "Notebook",
            "GIT_AUTHOR_EMAIL": "notebook@example.com",
            "GIT_COMMITTER_NAME": "Notebook",
            "GIT_COMMITTER_EMAIL": "notebook@example.com",
            "GIT_AUTHOR_DATE": "2013-04-25T12:00:00Z",
            "GIT_COMMITTER_DATE": "2013-04-25T12:00:00Z",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        argv = ["git", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", *args]
        done = proc.run(argv, cwd=folder, env=env, check=False, timeout=60)
        return Run(("git", *args), done.returncode, done.stdout, done.stderr, self.hidden)

    def sample(self, name: str, as_name: str | None = None) -> Path:
        """A copy of ``sample_apps/NAME`` in the sandbox's work folder."""
        source = SAMPLES / name
        if not source.is_dir():
            raise FileNotFoundError(f"no sample app {name!r} in {SAMPLES}")
        dest = self.work / (as_name or name)
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("node_modules"))
        return dest

    def convert(self, source: str | Path, name: str, *flags: str) -> Migration:
        """``dotkit convert SOURCE -o WORK/NAME FLAGS --format json``, as a report.

        ``source`` is a sample app's name or a folder.
        """
        folder = SAMPLES / source if isinstance(source, str) else source
        out = self.work / name
        run = self.dotkit("convert", folder, "-o", out, "--format", "json", *flags)
        if run.code not in (0, 1):
            raise RuntimeError(f"{run!r} failed:\n{run.text}")
        return Migration(json.loads(hide_paths(run.out, *self.hidden)), folder.name, out)

    def verify(self, folder: Path, *flags: str) -> Findings:
        """``dotkit verify FOLDER --format json``, as findings."""
        run = self.dotkit("verify", folder, "--format", "json", *flags)
        if run.code not in (0, 1):
            raise RuntimeError(f"{run!r} failed:\n{run.text}")
        findings = json.loads(hide_paths(run.out, *self.hidden))["findings"]
        return Findings.from_json(findings, f"verify {folder.name}")

    def create(self, name: str, folder: Path, *flags: str) -> "App":
        """``dotkit create NAME`` in ``folder``, which it connects to the new app."""
        run = self.dotkit("create", name, *flags, cwd=folder)
        if not run.ok:
            raise RuntimeError(f"{run!r} failed:\n{run.text}")
        return App(self, name, folder, run)

    def close(self) -> Cleanup:
        """Destroy every app, stop the platform process, remove the temporary folder."""
        destroyed, running = self._finalizer() or ((), False)
        self.closed = True
        return Cleanup(destroyed, running, processes_of(self.home), not self.root.exists())


class App:
    """An application of a :class:`Sandbox`, and the folder connected to it."""

    def __init__(self, box: Sandbox, name: str, folder: Path, created: Run) -> None:
        self.box, self.name, self.folder, self.created = box, name, folder, created

    def __repr__(self) -> str:
        return f"<App {self.name}>"

    def dotkit(self, *args: str | Path, timeout: float = COMMAND_TIMEOUT) -> Run:
        return self.box.dotkit(*args, cwd=self.folder, timeout=timeout)

    def push(self, *flags: str) -> PushSummary:
        started = time.monotonic()
        run = self.dotkit("push", *flags)
        return PushSummary(run, time.monotonic() - started)

    def push_unwatched(self) -> "subprocess.Popen[bytes]":
        """Start a push whose log nobody reads; return once its deployment is listed."""
        before = len(self.dotkit("dlist").out.splitlines())
        pusher = subprocess.Popen(
            [sys.executable, "-m", "kit", "push"],
            cwd=self.folder,
            env=self.box.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pusher.poll() is None:
            if len(self.dotkit("dlist").out.splitlines()) > before:
                break
            time.sleep(0.05)
        return pusher

    def urls(self) -> dict[str, str]:
        run = self.dotkit("url")
        return dict(line.split(": ", 1) for line in run.out.splitlines() if ": " in line)

    def get(
        self,
        service: str,
        path: str = "/",
        *,
        method: str = "GET",
        body: bytes | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        url = self.urls()[service].rstrip("/") + path
        request = urllib.request.Request(url, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode())

    def traffic(self, service: str, path: str = "/") -> Traffic:
        return Traffic(self.urls()[service].rstrip("/") + path)

    def run(self, target: str, *command: str) -> Run:
        """``dotkit run TARGET -- COMMAND``: a command inside a service's container."""
        return self.dotkit("run", target, "--", *command)

    def exists(self, target: str, path: str) -> bool:
        return self.run(target, "test", "-e", path).ok

    def instances(self, service: str) -> list[str]:
        """The containers of ``service``, as ``info`` names them (``gear1.0-d2``)."""
        info = self.dotkit("info", service).out
        return re.findall(r"^--- instance (\S+)", info, re.MULTILINE)

    def program(self, service: str, program: str = "node") -> tuple[str, int | None]:
        """The state and process id of a supervisord program in ``service`` (instance 0)."""
        status = self.dotkit("status", service).out
        match = re.search(rf"^\s+{re.escape(program)}\s+(\w+)(?:\s+pid (\d+))?", status, re.M)
        if match is None:
            return "?", None
        return match[1], int(match[2]) if match[2] else None

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


def _watch(root: str) -> int:
    """The watchdog's body: wait for the notebook's kernel to go, then clean up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    if Path(root).exists():
        clean_up(Path(root))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--watch":
        sys.exit(_watch(sys.argv[2]))
    sys.exit("usage: python -m kit.notebook --watch FOLDER")
