"""``dotkit repro``, step by step: take the customer's app, reproduce it, write the bundle.

1. Read the request: the folder or archive, the ticket, the customer's env file.
2. Unpack an archive (into a staging folder: a refused archive changes nothing).
3. Replace any earlier reproduction of the ticket with a fresh sandbox app.
4. Convert a nodeSocket app, without ``--fix``: support must see the customer's code.
5. Verify, push, probe, collect; a failed conversion or push is an outcome, not a crash.
6. Write the bundle, every text through the one masking function.

Secrets are learnt before anything about the app is printed, and every line
for the terminal goes through the same masking function as the bundle.
"""

import contextlib
import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from kit.convert.app import Conversion
from kit.errors import InputError, KitError, OperationFailed, UsageError
from kit.findings import Finding
from kit.platform.facts import UPLOAD_IGNORE_FILES
from kit.platform.model import Service
from kit.repro.archive import DEFAULT_LIMITS, SUFFIXES, Limits, is_archive, unpack
from kit.repro.bundle import LAYOUTS
from kit.repro.masking import Masker
from kit.repro.model import Probe, Repro
from kit.repro.source import Kind, app_name, find_app, read_env_file, ticket_id
from kit.sandbox.layout import Layout

Echo = Callable[[str], None]


class Request(NamedTuple):
    """What the command line asked for."""

    source: Path
    ticket: str | None = None
    env_file: Path | None = None
    output: Path | None = None
    ready_timeout: float = 60.0
    build_timeout: float = 15 * 60.0
    limits: Limits = DEFAULT_LIMITS


class Outcome(NamedTuple):
    repro: Repro
    bundle: Path
    masker: Masker


class _Converted(NamedTuple):
    conversion: Conversion | None
    problem: str
    findings: tuple[Finding, ...]


@contextlib.contextmanager
def masked_errors(masker: Masker) -> Iterator[None]:
    """An error that escapes carries no secret either."""
    try:
        yield
    except KitError as exc:
        exc.args = (masker.text(str(exc)),)
        raise


def bundle_path(output: Path | None, ticket: str) -> Path:
    name = f"repro-{ticket}.zip"
    path = Path.cwd() / name if output is None else output
    if path.is_dir():
        path = path / name
    if not path.parent.is_dir():
        raise UsageError(f"the folder {path.parent} for the bundle does not exist")
    return path.absolute()


def reproduce(request: Request, echo: Echo) -> Outcome:
    """Run a whole reproduction; raise only for bad input (a :class:`UsageError` or an
    :class:`InputError`, nothing changed) or when the bundle cannot be written."""
    from kit.paths import dotkit_home

    source = request.source
    if source.is_dir():
        archive = False
    elif source.is_file() and is_archive(source):
        archive = True
    elif not source.exists():
        raise UsageError(f"{source} does not exist")
    else:
        raise UsageError(f"{source} is neither a folder nor an archive ({', '.join(SUFFIXES)})")
    ticket = ticket_id(request.ticket, source)
    name = app_name(ticket)
    env = read_env_file(request.env_file) if request.env_file is not None else {}
    bundle = bundle_path(request.output, ticket)
    masker = Masker()
    masker.add_env(env, all_secret=True)

    def say(line: str) -> None:
        echo(masker.text(line))

    layout = Layout(dotkit_home())
    started = time.time()
    staging: Path | None = None
    if archive:
        layout.home.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".repro-{name}-", dir=layout.home))
    try:
        if staging is not None:
            say(f"==> Unpacking {source.name}")
            unpack(source, staging / "source", request.limits)
            root, kind = find_app(staging / "source", source.name)
        else:
            root, kind = find_app(source, str(source))
        _learn_sources(masker, root, kind)
        with masked_errors(masker):
            shown = LAYOUTS[kind]
            say(f"==> Ticket {ticket}: {source} ({shown} layout) -> sandbox application {name}")
            root = _fresh_app(layout, name, root, staging, say)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    with masked_errors(masker):
        repro = _run(request, layout, ticket, name, root, kind, env, masker, say, started)
        _write(repro, bundle, masker)
    return Outcome(repro, bundle, masker)


def _learn_sources(masker: Masker, root: Path, kind: Kind) -> None:
    """Secrets written in the customer's files, even in files that do not parse."""
    paths = [root / "dotcloud.yml"]
    if kind == "nodesocket":
        paths = [root / ".torque", *sorted(root.glob("*/.torque"))]
    for path in paths:
        if path.is_file() and not path.is_symlink():
            masker.add_text(path.read_text(encoding="utf-8", errors="replace"))


def _fresh_app(layout: Layout, name: str, root: Path, staging: Path | None, say: Echo) -> Path:
    """Create the ticket's app (replacing an earlier one); an unpacked archive moves into
    it, so destroying the app removes everything. Returns where the app now is."""
    from kit.sandbox.state import create_app

    app = layout.app(name)
    if staging is None and root.resolve().is_relative_to(app.root.resolve()):
        raise UsageError(
            f"{root} is inside the reproduction {name} it would replace; copy it elsewhere "
            "first, or give another --ticket"
        )
    if app.meta.is_file():
        say(f"==> Replacing the earlier reproduction {name}")
    if app.root.exists():
        from kit.sandbox.destroy import destroy_app

        destroy_app(layout, name, stop_idle_platform=False)
    create_app(layout, name)
    if staging is None:
        return root
    work = app.root / "repro"
    work.mkdir(parents=True)
    unpacked = staging / "source"
    unpacked.rename(work / "source")
    return work / "source" / root.relative_to(unpacked)


def _convert(root: Path, out: Path, label: str) -> _Converted:
    from kit.appfs import list_app_files, write_tree
    from kit.convert.app import Options, convert_app
    from kit.convert.gears import gear_inputs

    files = list_app_files(root, exclude=out)
    try:
        conversion = convert_app(
            gear_inputs(root, files),
            Options(fix=False, source_name=root.resolve().name),
            root_label=label,
        )
    except InputError as exc:
        from kit.findings import render_findings_text

        problem = f"{exc}\n{render_findings_text(exc.findings)}"
        return _Converted(None, problem, exc.findings)
    removed = set(conversion.removed)
    write_tree(root, out, [f for f in files if f not in removed], conversion.files, force=False)
    return _Converted(conversion, "", ())


def _run(
    request: Request,
    layout: Layout,
    ticket: str,
    name: str,
    root: Path,
    kind: Kind,
    env: dict[str, str],
    masker: Masker,
    say: Echo,
    started: float,
) -> Repro:
    from kit.appfs import list_app_files
    from kit.convert.report import render_json, render_text
    from kit.repro import collect, verdict
    from kit.repro.probes import probe_app
    from kit.sandbox.state import load_app, save_app
    from kit.verify.buildfile import check_build_file
    from kit.verify.runner import verify_app

    label = str(request.source)
    push_root, stage, problem = root, "", ""
    findings: tuple[Finding, ...] = ()
    migration_json = migration_text = ""
    if kind == "nodesocket":
        push_root = layout.app(name).root / "repro" / "app"
        say(f"==> Converting to a dotCloud app in {push_root} (no --fix: the customer's code)")
        converted = _convert(root, push_root, label)
        if converted.conversion is None:
            stage, problem, findings = "convert", converted.problem, converted.findings
        else:
            conversion = converted.conversion
            for secret in conversion.secrets:
                masker.add_secret(secret)
            migration_json = render_json(
                conversion, source=label, output=str(push_root), written=True
            )
            migration_text = render_text(
                conversion, source=label, outcome=f"Wrote the dotCloud app to {push_root}."
            )
    services: tuple[Service, ...] = ()
    if stage != "convert":
        _learn_sources(masker, push_root, "dotcloud")
        files = list_app_files(push_root, ignore_files=UPLOAD_IGNORE_FILES)
        services, _ = check_build_file(push_root, files)
        for svc in services:
            masker.add_env(svc.environment)
        say("==> Verifying")
        findings = tuple(verify_app(push_root))
        errors = sum(f.severity == "error" for f in findings)
        say(f"    {errors} error(s), {len(findings) - errors} warning(s) and note(s)")
        save_app(layout, dataclasses.replace(load_app(layout, name), env=dict(env)))
        problem = _push(request, layout, name, push_root, say)
        stage = "push" if problem else ""
    app = layout.app(name)
    app_record = load_app(layout, name)
    for password in app_record.passwords.values():
        masker.add_value(password)
    record, deploy_log = collect.last_deployment(app)
    environments = collect.environments(layout, name, services, app_record)
    for inst in environments:
        masker.add_env(inst.env)
    probes: list[Probe] = []
    if stage != "convert":
        say("==> Probing every service")
        probes = probe_app(layout, name, services)
    if not stage:
        stage = "probe" if any(not p.ok for p in probes) else "done"
    text, ok = verdict.judge(stage=stage, problem=problem, findings=findings, probes=probes)
    explaining, _ = verdict.explaining(stage, problem, findings)
    return Repro(
        ticket=ticket,
        app=name,
        source=label,
        layout=kind,
        pushed_from=str(push_root),
        started=started,
        finished=time.time(),
        stage=stage,
        verdict=text,
        ok=ok,
        deployed=record.get("status") == "deployed",
        problem=problem,
        findings=findings,
        explaining=explaining,
        migration_json=migration_json,
        migration_text=migration_text,
        deployment=record,
        deployment_log=deploy_log,
        build_log=collect.build_part(deploy_log),
        logs=tuple(collect.log_tails(app)),
        environments=tuple(i._replace(env=masker.env(i.env)) for i in environments),
        versions=collect.versions(),
        probes=tuple(probes),
    )


def _push(request: Request, layout: Layout, name: str, root: Path, say: Echo) -> str:
    """Push; a failure is an outcome: "" or the failure's message."""
    from kit.sandbox.push import push

    say(f"==> Pushing {root} to the sandbox application {name}")
    try:
        push(
            layout,
            name,
            root,
            echo=say,
            ready_timeout=request.ready_timeout,
            build_timeout=request.build_timeout,
        )
    except OperationFailed as exc:
        return str(exc)
    return ""


def _write(repro: Repro, bundle: Path, masker: Masker) -> None:
    from kit.repro.bundle import render, write_bundle

    write_bundle(bundle, f"repro-{repro.ticket}", render(repro), masker.text)
