"""The export of one app to one target: its files, its images and its report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from kit.export import compose, contexts, kubernetes, swarm
from kit.export.common import SECRETS_FOLDER
from kit.export.contexts import APP_DIR
from kit.export.plan import Options, Plan, make_plan
from kit.export.report import Row, rows
from kit.files import OutFile
from kit.platform.model import Service

SECRET_MODE = 0o600


class Build(NamedTuple):
    """One image to build: its reference and its Dockerfile, relative to the export folder."""

    ref: str
    dockerfile: str


class Export(NamedTuple):
    plan: Plan
    files: tuple[OutFile, ...]  # everything but the secrets
    secrets: Mapping[str, str]  # secret name -> value, written 0600 in a 0700 folder
    builds: tuple[Build, ...]
    report: tuple[Row, ...]


def export_app(
    services: Sequence[Service],
    app_files: Sequence[OutFile],
    options: Options,
    *,
    known_secrets: Mapping[str, str],
    new_secret: Callable[[], str],
) -> Export:
    """Lay out the app for ``options.target``.

    ``app_files``: the app's code as a push uploads it (paths relative to its
    root). ``known_secrets``: passwords of an earlier export, kept so data
    written with them stays readable; ``new_secret`` makes the others.
    """
    plan = make_plan(services, options)
    digest = contexts.code_digest(app_files)
    refs = {c.service.name: contexts.image_ref(plan, c, digest) for c in plan.code}
    files = [OutFile(f"{APP_DIR}/{f.path}", f.content, f.mode) for f in app_files]
    files += contexts.context_files(plan)
    files.append(contexts.build_script(plan, refs))
    if options.target == "compose":
        files.append(compose.render(plan, refs))
    elif options.target == "swarm":
        files.append(swarm.render(plan, refs))
    else:
        files += kubernetes.render(plan, refs)
    secrets = {name: known_secrets.get(name) or new_secret() for name in plan.secrets}
    builds = tuple(Build(refs[c.service.name], contexts.dockerfile_path(c)) for c in plan.code)
    return Export(plan, tuple(files), secrets, builds, tuple(rows(plan)))


def secret_files(export: Export) -> list[OutFile]:
    return [
        OutFile(f"{SECRETS_FOLDER}/{name}", value.encode(), SECRET_MODE)
        for name, value in sorted(export.secrets.items())
    ]
