"""The shell around :func:`kit.export.app.export_app`: read the app, export, write, build."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import click

from kit.appfs import list_app_files, write_tree
from kit.engine.docker import Engine, build_image, default_engine, image_exists
from kit.engine.image import platform_image
from kit.errors import InputError, OperationFailed, UsageError
from kit.export.app import Export, export_app, secret_files
from kit.export.common import SECRETS_FOLDER
from kit.export.plan import Image, Options, Plan, app_name
from kit.export.report import render_json, render_text
from kit.files import OutFile
from kit.platform.facts import UPLOAD_IGNORE_FILES
from kit.platform.model import Service

MARKER = ".dotkit-export"
_MAX_SECRET = 4096
_NEXT = {
    "compose": "Next: cd {out} && docker-compose -p {app} --compatibility up -d --build",
    "swarm": "Next: cd {out} && ./build-images.sh && docker stack deploy -c stack.yml {app}",
    "kubernetes": "Next: load the images into the cluster, then kubectl apply -k {out}",
}


def read_app(src: Path, work: Path) -> tuple[Path, Sequence[Service]]:
    """The dotCloud app at ``src`` (a nodeSocket app is converted into ``work`` first)."""
    from kit.repro.source import detect_layout
    from kit.verify.buildfile import check_build_file

    kind = detect_layout(src)
    if kind is None:
        raise UsageError(f"{src} holds neither a dotcloud.yml nor a nodeSocket app's .torque")
    root = src
    if kind == "nodesocket":
        root = work / "converted"
        _convert(src, root)
    files = list_app_files(root, ignore_files=UPLOAD_IGNORE_FILES)
    services, findings = check_build_file(root, files)
    errors = [f for f in findings if f.severity == "error"]
    if errors or not services:
        raise InputError("dotcloud.yml cannot be exported as it is", errors)
    return root, services


def _convert(src: Path, dest: Path) -> None:
    from kit.convert.app import Options as ConvertOptions
    from kit.convert.app import convert_app
    from kit.convert.gears import gear_inputs
    from kit.platform.facts import BUILD_FILE, CONVERT_NODE_VERSION

    files = list_app_files(src)
    conversion = convert_app(
        gear_inputs(src, files),
        ConvertOptions(node_version=CONVERT_NODE_VERSION, fix=True, source_name=src.name),
        root_label=str(src),
        root_has_build_file=BUILD_FILE in files,
    )
    removed = set(conversion.removed)
    write_tree(src, dest, [f for f in files if f not in removed], conversion.files, force=False)


def app_files(root: Path) -> list[OutFile]:
    """The code as a push uploads it; links are left out (an image gets no links out of it)."""
    out = []
    for rel in list_app_files(root, ignore_files=UPLOAD_IGNORE_FILES):
        path = root / rel
        if path.is_symlink() or not path.is_file():
            continue
        mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
        out.append(OutFile(rel, path.read_bytes(), mode))
    return out


def known_secrets(out: Path) -> dict[str, str]:
    """Passwords of an earlier export in ``out``, so its data stays readable."""
    found: dict[str, str] = {}
    folder = out / SECRETS_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return found
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink() and entry.stat().st_size <= _MAX_SECRET:
            found[entry.name] = entry.read_text(encoding="utf-8", errors="replace").strip()
    return found


def check_output(out: Path, force: bool) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"{out} exists and is not a folder; choose another -o")
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise UsageError(f"{out} is not empty and holds no earlier export; choose another -o")
        if not force:
            raise UsageError(f"{out} holds an earlier export; add --force to replace it")


def write_export(out: Path, export: Export) -> None:
    """Write every file at once: built beside ``out``, then renamed into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for item in [*export.files, OutFile(MARKER, b"dotkit export\n"), *secret_files(export)]:
            target = staging / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, item.mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(item.content)
            target.chmod(item.mode)
        (staging / SECRETS_FOLDER).mkdir(exist_ok=True)
        (staging / SECRETS_FOLDER).chmod(0o700)
        staging.chmod(0o755)
        old = out.with_name(f".{out.name}.{time.monotonic_ns()}.old")
        if out.exists():
            out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OperationFailed(f"could not write {out}: {exc}") from None


def image_build_command(plan: Plan, node_mode: str) -> str:
    """The ``dotkit image build`` that makes every platform image ``plan`` runs on."""
    argv = ["dotkit", "image", "build"]
    if node_mode != "platform":
        argv += ["--node-version", node_mode]
    if plan.needs_sql_image:
        argv.append("--sql")
    return " ".join(argv)


def missing_images(engine: Engine, plan: Plan) -> list[str]:
    image = plan.options.image
    wanted = [image.runtime, image.build, *([image.sql] if plan.needs_sql_image else [])]
    return [ref for ref in wanted if not image_exists(engine, ref)]


def build_images(engine: Engine, out: Path, export: Export, node_mode: str) -> None:
    missing = missing_images(engine, export.plan)
    if missing:
        raise OperationFailed(
            f"the engine lacks the platform image {', '.join(missing)}; build it first "
            f"with `{image_build_command(export.plan, node_mode)}`"
        )
    for build in export.builds:
        click.echo(f"==> docker build {build.ref}", err=True)
        build_image(engine, out, build.dockerfile, build.ref)


def run_export(
    src: Path,
    out: Path,
    *,
    target: str,
    name: str | None,
    node_mode: str,
    port_base: int,
    domain: str,
    force: bool,
    build: bool,
    fmt: str,
) -> int:
    if not src.is_dir():
        raise UsageError(f"{src} is not a folder; give the app's root folder")
    check_output(out, force)
    with tempfile.TemporaryDirectory(prefix="dotkit-export-") as work:
        root, services = read_app(src, Path(work))
        files = app_files(root)
    found = platform_image(node_mode)
    options = Options(
        app=app_name(name or src.resolve().name),
        target=target,
        image=Image(found.runtime, found.build, found.branches, found.sql),
        port_base=port_base,
        domain=domain,
    )
    export = export_app(
        services,
        files,
        options,
        known_secrets=known_secrets(out),
        new_secret=lambda: secrets.token_urlsafe(24),
    )
    write_export(out, export)
    if build:
        build_images(default_engine(), out, export, node_mode)
    if fmt == "json":
        click.echo(render_json(list(export.report), target=target, output=str(out)), nl=False)
    else:
        steps = _NEXT[target].format(out=out, app=options.app)
        if export.plan.needs_sql_image:
            steps = (
                f"The mysql and postgresql services run on {options.image.sql}: "
                f"`{image_build_command(export.plan, node_mode)}` makes it.\n{steps}"
            )
        text = render_text(list(export.report), target=target, output=str(out), next_steps=steps)
        click.echo(text, nl=False)
    return 0
