"""Step 2: the platform reads ``dotcloud.yml`` and decides what it can deploy.

The build file is checked by the verifier's own rules (an error stops the push
before anything is built), every service must be of a type this sandbox runs, and
the app record gets what the new services need before they start: a port for each
TCP port and a password for each data service. Both are kept across pushes.
"""

from __future__ import annotations

from collections.abc import Sequence

from kit.findings import Finding
from kit.platform.facts import MAX_INSTANCES
from kit.platform.model import App
from kit.sandbox import dataservices, envfile
from kit.sandbox.push.context import Context, Plan, PushFailed
from kit.sandbox.push.upload import Uploaded
from kit.sandbox.records import AppRecord
from kit.sandbox.state import save_app

SUPPORTED = frozenset({"nodejs"})  # the code services this sandbox can build and run


def findings_text(findings: Sequence[Finding]) -> str:
    return "\n".join(f"  {f.location}: [{f.rule}] {f.message}\n    fix: {f.fix}" for f in findings)


def read_app(uploaded: Uploaded, backend: str = "bwrap") -> App:
    """The revision's services, as the platform read them; :class:`PushFailed` if it cannot."""
    from kit.verify.buildfile import check_build_file

    services, findings = check_build_file(uploaded.root, list(uploaded.files))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise PushFailed("dotcloud.yml has errors:\n" + findings_text(errors))
    for svc in services:
        if svc.is_code and svc.type not in SUPPORTED:
            raise PushFailed(
                f"service {svc.name!r} is of type {svc.type!r}; this sandbox runs nodejs services"
            )
        if not svc.is_code and (problem := dataservices.problem(svc.type, backend=backend)):
            raise PushFailed(f"service {svc.name!r} ({svc.type}): {problem}")
        if any(
            "\n" in line or "\r" in line for line in (svc.process or "", *svc.processes.values())
        ):
            raise PushFailed(
                f"service {svc.name!r}: a process command spans several lines; supervisord "
                "runs one line per program (join them with &&, or use a script)"
            )
    return App(uploaded.root, uploaded.files, services)


def check_instances(app: App, record: AppRecord) -> None:
    """Refuse more instances of a service than the sandbox runs."""
    for svc in app.code_services:
        count = record.instances(svc)
        if count > MAX_INSTANCES:
            where = "dotkit scale" if record.scale.get(svc.name) else "instances: in dotcloud.yml"
            raise PushFailed(
                f"service {svc.name!r} asks for {count} instances ({where}); the sandbox "
                f"runs at most {MAX_INSTANCES} instances of a service on this machine"
            )


def plan(ctx: Context, record: AppRecord, app: App, revision: str) -> Plan:
    """Ports and passwords for the new services, saved before anything starts: the
    number each TCP port binds, and a public number for each instance of it."""
    check_instances(app, record)
    keys = [f"{s.name}.{p}" for s in app.services for p in s.port_names]
    stores = [s.name for s in app.data_services]
    counts = {s.name: record.instances(s) for s in app.code_services}
    record = (
        record.with_tcp_ports(keys)
        .with_public_ports(envfile.public_keys(app.services, counts), ctx.seams.free_port)
        .with_passwords(stores, ctx.seams.password)
    )
    save_app(ctx.layout, record)
    return Plan(app, revision, record)
