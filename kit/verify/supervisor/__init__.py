"""Checks of each nodejs service's ``supervisord.conf``.

The file is read with supervisor's own code: its ``UnhosedConfigParser`` for
the INI layer and ``ServerOptions.processes_from_section`` for each
``[program:x]``, so what passes here is what supervisord itself accepts.
configparser keeps no line numbers, so :func:`scan_layout` walks the raw text
the way configparser does and maps every section and key to its line.

Before supervisor sees the file, a validation copy is made host-independent:
``user`` (resolved against this machine's accounts) is dropped, log files become
``AUTO`` (supervisor checks that their folder exists *here*), ``numprocs`` is
capped (supervisor builds every process config up front), ``ENV_x`` names the
platform would know are filled in, and stray ``%`` signs are escaped once they
have been reported with their line and column.
"""

from kit.findings import Finding
from kit.platform.facts import SUPERVISORD_FILE
from kit.platform.model import Service
from kit.verify.model import Target, disk_of
from kit.verify.supervisor.command import approot_file, command_script, guess_script
from kit.verify.supervisor.conf import ConfCheck
from kit.verify.supervisor.layout import scan_layout
from kit.verify.supervisor.percent import bad_percents
from kit.verify.supervisor.rules import BOILERPLATE, MAX_BYTES, MISSING, RULES, SYNTAX

__all__ = ["RULES", "bad_percents", "check_supervisor", "command_script", "scan_layout"]


def check_supervisor(app: Target) -> list[Finding]:
    """Findings for the supervisord.conf of every nodejs service."""
    files = frozenset(app.files)
    findings: list[Finding] = []
    seen: set[str] = set()
    for service in app.services:
        if service.type != "nodejs" or not service.approot_ok or service.approot in seen:
            continue
        seen.add(service.approot)
        findings.extend(_check_service(app, files, service))
    return findings


def _check_service(app: Target, files: frozenset[str], service: Service) -> list[Finding]:
    path = approot_file(service.approot, SUPERVISORD_FILE)
    if path not in files:
        if service.process or service.processes:
            return []
        return [_missing(app, files, service, path)]
    try:
        size, data = disk_of(app).read_limited(path, MAX_BYTES)
        if data is None:
            return [_too_big(path, size)]
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc}"
        return [SYNTAX.finding(path, None, None, message, "make it a readable file")]
    return ConfCheck(app, files, service, path).run(data)


def _missing(app: Target, files: frozenset[str], service: Service, path: str) -> Finding:
    script = guess_script(files, service.approot)
    fix = f"create {path} with:\n{BOILERPLATE.format(script=script)}"
    fix += f"(or add `process: node {script}` to the service in dotcloud.yml)"
    if disk_of(app).is_file(path):
        message = (
            f"{path} is ignored by .gitignore or .dotcloudignore, so push leaves it out; service "
            f"{service.name} has no process or processes in dotcloud.yml, so nothing would start it"
        )
        fix = f"stop ignoring {path} in .gitignore or .dotcloudignore"
    else:
        message = (
            f"service {service.name} (type nodejs) has no {path} and no process or processes in "
            "dotcloud.yml, so nothing would start it"
        )
    return MISSING.finding(path, None, None, message, fix)


def _too_big(path: str, size: int) -> Finding:
    return SYNTAX.finding(
        path,
        None,
        None,
        f"is {size / (1 << 20):.1f} MiB, far too large for a supervisord.conf; it does not look "
        "like a configuration file",
        f"replace it with the usual three lines:\n{BOILERPLATE.format(script='server.js')}",
    )
