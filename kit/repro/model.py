"""What a reproduction found, as values: the bundle and the terminal are rendered from them."""

from typing import Any, NamedTuple

from kit.findings import Finding


class Probe(NamedTuple):
    """One question asked of a running service."""

    service: str
    kind: str  # "http" or "tcp"
    target: str  # the URL, or SERVICE.PORT with its number
    ok: bool
    status: int | None  # the HTTP status, when there was one
    detail: str  # the body's first bytes, what a TCP service said, or why nothing answered
    seconds: float


class LogTail(NamedTuple):
    """The last lines of one log file of one instance."""

    instance: str  # "www.0"
    name: str  # "supervisord.log", "node.log"...
    text: str


class InstanceEnv(NamedTuple):
    """An instance's environment.json (not yet masked)."""

    instance: str
    env: dict[str, str]
    computed: bool  # the instance did not survive the push: computed as the push wrote it


class Repro(NamedTuple):
    """Everything one reproduction saw, before masking."""

    ticket: str
    app: str
    source: str  # as given on the command line
    layout: str  # "dotcloud" or "nodesocket"
    pushed_from: str  # the folder pushed: the converted copy for a nodeSocket app
    started: float
    finished: float
    stage: str  # "convert" or "push" (where it failed), "probe" (it answered), or "done"
    verdict: str
    ok: bool
    deployed: bool
    problem: str  # the failure's whole message (conversion or push); "" when none
    findings: tuple[Finding, ...]
    explaining: tuple[Finding, ...]  # the findings that explain the verdict, first
    migration_json: str  # "" when the app was a dotCloud app already
    migration_text: str
    deployment: dict[str, Any]
    deployment_log: str
    build_log: str
    logs: tuple[LogTail, ...]
    environments: tuple[InstanceEnv, ...]
    versions: dict[str, str]
    probes: tuple[Probe, ...]
